/**
 * Storing a flush of learning events: the write task of event intake's group commit. The log
 * append, the per-learner index, class membership and the mastery projection share one
 * transaction. Input crosses to the writer thread as stored rows, with the concepts and
 * outcomes in flat columns.
 */
import type { WriteContext } from '../../db/writer.ts';
import * as store from './learning.store.ts';
import type { ClassLearnerTable, EventConceptTable, LearningEventTable } from './learning.table.ts';
import { outcomeOf, type ValidEvent } from './learning.validation.ts';
import { applyAttempts } from './mastery.apply.ts';
import * as repo from './learning.repository.ts';

/** The events of several requests, as rows to store; request j ends before `ends[j]`. */
export interface PackedEvents {
  ends: number[];
  /** each event's index in its request */
  index: Int32Array;
  rows: LearningEventTable[];
  /** the event's concepts are concepts[conceptEnds[i-1] .. conceptEnds[i]) */
  concepts: string[];
  conceptEnds: Int32Array;
  /** the attempt's observation, NaN when the event is no attempt */
  outcome: Float64Array;
}

export interface JobResult {
  inserted: number;
  duplicates: number;
  conflicts: { index: number; id: string }[];
}

export interface WriteOutcome {
  results: JobResult[];
  /** events stored per class */
  perClass: Map<string, number>;
}

export function packEvents(
  jobs: { index: number; event: ValidEvent }[][],
  receivedAt: string,
): PackedEvents {
  let n = 0;
  for (const job of jobs) n += job.length;
  const p: PackedEvents = {
    ends: [],
    index: new Int32Array(n),
    rows: new Array<LearningEventTable>(n),
    concepts: [],
    conceptEnds: new Int32Array(n),
    outcome: new Float64Array(n),
  };
  let i = 0;
  for (const job of jobs) {
    for (const { index, event: e } of job) {
      p.index[i] = index;
      p.rows[i] = {
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
      for (const c of e.concept_ids) p.concepts.push(c);
      p.conceptEnds[i] = p.concepts.length;
      p.outcome[i] = outcomeOf(e) ?? NaN;
      i++;
    }
    p.ends.push(i);
  }
  return p;
}

/** At most this many (class, learner) pairs are remembered per database; then they start over. */
const KNOWN_LEARNERS_MAX = 100_000;

/**
 * The (class, learner) pairs each database is known to hold in class_learners, by its Kysely
 * instance. Nothing deletes those rows, so a pair stored once (by this writer or any other)
 * stays stored, and intake writes only the pairs it has not seen: an insert-or-ignore per
 * learner and flush cost about a tenth of event intake. A pair joins the set once its
 * transaction has committed.
 */
const knownLearners = new WeakMap<object, Set<string>>();

function knownLearnersOf(db: object): Set<string> {
  let known = knownLearners.get(db);
  if (!known) knownLearners.set(db, (known = new Set()));
  return known;
}

/**
 * Stores the events of several requests. The first copy of an id in the flush is stored if
 * the id is new; every later copy (and the first, when the id was stored already) is a
 * duplicate if its content is the stored event's, else a conflict.
 */
export async function writeEvents(ctx: WriteContext, p: PackedEvents): Promise<WriteOutcome> {
  const n = p.rows.length;
  const results: JobResult[] = p.ends.map(() => ({ inserted: 0, duplicates: 0, conflicts: [] }));
  const jobOf = new Int32Array(n);
  const candidates: number[] = [];
  const repeats: number[] = [];
  const firstOf = new Set<string>();
  let j = 0;
  for (let i = 0; i < n; i++) {
    while (i >= p.ends[j]!) j++;
    jobOf[i] = j;
    const id = p.rows[i]!.id;
    if (firstOf.has(id)) repeats.push(i);
    else {
      firstOf.add(id);
      candidates.push(i);
    }
  }
  const perClass = new Map<string, number>();
  const known = knownLearnersOf(ctx.db);
  const learners = new Map<string, ClassLearnerTable>();
  const judge = (i: number, stored: string | undefined) => {
    const res = results[jobOf[i]!]!;
    if (stored === p.rows[i]!.fingerprint) res.duplicates++;
    else res.conflicts.push({ index: p.index[i]!, id: p.rows[i]!.id });
  };

  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockMastery(trx, ctx.dialect);
    const stored = await store.storeEvents(
      trx,
      ctx,
      candidates.map((i) => p.rows[i]!),
    );
    const notStored = candidates.filter((_, k) => stored[k] === 0).map((i) => p.rows[i]!.id);
    const existing = notStored.length ? await repo.fingerprints(trx, notStored) : new Map();
    const keys: EventConceptTable[] = [];
    candidates.forEach((i, k) => {
      const e = p.rows[i]!;
      if (stored[k] === 0) return judge(i, existing.get(e.id));
      existing.set(e.id, e.fingerprint);
      results[jobOf[i]!]!.inserted++;
      const outcome = Number.isNaN(p.outcome[i]!) ? null : p.outcome[i]!;
      const from = i === 0 ? 0 : p.conceptEnds[i - 1]!;
      const to = p.conceptEnds[i]!;
      if (from === to) {
        keys.push({
          user_id: e.user_id,
          concept_id: '',
          occurred_at: e.occurred_at,
          event_id: e.id,
          outcome: null,
          lead: 1,
        });
      }
      for (let c = from; c < to; c++) {
        keys.push({
          user_id: e.user_id,
          concept_id: p.concepts[c]!,
          occurred_at: e.occurred_at,
          event_id: e.id,
          outcome,
          lead: c === from ? 1 : 0,
        });
      }
      if (e.class_id !== null) {
        perClass.set(e.class_id, (perClass.get(e.class_id) ?? 0) + 1);
        const pair = `${e.class_id}\u0000${e.user_id}`;
        if (!known.has(pair)) learners.set(pair, { class_id: e.class_id, user_id: e.user_id });
      }
    });
    for (const i of repeats) judge(i, existing.get(p.rows[i]!.id));
    await store.addKeys(trx, ctx, keys);
    await store.addClassLearners(trx, ctx, [...learners.values()]);
    await applyAttempts(
      trx,
      ctx,
      keys.filter((k): k is EventConceptTable & { outcome: number } => k.outcome !== null),
    );
  });
  if (known.size + learners.size > KNOWN_LEARNERS_MAX) known.clear();
  for (const pair of learners.keys()) known.add(pair);
  for (const r of results) r.conflicts.sort((a, b) => a.index - b.index);
  return { results, perClass };
}
