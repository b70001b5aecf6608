import { type Kysely, sql } from 'kysely';
import { BulkStatement } from '../../db/bulk.ts';
import { chunkForInsert, type Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import type {
  ClassLearnerTable,
  ConceptMastery,
  ConceptMasteryTable,
  ConceptParamsTable,
  EventConceptTable,
  LearningEvent,
  LearningEventTable,
} from './learning.table.ts';

type Q = Kysely<Database>;

const EVENT_COLUMNS = [
  'id',
  'event_type',
  'user_id',
  'class_id',
  'course_id',
  'lesson_id',
  'concept_ids',
  'correct',
  'score',
  'duration_ms',
  'occurred_at',
  'received_at',
  'context',
  'fingerprint',
] as const;

const insertEventsStmt = new BulkStatement<LearningEventTable, Database>(
  EVENT_COLUMNS,
  (db, rows) =>
    db
      .insertInto('learning_events')
      .values(rows)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id'),
);
const insertConceptsStmt = new BulkStatement<EventConceptTable, Database>(
  ['user_id', 'concept_id', 'occurred_at', 'event_id', 'outcome'],
  (db, rows) =>
    db
      .insertInto('event_concepts')
      .values(rows)
      .onConflict((oc) => oc.doNothing()),
);
const upsertLearnersStmt = new BulkStatement<ClassLearnerTable, Database>(
  ['class_id', 'user_id', 'last_event_at'],
  (db, rows) =>
    db
      .insertInto('class_learners')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['class_id', 'user_id']).doUpdateSet({
          last_event_at: sql`case when excluded.last_event_at > class_learners.last_event_at
            then excluded.last_event_at else class_learners.last_event_at end`,
        }),
      ),
);
const upsertMasteryStmt = new BulkStatement<ConceptMasteryTable, Database>(
  ['user_id', 'concept_id', 'attempts', 'correct', 'p_known', 'last_attempt_at', 'last_event_id'],
  (db, rows) =>
    db
      .insertInto('concept_mastery')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['user_id', 'concept_id']).doUpdateSet({
          attempts: sql.ref('excluded.attempts'),
          correct: sql.ref('excluded.correct'),
          p_known: sql.ref('excluded.p_known'),
          last_attempt_at: sql.ref('excluded.last_attempt_at'),
          last_event_id: sql.ref('excluded.last_event_id'),
        }),
      ),
);

