import { Link, useLocation, useParams } from 'react-router-dom';
import { api } from '../api.ts';
import { EventTimeline } from '../components/EventTimeline.tsx';
import { PulseChart } from '../components/PulseChart.tsx';
import { Empty, ErrorNote, Loading } from '../components/States.tsx';
import { isNotFound } from '../errors.ts';
import { formatDateTime, num, pct, timeAgo } from '../format.ts';
import { useAsync, useDocumentTitle } from '../hooks.ts';
import type { ConceptMastery } from '../types.ts';

function MasteryMeter({ value }: { value: number }) {
  return (
    <span className="meter" aria-hidden="true">
      <span className="meter-fill" style={{ width: `${Math.max(0, Math.min(100, value))}%` }} />
    </span>
  );
}

function MasteryTable({ concepts }: { concepts: ConceptMastery[] }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-labelledby="mastery-heading">
      <table className="data-table" data-testid="learner-mastery">
        <thead>
          <tr>
            <th scope="col">Concept</th>
            <th scope="col" className="num">
              Mastery (BKT)
            </th>
            <th scope="col" className="num">
              Plain ratio
            </th>
            <th scope="col" className="num">
              Attempts
            </th>
            <th scope="col" className="num">
              Correct
            </th>
            <th scope="col">Mastered</th>
            <th scope="col">Last attempt</th>
          </tr>
        </thead>
        <tbody>
          {concepts.map((c) => (
            <tr key={c.concept_id} data-concept={c.concept_id}>
              <th scope="row">{c.concept_id}</th>
              <td className="num">
                <span className="mastery-cell">
                  <MasteryMeter value={c.mastery} />
                  {c.mastery}
                </span>
              </td>
              <td className="num">{Math.round(c.ratio)}</td>
              <td className="num">{c.attempts}</td>
              <td className="num">{Number.isInteger(c.correct) ? c.correct : num(c.correct)}</td>
              <td>
                {c.mastered ? (
                  <span className="outcome outcome-good">
                    <span aria-hidden="true">✓ </span>Mastered
                  </span>
                ) : (
                  <span className="muted">Not yet</span>
                )}
              </td>
              <td>
                <time dateTime={c.last_attempt_at} title={formatDateTime(c.last_attempt_at)}>
                  {timeAgo(c.last_attempt_at)}
                </time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function LearnerPage() {
  const userId = useParams().userId ?? '';
  const fromClass = (useLocation().state as { fromClass?: string } | null)?.fromClass;
  useDocumentTitle(`Learner ${userId}`);
  const mastery = useAsync((signal) => api.learnerMastery(userId, signal), [userId]);
  const pulse = useAsync(
    (signal) => api.learnerPulse(userId, { from: '', to: '' }, signal),
    [userId],
  );
  const p = pulse.data;

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <ol>
          <li>
            <Link to="/">Classes</Link>
          </li>
          {fromClass && (
            <li>
              <Link to={`/classes/${encodeURIComponent(fromClass)}`}>{fromClass}</Link>
            </li>
          )}
          <li aria-current="page">{userId}</li>
        </ol>
      </nav>
      <div className="page-head">
        <div>
          <h1>Learner {userId}</h1>
          <p className="muted">
            {p
              ? `${p.count} in-class signals; stuck ${pct(p.averages.stuck)}, got it ${pct(p.averages.got_it)}, average confidence ${num(p.averages.confidence)}.`
              : 'Concept mastery, in-class signals and learning events.'}
          </p>
        </div>
      </div>

      <section className="panel" aria-labelledby="mastery-heading">
        <h2 id="mastery-heading">Concept mastery</h2>
        <p className="muted">
          Mastery is the Bayesian knowledge tracing estimate (0–100) that the concept is known; the
          plain ratio is the share of correct attempts (0–100). Mastered means 95 or more.
        </p>
        {mastery.data && mastery.data.concepts.length > 0 ? (
          <MasteryTable concepts={mastery.data.concepts} />
        ) : mastery.data || isNotFound(mastery.error) ? (
          <Empty title="No concept attempts yet.">
            <p>Mastery appears once this learner attempts quizzes or assignments on a concept.</p>
          </Empty>
        ) : mastery.error !== undefined ? (
          <ErrorNote error={mastery.error} onRetry={mastery.reload} />
        ) : (
          <Loading label="Loading mastery…" />
        )}
      </section>

      <section className="panel" aria-labelledby="learner-pulse-heading">
        <h2 id="learner-pulse-heading">In-class signals over time</h2>
        {p && p.series.length > 0 ? (
          <PulseChart
            series={p.series}
            label={`In-class signals of ${userId}`}
            testId="learner-pulse-chart"
          />
        ) : p || isNotFound(pulse.error) ? (
          <div data-testid="learner-pulse-chart" data-points={0}>
            <Empty title="No in-class signals from this learner yet.">
              <p>Stuck, got it, pause and example taps from class show up here per day.</p>
            </Empty>
          </div>
        ) : pulse.error !== undefined ? (
          <ErrorNote error={pulse.error} onRetry={pulse.reload} />
        ) : (
          <Loading label="Loading signals…" lines={4} />
        )}
      </section>

      <section className="panel" aria-labelledby="events-heading">
        <h2 id="events-heading">Event timeline</h2>
        <EventTimeline userId={userId} />
      </section>
    </>
  );
}
