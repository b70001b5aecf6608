/**
 * Rebuilding the mastery projection from the log, and fitting a concept's BKT parameters:
 * write tasks of the intake writer, so that the heavy reads, the EM and the writes run off the
 * request thread. Each task is one transaction over a bounded piece (a chunk of learners, one
 * concept); intake batches queued meanwhile run between pieces.
 */
import type { SqliteHandle } from '../../db/sqlite.ts';
import type { WriteContext } from '../../db/writer.ts';
import { type BktParams, DEFAULT_BKT_PARAMS, fitBkt } from '../../models/bkt.ts';
import * as repo from './learning.repository.ts';
import * as store from './learning.store.ts';
import type { ConceptMasteryTable, ConceptParamsTable } from './learning.table.ts';
import { applyOutcome, fold, freshState, paramsFrom } from './mastery.model.ts';

/** Fewer attempts than this give parameters that say more about noise than about the concept. */
export const MIN_FIT_ATTEMPTS = 30;

type Attempt = repo.Attempt;

const readers = new WeakMap<SqliteHandle, ReturnType<typeof prepareReaders>>();
function prepareReaders(s: SqliteHandle) {
  // The SQLite better-sqlite3 bundles writes a REAL as text that reads back as the same
  // double; older releases wrote 15 digits, which would round scores in the rebuild.
  const third = s.prepare('select cast(1.0 / 3 as text)').pluck().get() as string;
  if (Number(third) !== 1 / 3) {
    throw new Error(
      `SQLite ${s.prepare('select sqlite_version()').pluck().get() as string} writes REALs ` +
        'as text too briefly for an exact mastery rebuild; use the SQLite better-sqlite3 bundles',
    );
  }
  return {
    // One row per (learner, concept): its outcomes in replay order as text (SQLite writes a
    // REAL with the digits that read back as the same double) and its last attempt in that
    // order, found by one seek, as "occurred_at \x01 event_id"; and the state stored now, if
    // any. A million attempts cross into JavaScript as a hundred thousand rows, not a million.
    pairs: s
      .prepare(
        'select user_id, concept_id, ' +
          "group_concat(outcome, ',' order by occurred_at, event_id), " +
          '(select l.occurred_at || char(1) || l.event_id from event_concepts l ' +
          'where l.user_id = e.user_id and l.concept_id = e.concept_id and l.outcome is not null ' +
          'order by l.occurred_at desc, l.event_id desc limit 1), ' +
          '(select m.attempts || char(1) || m.correct || char(1) || m.p_known || char(1) || ' +
          'm.last_attempt_at || char(1) || m.last_event_id from concept_mastery m ' +
          'where m.user_id = e.user_id and m.concept_id = e.concept_id) ' +
          'from event_concepts e where e.user_id > ? and e.outcome is not null ' +
          'group by e.user_id, e.concept_id order by e.user_id, e.concept_id',
      )
      .raw(true),
    params: s.prepare('select * from concept_params'),
  };
}

/**
 * Applies the comma-separated outcomes of `text` to a state, with `applyOutcome` as `step`
 * does one by one and in the same order, so the result is the incremental state's.
 */
function foldOutcomes(s: ConceptMasteryTable, text: string, p: BktParams): void {
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text.charCodeAt(i) !== 44) continue;
    // "0.0" and "1.0", the outcomes of right and wrong answers, without a parse.
    const c = text.charCodeAt(start);
    const outcome =
      i - start === 3 && text.charCodeAt(start + 2) === 48 && (c === 48 || c === 49)
        ? c - 48
        : Number(text.slice(start, i));
    applyOutcome(s, outcome, p);
    start = i + 1;
  }
}

/** Whether a stored state, as the reader's text, is exactly `s`. */
function sameState(stored: string | null, s: ConceptMasteryTable): boolean {
  if (stored === null) return false;
  const [attempts, correct, pKnown, lastAt, lastId] = stored.split('\x01');
  return (
    Number(attempts) === s.attempts &&
    Number(correct) === s.correct &&
    Number(pKnown) === s.p_known &&
    lastAt === s.last_attempt_at &&
    lastId === s.last_event_id
  );
}

/**
 * SQLite: the states of the next `chunk` learners with attempts after `after` (in id order),
 * folded from the log in one pass over its per-learner index. `states` are those that differ
 * from the stored ones; `pairs` counts them all.
 */
function foldLearnersSqlite(
  sqlite: SqliteHandle,
  after: string,
  chunk: number,
): { ids: string[]; states: ConceptMasteryTable[]; pairs: number; attempts: number } {
  let r = readers.get(sqlite);
  if (!r) readers.set(sqlite, (r = prepareReaders(sqlite)));
  const params = new Map(
    (r.params.all() as ConceptParamsTable[]).map((p) => [p.concept_id, paramsFrom(p)]),
  );
  const ids: string[] = [];
  const states: ConceptMasteryTable[] = [];
  let attempts = 0;
  let pairs = 0;
  type Row = [string, string, string, string, string | null];
  for (const row of r.pairs.iterate(after) as Iterable<Row>) {
    const [user_id, concept_id, outcomes, last, stored] = row;
    if (ids[ids.length - 1] !== user_id) {
      // The iterator stops the statement when the loop leaves it.
      if (ids.length === chunk) break;
      ids.push(user_id);
    }
    const p = params.get(concept_id) ?? DEFAULT_BKT_PARAMS;
    const sep = last.indexOf('\x01');
    const state: ConceptMasteryTable = {
      user_id,
      concept_id,
      ...freshState(p),
      last_attempt_at: last.slice(0, sep),
      last_event_id: last.slice(sep + 1),
    };
    foldOutcomes(state, outcomes, p);
    attempts += state.attempts;
    pairs++;
    if (!sameState(stored, state)) states.push(state);
  }
  return { ids, states, pairs, attempts };
}

