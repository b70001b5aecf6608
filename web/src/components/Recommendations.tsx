import type { Priority, Recommendation } from '../types.ts';

const PRIORITY: Record<Priority, string> = {
  high: 'High priority',
  medium: 'Medium priority',
  low: 'Low priority',
};

export function PriorityBadge({ priority }: { priority: Priority }) {
  return (
    <span className={`badge badge-${priority}`}>
      <span className="badge-dot" aria-hidden="true" />
      {PRIORITY[priority]}
    </span>
  );
}

/** The compact form for class cards: titles with their priority. */
export function RecommendationBadges({ items }: { items: Recommendation[] }) {
  if (items.length === 0) return <p className="muted">No recommendations right now.</p>;
  return (
    <ul className="rec-badges" aria-label="Recommendations">
      {items.map((r) => (
        <li key={r.code} className={`rec-badge rec-${r.priority}`} data-code={r.code}>
          <span className="visually-hidden">{PRIORITY[r.priority]}: </span>
          <span className="rec-mark" aria-hidden="true">
            {r.priority === 'high' ? '!!' : r.priority === 'medium' ? '!' : 'i'}
          </span>
          {r.title}
        </li>
      ))}
    </ul>
  );
}

/** The full form: title, action, rationale and priority. */
export function RecommendationList({ items }: { items: Recommendation[] }) {
  return (
    <ul className="rec-list" data-testid="recommendations">
      {items.length === 0 && (
        <li className="empty">
          <p className="empty-title">No recommendations for this range.</p>
          <p className="muted">The class signals do not call for a change of plan.</p>
        </li>
      )}
      {items.map((r) => (
        <li key={r.code} className={`rec-card rec-${r.priority}`} data-code={r.code}>
          <div className="rec-head">
            <h3>{r.title}</h3>
            <PriorityBadge priority={r.priority} />
          </div>
          <p className="rec-action">{r.action}</p>
          <p className="rec-rationale">
            <span className="label">Why: </span>
            {r.rationale}
          </p>
        </li>
      ))}
    </ul>
  );
}
