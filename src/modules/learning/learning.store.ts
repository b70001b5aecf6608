/**
 * The write side of the learning-event log: appending events, their per-learner index rows,
 * class membership and the mastery projection, inside the intake writer's transaction.
 *
 * On SQLite each row is one run of a prepared single-row statement on the writer's own
 * connection (bound with spread arguments, no query building); on PostgreSQL all rows go in
 * one statement per table, as one array per column.
 */
import { type Kysely, sql } from 'kysely';
import { BulkStatement } from '../../db/bulk.ts';
import type { Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import type { SqliteHandle } from '../../db/sqlite.ts';
import type {
  ClassLearnerTable,
  ConceptMastery,
  ConceptMasteryTable,
  EventConceptTable,
  LearningEventTable,
} from './learning.table.ts';

type Q = Kysely<Database>;
export interface StoreContext {
  dialect: Dialect;
  sqlite: SqliteHandle | undefined;
}

// Each table's columns with their PostgreSQL types, in the order the statements bind them.
const T = 'text' as const;
const EVENT_COLUMNS = [
  ['id', T],
  ['event_type', T],
  ['user_id', T],
  ['class_id', T],
  ['course_id', T],
  ['lesson_id', T],
  ['concept_ids', T],
  ['correct', 'smallint'],
  ['score', 'double precision'],
  ['duration_ms', 'bigint'],
  ['occurred_at', T],
  ['received_at', T],
  ['context', T],
  ['fingerprint', T],
] as const;
const KEY_COLUMNS = [
  ['user_id', T],
  ['concept_id', T],
  ['occurred_at', T],
  ['event_id', T],
  ['outcome', 'double precision'],
  ['lead', 'smallint'],
] as const;
const MASTERY_COLUMNS = [
  ['user_id', T],
  ['concept_id', T],
  ['attempts', 'integer'],
  ['correct', 'double precision'],
  ['p_known', 'double precision'],
  ['last_attempt_at', T],
  ['last_event_id', T],
] as const;
const PAIR_COLUMNS = [
  ['user_id', T],
  ['concept_id', T],
] as const;

const insertEventsStmt = new BulkStatement<LearningEventTable, Database>(
  EVENT_COLUMNS,
  (db, rows, columns) =>
    db
      .insertInto('learning_events')
      .columns(columns)
      .expression(rows)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id'),
);
const insertKeysStmt = new BulkStatement<EventConceptTable, Database>(
  KEY_COLUMNS,
  (db, rows, columns) =>
    db
      .insertInto('event_concepts')
      .columns(columns)
      .expression(rows)
      .onConflict((oc) => oc.doNothing()),
);
const insertLearnersStmt = new BulkStatement<ClassLearnerTable, Database>(
  [
    ['class_id', T],
    ['user_id', T],
  ],
  (db, rows, columns) =>
    db
      .insertInto('class_learners')
      .columns(columns)
      .expression(rows)
      .onConflict((oc) => oc.doNothing()),
);
const masteryOfStmt = new BulkStatement<{ user_id: string; concept_id: string }, Database>(
  PAIR_COLUMNS,
  (db, rows) =>
    db
      .selectFrom('concept_mastery')
      .selectAll()
      .where(sql<boolean>`(user_id, concept_id) in (${rows})`),
);
const attemptsOfPairsStmt = new BulkStatement<{ user_id: string; concept_id: string }, Database>(
  PAIR_COLUMNS,
  (db, rows) =>
    db
      .selectFrom('event_concepts')
      .select(['user_id', 'concept_id', 'occurred_at', 'event_id', 'outcome'])
      .where(sql<boolean>`(user_id, concept_id) in (${rows})`)
      .where('outcome', 'is not', null)
      .orderBy('user_id')
      .orderBy('concept_id')
      .orderBy('occurred_at')
      .orderBy('event_id'),
);
const upsertMasteryStmt = new BulkStatement<ConceptMasteryTable, Database>(
  MASTERY_COLUMNS,
  (db, rows, columns) =>
    db
      .insertInto('concept_mastery')
      .columns(columns)
      .expression(rows)
      .onConflict((oc) =>
        oc.columns(['user_id', 'concept_id']).doUpdateSet((eb) => ({
          attempts: eb.ref('excluded.attempts'),
          correct: eb.ref('excluded.correct'),
          p_known: eb.ref('excluded.p_known'),
          last_attempt_at: eb.ref('excluded.last_attempt_at'),
          last_event_id: eb.ref('excluded.last_event_id'),
        })),
      ),
);

const list = (cols: readonly (readonly [string, string])[]) => cols.map(([c]) => c).join(', ');
const marks = (cols: readonly unknown[]) => cols.map(() => '?').join(', ');
const sqliteStatements = new WeakMap<SqliteHandle, ReturnType<typeof prepareSqlite>>();
function prepareSqlite(s: SqliteHandle) {
  return {
    event: s.prepare(
      `insert into learning_events (${list(EVENT_COLUMNS)}) values (${marks(EVENT_COLUMNS)}) ` +
        'on conflict (id) do nothing',
    ),
    key: s.prepare(
      `insert into event_concepts (${list(KEY_COLUMNS)}) values (${marks(KEY_COLUMNS)}) ` +
        'on conflict do nothing',
    ),
    learner: s.prepare(
      'insert into class_learners (class_id, user_id) values (?, ?) on conflict do nothing',
    ),
    mastery: s
      .prepare(
        'select user_id, concept_id, attempts, correct, p_known, last_attempt_at, last_event_id ' +
          'from concept_mastery where user_id = ? and concept_id = ?',
      )
      .raw(true),
    attempts: s
      .prepare(
        'select occurred_at, event_id, outcome from event_concepts ' +
          'where user_id = ? and concept_id = ? and outcome is not null ' +
          'order by occurred_at, event_id',
      )
      .raw(true),
    saveMastery: s.prepare(
      `insert into concept_mastery (${list(MASTERY_COLUMNS)}) values (${marks(MASTERY_COLUMNS)}) ` +
        'on conflict (user_id, concept_id) do update set attempts = excluded.attempts, ' +
        'correct = excluded.correct, p_known = excluded.p_known, ' +
        'last_attempt_at = excluded.last_attempt_at, last_event_id = excluded.last_event_id',
    ),
  };
}
function statements(sqlite: SqliteHandle) {
  let st = sqliteStatements.get(sqlite);
  if (!st) sqliteStatements.set(sqlite, (st = prepareSqlite(sqlite)));
  return st;
}

/** Appends events whose id is new; returns, per row, 1 if it was stored and 0 if not. */
export async function storeEvents(
  q: Q,
  ctx: StoreContext,
  rows: LearningEventTable[],
): Promise<Uint8Array> {
  const stored = new Uint8Array(rows.length);
  if (ctx.sqlite) {
    const { event } = statements(ctx.sqlite);
    rows.forEach((r, k) => {
      const res = event.run(
        r.id,
        r.event_type,
        r.user_id,
        r.class_id,
        r.course_id,
        r.lesson_id,
        r.concept_ids,
        r.correct,
        r.score,
        r.duration_ms,
        r.occurred_at,
        r.received_at,
        r.context,
        r.fingerprint,
      );
      stored[k] = res.changes > 0 ? 1 : 0;
    });
    return stored;
  }
  const at = new Map(rows.map((r, k) => [r.id, k]));
  const res = await insertEventsStmt.execute<{ id: string }>(q, rows);
  for (const r of res.rows) stored[at.get(r.id)!] = 1;
  return stored;
}

/** Adds the per-learner index rows of newly stored events. */
export async function addKeys(q: Q, ctx: StoreContext, rows: EventConceptTable[]): Promise<void> {
  if (ctx.sqlite) {
    const { key } = statements(ctx.sqlite);
    for (const r of rows) {
      key.run(r.user_id, r.concept_id, r.occurred_at, r.event_id, r.outcome, r.lead);
    }
    return;
  }
  if (rows.length > 0) await insertKeysStmt.execute(q, rows);
}

/** Records that these learners are in these classes (pairs known already are left alone). */
export async function addClassLearners(
  q: Q,
  ctx: StoreContext,
  rows: ClassLearnerTable[],
): Promise<void> {
  if (ctx.sqlite) {
    const { learner } = statements(ctx.sqlite);
    for (const r of rows) learner.run(r.class_id, r.user_id);
    return;
  }
  if (rows.length > 0) await insertLearnersStmt.execute(q, rows);
}

/** Current mastery rows of the given (learner, concept) pairs. */
export async function masteryOf(
  q: Q,
  ctx: StoreContext,
  keys: { user_id: string; concept_id: string }[],
): Promise<ConceptMastery[]> {
  const out: ConceptMastery[] = [];
  if (ctx.sqlite) {
    const { mastery } = statements(ctx.sqlite);
    for (const k of keys) {
      const r = mastery.get(k.user_id, k.concept_id) as unknown[] | undefined;
      if (r) {
        out.push({
          user_id: r[0] as string,
          concept_id: r[1] as string,
          attempts: r[2] as number,
          correct: r[3] as number,
          p_known: r[4] as number,
          last_attempt_at: r[5] as string,
          last_event_id: r[6] as string,
        });
      }
    }
    return out;
  }
  if (keys.length > 0) out.push(...(await masteryOfStmt.execute<ConceptMastery>(q, keys)).rows);
  return out;
}

export type PairAttempt = { occurred_at: string; event_id: string; outcome: number };

/** The key of a (learner, concept) pair in maps. */
export const pairKey = (userId: string, conceptId: string) => `${userId}\u0000${conceptId}`;

/**
 * The attempt sequences of (learner, concept) pairs, each in replay order, by pairKey (pairs
 * without attempts are absent).
 */
export async function attemptsOfPairs(
  q: Q,
  ctx: StoreContext,
  pairs: { user_id: string; concept_id: string }[],
): Promise<Map<string, PairAttempt[]>> {
  const out = new Map<string, PairAttempt[]>();
  if (pairs.length === 0) return out;
  if (ctx.sqlite) {
    const { attempts } = statements(ctx.sqlite);
    for (const k of pairs) {
      const rows = attempts.all(k.user_id, k.concept_id) as [string, string, number][];
      if (rows.length === 0) continue;
      out.set(
        pairKey(k.user_id, k.concept_id),
        rows.map(([occurred_at, event_id, outcome]) => ({ occurred_at, event_id, outcome })),
      );
    }
    return out;
  }
  const { rows } = await attemptsOfPairsStmt.execute<
    PairAttempt & { user_id: string; concept_id: string }
  >(q, pairs);
  for (const r of rows) {
    const key = pairKey(r.user_id, r.concept_id);
    const a = { occurred_at: r.occurred_at, event_id: r.event_id, outcome: r.outcome };
    const list = out.get(key);
    if (list) list.push(a);
    else out.set(key, [a]);
  }
  return out;
}

/** Writes mastery rows (insert or replace by (learner, concept)). */
export async function saveMastery(
  q: Q,
  ctx: StoreContext,
  rows: ConceptMasteryTable[],
): Promise<void> {
  if (ctx.sqlite) {
    const { saveMastery: save } = statements(ctx.sqlite);
    for (const r of rows) {
      save.run(
        r.user_id,
        r.concept_id,
        r.attempts,
        r.correct,
        r.p_known,
        r.last_attempt_at,
        r.last_event_id,
      );
    }
    return;
  }
  if (rows.length > 0) await upsertMasteryStmt.execute(q, rows);
}
