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
import { fold, freshState, paramsFrom, step } from './mastery.model.ts';

/** Fewer attempts than this give parameters that say more about noise than about the concept. */
export const MIN_FIT_ATTEMPTS = 30;

type Attempt = repo.Attempt;

const readers = new WeakMap<SqliteHandle, ReturnType<typeof prepareReaders>>();
function prepareReaders(s: SqliteHandle) {
  return {
    attempts: s
      .prepare(
        'select user_id, concept_id, occurred_at, event_id, outcome from event_concepts ' +
          'where user_id >= ? and user_id <= ? and outcome is not null ' +
          'order by user_id, concept_id, occurred_at, event_id',
      )
      .raw(true),
    params: s.prepare('select * from concept_params'),
  };
}

/**
 * SQLite: the states of the learners from `first` to `last`, folded while the attempts stream
 * out of the index in replay order (a million attempts as objects would mostly feed the GC).
 */
function foldLearnersSqlite(
  sqlite: SqliteHandle,
  first: string,
  last: string,
): { states: ConceptMasteryTable[]; attempts: number } {
  let r = readers.get(sqlite);
  if (!r) readers.set(sqlite, (r = prepareReaders(sqlite)));
  const params = new Map(
    (r.params.all() as ConceptParamsTable[]).map((p) => [p.concept_id, paramsFrom(p)]),
  );
  const states: ConceptMasteryTable[] = [];
  let cur: ConceptMasteryTable | undefined;
  let p: BktParams = DEFAULT_BKT_PARAMS;
  let attempts = 0;
  for (const row of r.attempts.iterate(first, last) as Iterable<
    [string, string, string, string, number]
  >) {
    const [user_id, concept_id, occurredAt, eventId, outcome] = row;
    if (cur === undefined || cur.user_id !== user_id || cur.concept_id !== concept_id) {
      p = params.get(concept_id) ?? DEFAULT_BKT_PARAMS;
      cur = { user_id, concept_id, ...freshState(p) };
      states.push(cur);
    }
    step(cur, occurredAt, eventId, outcome, p);
    attempts++;
  }
  return { states, attempts };
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
    const ids = piece.userIds ?? (await repo.learnersPage(trx, piece.after, piece.chunk));
    if (ids.length === 0) return { last: null, learners: 0, concepts: 0, attempts: 0 };
    let out: ConceptMasteryTable[];
    let attempts: number;
    if (ctx.sqlite && piece.userIds === null) {
      const folded = foldLearnersSqlite(ctx.sqlite, ids[0]!, ids[ids.length - 1]!);
      out = folded.states;
      attempts = folded.attempts;
    } else {
      const all = await repo.attemptsOfLearners(trx, ids);
      const params = await repo.paramsOf(trx, [...new Set(all.map((a) => a.concept_id))]);
      out = foldRuns(all, (c) => paramsFrom(params.get(c)));
      attempts = all.length;
    }
    await repo.deleteMasteryOf(trx, ids);
    await store.saveMastery(trx, ctx, out);
    return { last: ids[ids.length - 1]!, learners: ids.length, concepts: out.length, attempts };
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