/** Appends events whose id is new; returns the ids that were stored. */
export async function insertEvents(
  q: Q,
  dialect: Dialect,
  rows: LearningEventTable[],
): Promise<Set<string>> {
  const stored = new Set<string>();
  for (const chunk of chunkForInsert(rows, EVENT_COLUMNS.length, dialect)) {
    const res = await insertEventsStmt.execute<{ id: string }>(q, chunk);
    for (const r of res.rows) stored.add(r.id);
  }
  return stored;
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

export async function insertEventConcepts(
  q: Q,
  dialect: Dialect,
  rows: EventConceptTable[],
): Promise<void> {
  for (const chunk of chunkForInsert(rows, 5, dialect)) await insertConceptsStmt.execute(q, chunk);
}

export async function touchClassLearners(
  q: Q,
  dialect: Dialect,
  rows: ClassLearnerTable[],
): Promise<void> {
  for (const chunk of chunkForInsert(rows, 3, dialect)) await upsertLearnersStmt.execute(q, chunk);
}

export async function saveMastery(
  q: Q,
  dialect: Dialect,
  rows: ConceptMasteryTable[],
): Promise<void> {
  for (const chunk of chunkForInsert(rows, 7, dialect)) await upsertMasteryStmt.execute(q, chunk);
}

/** Current mastery rows of the given (learner, concept) pairs. */
export async function masteryOf(
  q: Q,
  keys: { user_id: string; concept_id: string }[],
): Promise<ConceptMastery[]> {
  const out: ConceptMastery[] = [];
  for (let i = 0; i < keys.length; i += 200) {
    const part = keys.slice(i, i + 200);
    const rows = await q
      .selectFrom('concept_mastery')
      .selectAll()
      .where((eb) =>
        eb.or(
          part.map((k) =>
            eb.and([eb('user_id', '=', k.user_id), eb('concept_id', '=', k.concept_id)]),
          ),
        ),
      )
      .execute();
    out.push(...rows);
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

/** One (learner, concept) attempt sequence, in replay order. */
export async function attemptsOf(q: Q, userId: string, conceptId: string): Promise<Attempt[]> {
  return (await q
    .selectFrom('event_concepts')
    .select(['user_id', 'concept_id', 'occurred_at', 'event_id', 'outcome'])
    .where('user_id', '=', userId)
    .where('concept_id', '=', conceptId)
    .where('outcome', 'is not', null)
    .orderBy('occurred_at')
    .orderBy('event_id')
    .execute()) as Attempt[];
}

/** Every learner's attempts on one concept, grouped by learner, in replay order. */
export async function attemptsOfConcept(q: Q, conceptId: string): Promise<Attempt[]> {
  return (await q
    .selectFrom('event_concepts')
    .select(['user_id', 'concept_id', 'occurred_at', 'event_id', 'outcome'])
    .where('concept_id', '=', conceptId)
    .where('outcome', 'is not', null)
    .orderBy('user_id')
    .orderBy('occurred_at')
    .orderBy('event_id')
    .execute()) as Attempt[];
}

export async function conceptHasAttempts(q: Q, conceptId: string): Promise<boolean> {
  const row = await q
    .selectFrom('event_concepts')
    .select('event_id')
    .where('concept_id', '=', conceptId)
    .where('outcome', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function conceptsWithAttempts(q: Q): Promise<string[]> {
  const rows = await q
    .selectFrom('event_concepts')
    .select('concept_id')
    .distinct()
    .where('outcome', 'is not', null)
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
    .orderBy('user_id')
    .limit(limit);
  if (after !== null) query = query.where('user_id', '>', after);
  return (await query.execute()).map((r) => r.user_id);
}

export async function deleteMasteryOf(q: Q, userIds: string[]): Promise<void> {
  if (userIds.length)
    await q.deleteFrom('concept_mastery').where('user_id', 'in', userIds).execute();
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
    .selectFrom('learning_events')
    .select('id')
    .where('user_id', '=', userId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function masteryOfLearner(
  q: Q,
  userId: string,
  conceptId?: string,
): Promise<ConceptMastery[]> {
  let query = q.selectFrom('concept_mastery').selectAll().where('user_id', '=', userId);
  if (conceptId !== undefined) query = query.where('concept_id', '=', conceptId);
  return query.orderBy('concept_id').execute();
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

/** A page of a learner's events in (occurred_at, id) order, strictly past the cursor. */
export async function history(q: Q, h: HistoryQuery): Promise<LearningEvent[]> {
  let query = q.selectFrom('learning_events as e').selectAll('e').where('e.user_id', '=', h.userId);
  if (h.conceptId !== undefined) {
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('event_concepts as c')
          .select('c.event_id')
          .where('c.user_id', '=', h.userId)
          .where('c.concept_id', '=', h.conceptId!)
          .whereRef('c.event_id', '=', 'e.id')
          .whereRef('c.occurred_at', '=', 'e.occurred_at'),
      ),
    );
  }
  if (h.type !== undefined) query = query.where('e.event_type', '=', h.type);
  if (h.from !== null) query = query.where('e.occurred_at', '>=', h.from);
  if (h.to !== null) query = query.where('e.occurred_at', '<', h.to);
  if (h.after !== null) {
    const op = h.order === 'asc' ? '>' : '<';
    const after = h.after;
    query = query.where((eb) =>
      eb(eb.refTuple('e.occurred_at', 'e.id'), op, eb.tuple(after.occurred_at, after.id)),
    );
  }
  return query.orderBy('e.occurred_at', h.order).orderBy('e.id', h.order).limit(h.limit).execute();
}
