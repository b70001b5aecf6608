import { useCallback, useEffect, useMemo, useRef } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { api } from '../api.ts';
import { ConceptSection } from '../components/ConceptSection.tsx';
import { DownloadCsv } from '../components/DownloadCsv.tsx';
import { LiveBadge } from '../components/LiveBadge.tsx';
import { PulseChart } from '../components/PulseChart.tsx';
import { RangePicker } from '../components/RangePicker.tsx';
import { RecommendationList } from '../components/Recommendations.tsx';
import { Empty, ErrorNote, Loading } from '../components/States.tsx';
import { StudentTable } from '../components/StudentTable.tsx';
import { isNotFound } from '../errors.ts';
import { formatDay, num, pct } from '../format.ts';
import { useAsync, useDocumentTitle } from '../hooks.ts';
import { type LiveMessage, useLive } from '../live.ts';
import type { Range } from '../types.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DEBOUNCE_MS = 300;

/** The date window lives in the address (?from=&to=), so that a reload or a link keeps it. */
function useRange(): [Range, (r: Range) => void] {
  const [params, setParams] = useSearchParams();
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const range = useMemo(
    () => ({ from: DAY.test(from) ? from : '', to: DAY.test(to) ? to : '' }),
    [from, to],
  );
  const setRange = useCallback(
    (r: Range) => {
      const next = new URLSearchParams();
      if (r.from) next.set('from', r.from);
      if (r.to) next.set('to', r.to);
      setParams(next, { replace: true });
    },
    [setParams],
  );
  return [range, setRange];
}

function rangeText(r: Range): string {
  if (!r.from && !r.to) return 'all records';
  if (r.from && r.to) return `${formatDay(r.from)} to ${formatDay(r.to)}`;
  return r.from ? `from ${formatDay(r.from)}` : `up to ${formatDay(r.to)}`;
}

export function ClassPage() {
  const classId = useParams().classId ?? '';
  const [range, setRange] = useRange();
  useDocumentTitle(classId);

  const mastery = useAsync(
    (signal) => api.mastery(classId, range, { by: 'student', bucket: 'day' }, signal),
    [classId, range.from, range.to],
  );
  const recs = useAsync(
    (signal) => api.recommendations(classId, range, signal),
    [classId, range.from, range.to],
  );
  const concepts = useAsync((signal) => api.concepts(classId, signal), [classId]);
  const members = useAsync((signal) => api.members(classId, signal), [classId]);

  // Live updates: gather the messages of ~300 ms, then fetch what they touched.
  const pending = useRef(new Set<LiveMessage['type']>());
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const { reload: reloadMastery } = mastery;
  const { reload: reloadRecs } = recs;
  const { reload: reloadConcepts } = concepts;
  const refetch = useCallback(() => {
    const types = pending.current;
    pending.current = new Set();
    if (types.has('metrics')) {
      reloadMastery();
      reloadRecs();
    }
    if (types.has('events')) reloadConcepts();
  }, [reloadMastery, reloadRecs, reloadConcepts]);
  const onLive = useCallback(
    (m: LiveMessage) => {
      pending.current.add(m.type);
      clearTimeout(timer.current);
      timer.current = setTimeout(refetch, DEBOUNCE_MS);
    },
    [refetch],
  );
  useEffect(() => () => clearTimeout(timer.current), []);
  const live = useLive(classId, onLive);

  // Back after a dropped connection: whatever came meanwhile was not announced; fetch it all.
  const wasLive = useRef(false);
  useEffect(() => {
    if (live === 'live') {
      if (wasLive.current) {
        pending.current = new Set(['metrics', 'events']);
        refetch();
      }
      wasLive.current = true;
    }
  }, [live, refetch]);

  const names = useMemo(() => {
    const m = new Map<string, string>();
    for (const x of members.data ?? []) if (x.learner_id) m.set(x.learner_id, x.name);
    return m;
  }, [members.data]);

  const noRecords = isNotFound(mastery.error) && !mastery.data;
  const data = mastery.data;
  const total = data?.count ?? (noRecords ? 0 : null);

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <ol>
          <li>
            <Link to="/">Classes</Link>
          </li>
          <li aria-current="page">{classId}</li>
        </ol>
      </nav>
      <div className="page-head">
        <div>
          <h1>{classId}</h1>
          <p className="muted">Class pulse, recommendations, students and concepts.</p>
        </div>
        <div className="page-actions">
          <LiveBadge status={live} />
          <DownloadCsv classId={classId} range={range} />
        </div>
      </div>

      <section className="panel toolbar" aria-label="Range and totals">
        <RangePicker range={range} onChange={setRange} />
        <dl className="stats stats-wide" aria-live="polite">
          <div>
            <dt>Records</dt>
            <dd>
              <span data-testid="record-count" data-count={total ?? undefined}>
                {total ?? '…'}
              </span>
            </dd>
          </div>
          <div>
            <dt>Students</dt>
            <dd>{data ? data.students : noRecords ? 0 : '…'}</dd>
          </div>
          <div>
            <dt>Stuck rate</dt>
            <dd>{data ? pct(data.averages.stuck) : '—'}</dd>
          </div>
          <div>
            <dt>Got-it rate</dt>
            <dd>{data ? pct(data.averages.got_it) : '—'}</dd>
          </div>
          <div>
            <dt>Avg confidence</dt>
            <dd>{data ? num(data.averages.confidence) : '—'}</dd>
          </div>
        </dl>
        <p className="muted range-note">Showing {rangeText(range)} (UTC days).</p>
      </section>

      {mastery.error !== undefined && !noRecords && (
        <ErrorNote error={mastery.error} onRetry={mastery.reload} />
      )}

      <div className="pulse-grid">
        <section className="panel" aria-labelledby="pulse-heading">
          <h2 id="pulse-heading">Class pulse over time</h2>
          {!data && !noRecords && mastery.error === undefined && (
            <Loading label="Loading the class pulse…" lines={5} />
          )}
          {(noRecords || (data && (data.series?.length ?? 0) === 0)) && (
            <div data-testid="pulse-chart" data-points={0}>
              <Empty
                title={noRecords ? 'No records for this class yet.' : 'No records in this range.'}
              >
                <p>
                  {noRecords
                    ? 'Signals appear here as soon as they arrive.'
                    : 'Pick a wider range, or choose “All”.'}
                </p>
              </Empty>
            </div>
          )}
          {data?.series && data.series.length > 0 && (
            <PulseChart
              series={data.series}
              label={`Class pulse of ${classId}`}
              testId="pulse-chart"
            />
          )}
        </section>

        <section className="panel" aria-labelledby="recs-heading">
          <h2 id="recs-heading">Recommendations</h2>
          {recs.data ? (
            <RecommendationList items={recs.data.recommendations} />
          ) : isNotFound(recs.error) ? (
            <RecommendationList items={[]} />
          ) : recs.error !== undefined ? (
            <ErrorNote error={recs.error} onRetry={recs.reload} />
          ) : (
            <Loading label="Loading recommendations…" />
          )}
        </section>
      </div>

      <section className="panel" aria-labelledby="students-heading">
        <h2 id="students-heading">Students</h2>
        {data?.by_student && data.by_student.length > 0 ? (
          <StudentTable students={data.by_student} names={names} classId={classId} />
        ) : data || noRecords ? (
          <Empty title="No students with records in this range." />
        ) : mastery.error === undefined ? (
          <Loading label="Loading students…" />
        ) : null}
      </section>

      <ConceptSection classId={classId} state={concepts} />
    </>
  );
}