/** Folds attempts in replay order, grouped by (learner, concept), into states. */
function foldRuns(
  attempts: Attempt[],
  paramsOf: (conceptId: string) => BktParams,
): ConceptMasteryTable[] {
  const out: ConceptMasteryTable[] = [];
  let i = 0;
  while (i < attempts.length) {
    const { user_id, concept_id } = attempts[i]!;
    let j = i + 1;
    while (
      j < attempts.length &&
      attempts[j]!.user_id === user_id &&
      attempts[j]!.concept_id === concept_id
    )
      j++;
    out.push({
      user_id,
      concept_id,
      ...fold(undefined, attempts.slice(i, j), paramsOf(concept_id)),
    });
    i = j;
  }
  return out;
}

export interface RebuildPiece {
  /** rebuild exactly these learners (ids in order), or null: the next chunk after `after` */
  userIds: string[] | null;
  after: string | null;
  chunk: number;
}

export interface RebuildResult {
  /** the chunk's last learner id, to go on after (null: no learner was left) */
  last: string | null;
  learners: number;
  concepts: number;
  attempts: number;
}

/** Rebuilds the states of a chunk of learners from the log (replacing what is stored). */
export async function rebuildMastery(
  ctx: WriteContext,
  piece: RebuildPiece,
): Promise<RebuildResult> {
  return ctx.db.transaction().execute(async (trx) => {
    await repo.lockMastery(trx, ctx.dialect);
    let ids: string[];
    let out: ConceptMasteryTable[];
    let pairs: number;
    let attempts: number;
    if (ctx.sqlite && piece.userIds === null) {
      const folded = foldLearnersSqlite(ctx.sqlite, piece.after ?? '', piece.chunk);
      ({ ids, states: out, pairs, attempts } = folded);
    } else {
      ids = piece.userIds ?? (await repo.learnersPage(trx, piece.after, piece.chunk));
      const all = ids.length ? await repo.attemptsOfLearners(trx, ids) : [];
      const params = await repo.paramsOf(trx, [...new Set(all.map((a) => a.concept_id))]);
      out = foldRuns(all, (c) => paramsFrom(params.get(c)));
      pairs = out.length;
      attempts = all.length;
    }
    const last = ids.length ? ids[ids.length - 1]! : null;
    // The piece's learners: these ids, or every id in its range (a learner in it may have no
    // attempt left at all); the last piece covers the rest of the ids.
    const learners = piece.userIds ?? { after: piece.after, last };
    // States that differ from the stored ones (on SQLite; all of them otherwise).
    await store.saveMastery(trx, ctx, out);
    // Every pair folded has its state stored now: any other stored state is stale.
    if ((await repo.countMastery(trx, learners)) > pairs) {
      await repo.deleteStaleMastery(trx, learners);
    }
    if (ids.length === 0) return { last: null, learners: 0, concepts: 0, attempts: 0 };
    return { last, learners: ids.length, concepts: pairs, attempts };
  });
}

export type FitOutcome =
  | { status: 'fitted'; params: BktParams; row: Parameters<typeof repo.saveParams>[1] }
  | { status: 'no_attempts' }
  | { status: 'too_few'; attempts: number };

/**
 * Fits a concept's BKT parameters by EM over every learner's attempt sequence, stores them,
 * and replays the concept's states with them, so the projection stays what a rebuild gives.
 */
export async function fitConcept(ctx: WriteContext, conceptId: string): Promise<FitOutcome> {
  return ctx.db.transaction().execute(async (trx): Promise<FitOutcome> => {
    await repo.lockMastery(trx, ctx.dialect);
    const attempts = await repo.attemptsOfConcept(trx, conceptId);
    if (attempts.length === 0) return { status: 'no_attempts' };
    if (attempts.length < MIN_FIT_ATTEMPTS) return { status: 'too_few', attempts: attempts.length };
    const sequences: number[][] = [];
    let last: string | null = null;
    for (const a of attempts) {
      if (a.user_id !== last) sequences.push([]);
      sequences[sequences.length - 1]!.push(a.outcome >= 0.5 ? 1 : 0);
      last = a.user_id;
    }
    const fit = fitBkt(sequences);
    const row = {
      concept_id: conceptId,
      ...fit.params,
      sequences: fit.sequences,
      attempts: fit.attempts,
      log_likelihood: fit.logLikelihood,
      fit_ms: Math.round(fit.ms * 100) / 100,
      fitted_at: new Date().toISOString(),
    };
    await repo.saveParams(trx, row);
    await store.saveMastery(
      trx,
      ctx,
      foldRuns(attempts, () => fit.params),
    );
    return { status: 'fitted', params: fit.params, row };
  });
}
