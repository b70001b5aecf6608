import type { Kysely } from 'kysely';
import { BatchWriter } from '../../db/batch-writer.ts';
import type { Database } from '../../db/schema.ts';
import type { Writer } from '../../db/writer.ts';
import { AppError, badRequest, notFound } from '../../http/errors.ts';
import { UUID_RE } from '../../http/input.ts';
import { windowOf } from '../../http/window.ts';
import { canonicalInstant } from '../../models/time.ts';
import type { WritePermit } from '../../http/access.ts';
import type { FieldError } from '../pulse/pulse.validation.ts';
import { type JobResult, packEvents } from './events.write.ts';
import * as repo from './learning.repository.ts';
import type { LearningEvent } from './learning.table.ts';
import { type ValidEvent, validateEvent } from './learning.validation.ts';

export interface EventIntakeResult {
  inserted: number;
  duplicates: number;
  conflicts: { index: number; id: string }[];
  rejected: { index: number; errors: FieldError[] }[];
  /** the id of each event of the request, by index (null where rejected) */
  ids: (string | null)[];
}

type Job = { index: number; event: ValidEvent }[];

function eventsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (typeof body === 'object' && body !== null && 'events' in body) {
    const events = (body as { events: unknown }).events;
    if (!Array.isArray(events)) {
      throw new AppError(400, 'invalid_request', 'events must be an array', [
        { field: 'events', message: 'must be an array' },
      ]);
    }
    return events;
  }
  if (typeof body === 'object' && body !== null) return [body];
  throw new AppError(
    400,
    'invalid_request',
    'The body must be an event, an array or {"events": [...]}',
    [{ field: 'body', message: 'must be a JSON object or array' }],
  );
}

export interface HistoryParams {
  order?: 'asc' | 'desc';
  type?: string;
  concept_id?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

function encodeCursor(e: { occurred_at: string; id: string }): string {
  return Buffer.from(JSON.stringify([e.occurred_at, e.id])).toString('base64url');
}

function decodeCursor(c: string): { occurred_at: string; id: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      // What a cursor of ours holds: a stored instant and an event id, nothing else.
      canonicalInstant(v[0]) !== undefined &&
      UUID_RE.test(v[1])
    ) {
      return { occurred_at: v[0], id: v[1] };
    }
  } catch {
    // falls through: not a cursor of ours
  }
  return null;
}

export function eventView(r: LearningEvent) {
  return {
    id: r.id,
    event_type: r.event_type,
    user_id: r.user_id,
    class_id: r.class_id,
    course_id: r.course_id,
    lesson_id: r.lesson_id,
    concept_ids: r.concept_ids === null ? [] : (JSON.parse(r.concept_ids) as string[]),
    correct: r.correct === null ? null : r.correct === 1,
    score: r.score,
    duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
    occurred_at: r.occurred_at,
    received_at: r.received_at,
    context: r.context === null ? null : (JSON.parse(r.context) as Record<string, unknown>),
  };
}

/** Event intake: the log append and every projection update share one transaction. */
export class EventsService {
  private readonly writer: BatchWriter<Job, JobResult>;

  constructor(
    private readonly db: Kysely<Database>,
    writer: Writer,
    private readonly maxEvents: number,
    /** told, after each commit, how many events each class got */
    onCommitted?: (perClass: Map<string, number>) => void,
  ) {
    this.writer = new BatchWriter({
      write: async (jobs, stored) => {
        const packed = packEvents(jobs, new Date().toISOString());
        const out = await writer.run('learning.events', packed, stored);
        if (out.perClass.size > 0) onCommitted?.(out.perClass);
        return out.results;
      },
      sizeOf: (job) => job.length,
      maxBatchSize: 50_000,
    });
  }

  /** `permit` refuses events the caller may not write; they are reported by index. */
  async ingest(body: unknown, permit?: WritePermit): Promise<EventIntakeResult> {
    const items = eventsOf(body);
    if (items.length === 0) throw new AppError(422, 'no_events', 'The request holds no events');
    if (items.length > this.maxEvents) {
      throw new AppError(
        413,
        'too_many_events',
        `At most ${this.maxEvents} events per request; this one has ${items.length}`,
      );
    }
    const now = new Date().toISOString();
    const job: Job = [];
    const rejected: EventIntakeResult['rejected'] = [];
    const ids: (string | null)[] = items.map(() => null);
    items.forEach((item, index) => {
      const v = validateEvent(item, now);
      if (!v.ok) return void rejected.push({ index, errors: v.errors });
      const denial = permit?.(v.event.class_id, v.event.user_id);
      if (denial) return void rejected.push({ index, errors: [denial] });
      job.push({ index, event: v.event });
      ids[index] = v.event.id;
    });
    if (job.length === 0) {
      throw new AppError(422, 'all_events_rejected', 'No event was valid; nothing was stored', {
        inserted: 0,
        duplicates: 0,
        conflicts: [],
        rejected,
      });
    }
    const r = await this.writer.submit(job);
    return { ...r, rejected, ids };
  }

  close(): Promise<void> {
    return this.writer.drain();
  }

  /** One event; one whose learner the caller may not see is "not found", like a missing one. */
  async get(id: string, canSee: (learnerId: string) => Promise<boolean> = async () => true) {
    const row = UUID_RE.test(id) ? await repo.getEvent(this.db, id.toLowerCase()) : undefined;
    if (!row || !(await canSee(row.user_id))) {
      throw notFound(`No event with id ${JSON.stringify(id)}`);
    }
    return eventView(row);
  }

  /**
   * A page of a learner's events. The cursor is the (occurred_at, id) of the last event
   * returned; paging by that key neither skips nor repeats events while new ones arrive.
   */
  async history(userId: string, q: HistoryParams) {
    const w = windowOf(q);
    const order = q.order ?? 'desc';
    let after: { occurred_at: string; id: string } | null = null;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor);
      if (!after) throw badRequest('cursor', 'is not a cursor this endpoint returned');
    }
    const limit = q.limit ?? 100;
    const rows = await repo.history(this.db, {
      userId,
      order,
      type: q.type,
      conceptId: q.concept_id,
      from: w.from,
      to: w.to,
      after,
      limit: limit + 1,
    });
    if (rows.length === 0 && after === null && !(await repo.learnerExists(this.db, userId))) {
      throw notFound(`Learner ${JSON.stringify(userId)} has no events`);
    }
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      user_id: userId,
      events: page.map(eventView),
      next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }
}
