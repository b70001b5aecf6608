import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { Dialect } from '../../db/dialect.ts';
import { precompiled } from '../../db/precompiled.ts';
import type { Database } from '../../db/schema.ts';
import type { ConceptMastery, ConceptParamsTable, LearningEvent } from './learning.table.ts';

type Q = Kysely<Database>;

/** The advisory lock of the mastery projection on PostgreSQL: this key and the schema's hash. */
const MASTERY_LOCK = 73_492_011;

/**
 * PostgreSQL: holds the mastery projection's lock (one per schema) until the transaction
 * ends. Every write of the projection reads states, folds attempts into them and writes them
 * back; intake, rebuilds and fits take the lock first, so that none of them, in this process
 * or another, writes over states another has just changed. SQLite's write lock does this by
 * itself.
 */
export async function lockMastery(q: Q, dialect: Dialect): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(${MASTERY_LOCK}, hashtext(current_schema()))`.execute(q);
}

export async function fingerprints(q: Q, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await q
      .selectFrom('learning_events')
      .select(['id', 'fingerprint'])
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.id, r.fingerprint);
  }
  return out;
}

export interface Attempt {
  user_id: string;
  concept_id: string;
  occurred_at: string;
  event_id: string;
  outcome: number;
}

/** Every attempt of the given learners (all concepts), in replay order. */
export async function attemptsOfLearners(q: Q, userIds: string[]): Promise<Attempt[]> {
  if (userIds.length === 0) return [];
  return (await q
    .selectFrom('event_concepts')
    .select(['user_id', 'concept_id', 'occurred_at', 'event_id', 'outcome'])
    .where('user_id', 'in', userIds)
    .where('outcome', 'is not', null)
    .orderBy('user_id')
    .orderBy('concept_id')
    .orderBy('occurred_at')
    .orderBy('event_id')
    .execute()) as Attempt[];
}

/**
 * Every learner's attempts on one concept, grouped by learner, in replay order. The learners
 * come from the concept's mastery rows, each one's attempts from its run of the index.
 */
export async function attemptsOfConcept(q: Q, conceptId: string): Promise<Attempt[]> {
  return (await q
    .selectFrom('concept_mastery as m')
    .innerJoin('event_concepts as c', (j) =>
      j.onRef('c.user_id', '=', 'm.user_id').onRef('c.concept_id', '=', 'm.concept_id'),
    )
    .select(['c.user_id', 'c.concept_id', 'c.occurred_at', 'c.event_id', 'c.outcome'])
    .where('m.concept_id', '=', conceptId)
    .where('c.outcome', 'is not', null)
    .orderBy('c.user_id')
    .orderBy('c.occurred_at')
    .orderBy('c.event_id')
    .execute()) as Attempt[];
}

export async function conceptHasAttempts(q: Q, conceptId: string): Promise<boolean> {
  const row = await q
    .selectFrom('concept_mastery')
    .select('user_id')
    .where('concept_id', '=', conceptId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function conceptsWithAttempts(q: Q): Promise<string[]> {
  const rows = await q
    .selectFrom('concept_mastery')
    .select('concept_id')
    .distinct()
    .orderBy('concept_id')
    .execute();
  return rows.map((r) => r.concept_id);
}

/** Learner ids after `after`, in order, for chunked work over all learners. */
export async function learnersPage(q: Q, after: string | null, limit: number): Promise<string[]> {
  let query = q
    .selectFrom('event_concepts')
    .select('user_id')
    .distinct()
    .where('outcome', 'is not', null)
    .orderBy('user_id')
    .limit(limit);
  if (after !== null) query = query.where('user_id', '>', after);
  return (await query.execute()).map((r) => r.user_id);
}

/** Learners listed, or with ids in (after, last] (null: no bound on that side). */
export type LearnerSet = string[] | { after: string | null; last: string | null };

function ofLearners(learners: LearnerSet) {
  return (eb: ExpressionBuilder<Database, 'concept_mastery'>) => {
    if (Array.isArray(learners)) return eb('user_id', 'in', learners);
    const bounds = [];
    if (learners.after !== null) bounds.push(eb('user_id', '>', learners.after));
    if (learners.last !== null) bounds.push(eb('user_id', '<=', learners.last));
    return eb.and(bounds);
  };
}

/** How many states the learners have stored. */
export async function countMastery(q: Q, learners: LearnerSet): Promise<number> {
  if (Array.isArray(learners) && learners.length === 0) return 0;
  const row = await q
    .selectFrom('concept_mastery')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(ofLearners(learners))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Deletes the states of the learners whose (learner, concept) has no attempt left in the log.
 * A rebuild writes every other state over the stored one.
 */
export async function deleteStaleMastery(q: Q, learners: LearnerSet): Promise<void> {
  if (Array.isArray(learners) && learners.length === 0) return;
  await q
    .deleteFrom('concept_mastery')
    .where(ofLearners(learners))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('event_concepts as e')
            .select('e.user_id')
            .whereRef('e.user_id', '=', 'concept_mastery.user_id')
            .whereRef('e.concept_id', '=', 'concept_mastery.concept_id')
            .where('e.outcome', 'is not', null),
        ),
      ),
    )
    .execute();
}

export async function paramsOf(
  q: Q,
  conceptIds: string[],
): Promise<Map<string, ConceptParamsTable>> {
  const out = new Map<string, ConceptParamsTable>();
  for (let i = 0; i < conceptIds.length; i += 500) {
    const rows = await q
      .selectFrom('concept_params')
      .selectAll()
      .where('concept_id', 'in', conceptIds.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.concept_id, r);
  }
  return out;
}

export async function saveParams(q: Q, row: ConceptParamsTable): Promise<void> {
  const { concept_id: _, ...rest } = row;
  await q
    .insertInto('concept_params')
    .values(row)
    .onConflict((oc) => oc.column('concept_id').doUpdateSet(rest))
    .execute();
}

export async function getEvent(q: Q, id: string): Promise<LearningEvent | undefined> {
  return q.selectFrom('learning_events').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function learnerExists(q: Q, userId: string): Promise<boolean> {
  const row = await q
    .selectFrom('event_concepts')
    .select('event_id')
    .where('user_id', '=', userId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

// A learner's page reads it on every visit: compiled once (see db/precompiled.ts).
const masteryOfLearnerQuery = precompiled((q: Q, userId: string, conceptId: string | null) => {
  let query = q.selectFrom('concept_mastery').selectAll().where('user_id', '=', userId);
  if (conceptId !== null) query = query.where('concept_id', '=', conceptId);
  return query.orderBy('concept_id');
});

export async function masteryOfLearner(
  q: Q,
  userId: string,
  conceptId?: string,
): Promise<ConceptMastery[]> {
  return masteryOfLearnerQuery(q, userId, conceptId ?? null);
}

export async function learnersOfClass(q: Q, classId: string): Promise<string[]> {
  const rows = await q
    .selectFrom('class_learners')
    .select('user_id')
    .where('class_id', '=', classId)
    .orderBy('user_id')
    .execute();
  return rows.map((r) => r.user_id);
}

export async function masteryOfLearners(q: Q, userIds: string[]): Promise<ConceptMastery[]> {
  const out: ConceptMastery[] = [];
  for (let i = 0; i < userIds.length; i += 500) {
    out.push(
      ...(await q
        .selectFrom('concept_mastery')
        .selectAll()
        .where('user_id', 'in', userIds.slice(i, i + 500))
        .execute()),
    );
  }
  return out;
}

export interface HistoryQuery {
  userId: string;
  order: 'asc' | 'desc';
  type?: string;
  conceptId?: string;
  from: string | null;
  to: string | null;
  after: { occurred_at: string; id: string } | null;
  limit: number;
}

/**
 * A page of a learner's events in (occurred_at, id) order, strictly past the cursor, read
 * through the learner's index rows: the lead row of each event, or its row of the concept.
 */
export async function history(q: Q, h: HistoryQuery): Promise<LearningEvent[]> {
  let query = q
    .selectFrom('event_concepts as c')
    .innerJoin('learning_events as e', 'e.id', 'c.event_id')
    .selectAll('e')
    .where('c.user_id', '=', h.userId);
  query =
    h.conceptId !== undefined
      ? query.where('c.concept_id', '=', h.conceptId)
      : query.where('c.lead', '=', 1);
  if (h.type !== undefined) query = query.where('e.event_type', '=', h.type);
  if (h.from !== null) query = query.where('c.occurred_at', '>=', h.from);
  if (h.to !== null) query = query.where('c.occurred_at', '<', h.to);
  if (h.after !== null) {
    const op = h.order === 'asc' ? '>' : '<';
    const after = h.after;
    query = query.where((eb) =>
      eb(eb.refTuple('c.occurred_at', 'c.event_id'), op, eb.tuple(after.occurred_at, after.id)),
    );
  }
  return query
    .orderBy('c.occurred_at', h.order)
    .orderBy('c.event_id', h.order)
    .limit(h.limit)
    .execute();
}
