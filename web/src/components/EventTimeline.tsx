import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { isNotFound } from '../errors.ts';
import { formatDateTime, formatDuration } from '../format.ts';
import type { LearningEvent } from '../types.ts';
import { Empty, ErrorNote, Loading } from './States.tsx';

const TYPE_NAMES: Record<string, string> = {
  quiz_attempt: 'Quiz attempt',
  video_watched: 'Video watched',
  assignment_submitted: 'Assignment submitted',
  lesson_started: 'Lesson started',
  lesson_completed: 'Lesson completed',
  hint_requested: 'Hint requested',
};

const typeName = (t: string) =>
  TYPE_NAMES[t] ??
  t
    .replace(/^x-/, '')
    .replace(/[_.-]+/g, ' ')
    .replace(/^./, (c) => c.toUpperCase());

function Outcome({ e }: { e: LearningEvent }) {
  if (e.correct === true) {
    return (
      <span className="outcome outcome-good">
        <span aria-hidden="true">✓ </span>Correct
      </span>
    );
  }
  if (e.correct === false) {
    return (
      <span className="outcome outcome-bad">
        <span aria-hidden="true">✗ </span>Incorrect
      </span>
    );
  }
  if (e.score !== null) return <span className="outcome">Score {Math.round(e.score * 100)}%</span>;
  return null;
}

interface State {
  events: LearningEvent[];
  next: string | null;
  loading: boolean;
  error: unknown;
}

/** A learner's events, newest first, a page at a time. */
export function EventTimeline({ userId }: { userId: string }) {
  const [state, setState] = useState<State>({ events: [], next: null, loading: true, error: null });
  const ctl = useRef<AbortController | null>(null);

  const load = useCallback(
    async (cursor: string | null) => {
      ctl.current?.abort();
      const c = new AbortController();
      ctl.current = c;
      setState((s) => ({ ...s, loading: true, error: null }));
      try {
        const page = await api.learnerEvents(userId, cursor, c.signal);
        if (c.signal.aborted) return;
        setState((s) => ({
          events: cursor ? [...s.events, ...page.events] : page.events,
          next: page.next_cursor,
          loading: false,
          error: null,
        }));
      } catch (error) {
        if (!c.signal.aborted) setState((s) => ({ ...s, loading: false, error }));
      }
    },
    [userId],
  );

  useEffect(() => {
    setState({ events: [], next: null, loading: true, error: null });
    void load(null);
    return () => ctl.current?.abort();
  }, [load]);

  const { events, next, loading, error } = state;
  const none = events.length === 0;

  return (
    <div data-testid="event-timeline" data-events={events.length}>
      {none && loading && <Loading label="Loading events…" />}
      {none && !loading && (error === null || isNotFound(error)) && (
        <Empty title="No learning events yet.">
          <p>Quiz attempts, videos, lessons and assignments show up here as they are recorded.</p>
        </Empty>
      )}
      {error !== null && !isNotFound(error) && (
        <ErrorNote error={error} onRetry={() => void load(none ? null : next)} />
      )}
      {!none && (
        <ol className="timeline">
          {events.map((e) => (
            <li key={e.id} className="timeline-item">
              <time dateTime={e.occurred_at} className="timeline-time">
                {formatDateTime(e.occurred_at)}
              </time>
              <div className="timeline-body">
                <p className="timeline-title">
                  <strong>{typeName(e.event_type)}</strong> <Outcome e={e} />
                </p>
                <p className="timeline-meta">
                  {e.concept_ids.length > 0 && (
                    <span>
                      {e.concept_ids.length === 1 ? 'Concept' : 'Concepts'}:{' '}
                      {e.concept_ids.join(', ')}
                    </span>
                  )}
                  {e.class_id && <span>Class: {e.class_id}</span>}
                  {e.lesson_id && <span>Lesson: {e.lesson_id}</span>}
                  {e.duration_ms !== null && <span>Took {formatDuration(e.duration_ms)}</span>}
                </p>
              </div>
            </li>
          ))}
        </ol>
      )}
      <p className="visually-hidden" role="status">
        {none ? '' : `${events.length} events shown${next ? '; more are available' : ''}.`}
      </p>
      {!none && next && (
        <button
          type="button"
          className="btn load-more"
          onClick={() => void load(next)}
          disabled={loading}
        >
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
      {!none && !next && !loading && <p className="muted end-note">That is every event.</p>}
    </div>
  );
}
