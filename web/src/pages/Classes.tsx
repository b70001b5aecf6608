import { Link } from 'react-router-dom';
import { api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { RecommendationBadges } from '../components/Recommendations.tsx';
import { Empty, ErrorNote, Loading } from '../components/States.tsx';
import { addDays, count, formatDateTime, timeAgo, todayUtc } from '../format.ts';
import { useAsync, useDocumentTitle } from '../hooks.ts';
import type { ClassInfo } from '../types.ts';

function ClassCard({ info }: { info: ClassInfo }) {
  const week = useAsync(
    (signal) => api.mastery(info.class_id, { from: addDays(todayUtc(), -6), to: '' }, {}, signal),
    [info.class_id],
  );
  const recs = useAsync(
    (signal) => api.recommendations(info.class_id, { from: '', to: '' }, signal),
    [info.class_id],
  );
  const href = `/classes/${encodeURIComponent(info.class_id)}`;

  return (
    <li className="class-card" data-testid={`class-card-${info.class_id}`}>
      <h2 className="class-card-title">
        <Link to={href}>{info.class_id}</Link>
      </h2>
      <dl className="stats">
        <div>
          <dt>Students</dt>
          <dd data-testid="class-students">{count(info.students)}</dd>
        </div>
        <div>
          <dt>Records, last 7 days</dt>
          <dd data-testid="class-week-records">
            {week.data ? count(week.data.count) : week.error ? '—' : '…'}
          </dd>
        </div>
        <div>
          <dt>Last activity</dt>
          <dd>
            <time dateTime={info.last_ts} title={formatDateTime(info.last_ts)}>
              {timeAgo(info.last_ts)}
            </time>
          </dd>
        </div>
      </dl>
      <div className="class-card-recs">
        <h3 className="small-heading">Recommendations</h3>
        {recs.data ? (
          <RecommendationBadges items={recs.data.recommendations} />
        ) : recs.error ? (
          <p className="muted">Recommendations could not be loaded.</p>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
      <p className="class-card-foot">
        <Link to={href} className="more-link" aria-label={`Open ${info.class_id}`}>
          Open class <span aria-hidden="true">→</span>
        </Link>
      </p>
    </li>
  );
}

export function ClassesPage() {
  const { me } = useAuth();
  const learnerId = me?.user?.role === 'learner' ? me.user.learner_id : null;
  const isLearner = me?.user?.role === 'learner';
  const classes = useAsync(
    (signal) => (isLearner ? Promise.resolve([]) : api.classes(signal)),
    [isLearner],
  );
  useDocumentTitle('Classes');

  if (isLearner) {
    return (
      <>
        <h1>Welcome, {me?.user?.name}</h1>
        <p>Class overviews are for teachers and administrators.</p>
        {learnerId && (
          <p>
            <Link to={`/learners/${encodeURIComponent(learnerId)}`}>See your own progress</Link>
          </p>
        )}
      </>
    );
  }

  const list = classes.data;
  const who = me?.user;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Classes</h1>
          <p className="muted">
            {who ? `Signed in as ${who.name}${who.email ? ` (${who.email})` : ''}. ` : ''}
            Counts are in UTC days.
          </p>
        </div>
      </div>
      {classes.error !== undefined && !list && (
        <ErrorNote error={classes.error} onRetry={classes.reload} />
      )}
      {!list && classes.error === undefined && <Loading label="Loading classes…" lines={4} />}
      {list && list.length === 0 && (
        <Empty title="No classes yet…">
          <p>
            Classes appear here once their first in-class signals arrive, or once an administrator
            adds you to a class.
          </p>
        </Empty>
      )}
      {list && list.length > 0 && (
        <ul className="class-grid" data-testid="class-list">
          {list.map((c) => (
            <ClassCard key={c.class_id} info={c} />
          ))}
        </ul>
      )}
    </>
  );
}
