import type { Kysely } from 'kysely';
import { BatchWriter } from '../../db/batch-writer.ts';
import type { Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import { AppError, badRequest, notFound } from '../../http/errors.ts';
import { UUID_RE } from '../../http/input.ts';
import { windowOf } from '../../http/window.ts';
import type { WritePermit } from '../../http/access.ts';
import type { FieldError } from '../pulse/pulse.validation.ts';
import * as repo from './learning.repository.ts';
import type {
  ClassLearnerTable,
  EventConceptTable,
  LearningEvent,
  LearningEventTable,
} from './learning.table.ts';
import { outcomeOf, type ValidEvent, validateEvent } from './learning.validation.ts';
import type { MasteryService } from './mastery.service.ts';

export interface EventIntakeResult {
  inserted: number;
  duplicates: number;
  conflicts: { index: number; id: string }[];
  rejected: { index: number; errors: FieldError[] }[];
  /** the id of each event of the request, by index (null where rejected) */
  ids: (string | null)[];
}

type Job = { index: number; event: ValidEvent }[];
type JobResult = {
  inserted: number;
  duplicates: number;
  conflicts: { index: number; id: string }[];
};

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
      typeof v[1] === 'string'
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

function row(e: ValidEvent, receivedAt: string): LearningEventTable {
  return {
    id: e.id,
    event_type: e.event_type,
    user_id: e.user_id,
    class_id: e.class_id,
    course_id: e.course_id,
    lesson_id: e.lesson_id,
    concept_ids: e.concept_ids.length ? JSON.stringify(e.concept_ids) : null,
    correct: e.correct === null ? null : e.correct ? 1 : 0,
    score: e.score,
    duration_ms: e.duration_ms,
    occurred_at: e.occurred_at,
    received_at: receivedAt,
    context: e.context === null ? null : JSON.stringify(e.context),
    fingerprint: e.fingerprint,
  };
}

/** Event intake: the log append and every projection update share one transaction. */
export class EventsService {
  private readonly writer: BatchWriter<Job, JobResult>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly mastery: MasteryService,
    private readonly maxEvents: number,
    /** told, after each commit, how many events each class got */
    private readonly onCommitted?: (perClass: Map<string, number>) => void,
  ) {
    this.writer = new BatchWriter({
      write: (jobs) => this.write(jobs),
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

  private async write(jobs: Job[]): Promise<JobResult[]> {
    const results: JobResult[] = jobs.map(() => ({ inserted: 0, duplicates: 0, conflicts: [] }));
    // The first copy of an id in the flush is stored if the id is new; every later copy (and the
    // first, when the id was already stored) is judged against what the log then holds.
    const first = new Map<string, ValidEvent>();
    const candidates: { job: number; index: number; event: ValidEvent }[] = [];
    const repeats: { job: number; index: number; event: ValidEvent }[] = [];
    jobs.forEach((job, j) => {
      for (const { index, event } of job) {
        if (!first.has(event.id)) {
          first.set(event.id, event);
          candidates.push({ job: j, index, event });
        } else repeats.push({ job: j, index, event });
      }
    });
    const judge = (
      c: { job: number; index: number; event: ValidEvent },
      stored: string | undefined,
    ) => {
      const res = results[c.job]!;
      if (stored === c.event.fingerprint) res.duplicates++;
      else res.conflicts.push({ index: c.index, id: c.event.id });
    };

    const perClass = new Map<string, number>();
    await this.db.transaction().execute(async (trx) => {
      perClass.clear(); // a retried transaction counts afresh
      const receivedAt = new Date().toISOString();
      const stored = await repo.insertEvents(
        trx,
        this.dialect,
        candidates.map((c) => row(c.event, receivedAt)),
      );
      const notStored = candidates.filter((c) => !stored.has(c.event.id)).map((c) => c.event.id);
      const existing = notStored.length
        ? await repo.fingerprints(trx, notStored)
        : new Map<string, string>();
      for (const c of candidates)
        if (stored.has(c.event.id)) existing.set(c.event.id, c.event.fingerprint);
      for (const r of repeats) judge(r, existing.get(r.event.id));
      const concepts: EventConceptTable[] = [];
      const learners = new Map<string, ClassLearnerTable>();
      for (const c of candidates) {
        const res = results[c.job]!;
        if (!stored.has(c.event.id)) {
          judge(c, existing.get(c.event.id));
          continue;
        }
        res.inserted++;
        const e = c.event;
        const outcome = outcomeOf(e);
        for (const concept of e.concept_ids) {
          concepts.push({
            user_id: e.user_id,
            concept_id: concept,
            occurred_at: e.occurred_at,
            event_id: e.id,
            outcome,
          });
        }
        if (e.class_id !== null) {
          perClass.set(e.class_id, (perClass.get(e.class_id) ?? 0) + 1);
          const key = `${e.class_id}\u0000${e.user_id}`;
          const l = learners.get(key);
          if (!l || l.last_event_at < e.occurred_at) {
            learners.set(key, {
              class_id: e.class_id,
              user_id: e.user_id,
              last_event_at: e.occurred_at,
            });
          }
        }
      }
      await repo.insertEventConcepts(trx, this.dialect, concepts);
      await repo.touchClassLearners(trx, this.dialect, [...learners.values()]);
      await this.mastery.apply(
        trx,
        concepts.filter((c): c is EventConceptTable & { outcome: number } => c.outcome !== null),
      );
    });
    for (const r of results) r.conflicts.sort((a, b) => a.index - b.index);
    if (perClass.size > 0) this.onCommitted?.(perClass);
    return results;
  }
}
