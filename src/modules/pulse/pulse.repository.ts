import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { BulkStatement } from '../../db/bulk.ts';
import { chunkForInsert, type Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import { type MetricRecord, RECORD_FIELDS, type SignalSums } from './pulse.table.ts';
import type { ValidRecord } from './pulse.validation.ts';

type Q = Kysely<Database>;

export interface StudentSums extends SignalSums {
  student_id: string;
}
export interface DaySums extends SignalSums {
  day: string;
  students: number;
}
export interface ClassSummaryRow {
  class_id: string;
  records: number;
  students: number;
  first_ts: string;
  last_ts: string;
}

type StoredRecord = ValidRecord & { received_at: string };
type DaySumsRow = SignalSums & { class_id: string; day: string; student_id: string };
type StudentSumsRow = SignalSums & { class_id: string; student_id: string };

const RECORD_COLUMNS = [...RECORD_FIELDS, 'received_at'] as const;
const SUM_COLUMNS = [
  'n',
  'stuck',
  'got_it',
  'pause',
  'example',
  'confidence_sum',
  'first_ts',
  'last_ts',
] as const;

const insertPlain = new BulkStatement<StoredRecord, Database>(RECORD_COLUMNS, (db, rows) =>
  db.insertInto('metric_records').values(rows),
);
const insertKeyed = new BulkStatement<StoredRecord, Database>(RECORD_COLUMNS, (db, rows) =>
  db
    .insertInto('metric_records')
    .values(rows)
    .onConflict((oc) => oc.column('event_id').where('event_id', 'is not', null).doNothing())
    .returning('event_id'),
);

/** SET clause of an upsert that adds the incoming sums to the stored ones. */
function addSums(t: 'class_student_day_stats' | 'class_students') {
  const col = (c: string) => sql.ref(`${t}.${c}`);
  const ex = (c: string) => sql.ref(`excluded.${c}`);
  const add = (c: string) => sql<number>`${col(c)} + ${ex(c)}`;
  return {
    n: add('n'),
    stuck: add('stuck'),
    got_it: add('got_it'),
    pause: add('pause'),
    example: add('example'),
    confidence_sum: add('confidence_sum'),
    first_ts: sql<string>`case when ${ex('first_ts')} < ${col('first_ts')} then ${ex('first_ts')} else ${col('first_ts')} end`,
    last_ts: sql<string>`case when ${ex('last_ts')} > ${col('last_ts')} then ${ex('last_ts')} else ${col('last_ts')} end`,
  };
}

const upsertDaySums = new BulkStatement<DaySumsRow, Database>(
  ['class_id', 'day', 'student_id', ...SUM_COLUMNS],
  (db, rows) =>
    db
      .insertInto('class_student_day_stats')
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(['class_id', 'day', 'student_id'])
          .doUpdateSet(addSums('class_student_day_stats')),
      ),
);
const upsertStudentSums = new BulkStatement<StudentSumsRow, Database>(
  ['class_id', 'student_id', ...SUM_COLUMNS],
  (db, rows) =>
    db
      .insertInto('class_students')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['class_id', 'student_id']).doUpdateSet(addSums('class_students')),
      ),
);

/**
 * Appends records; those whose event_id is already stored are skipped. Returns the event ids
 * that were newly stored, so the caller can tell inserted records from duplicates.
 */
export async function insertRecords(
  q: Q,
  dialect: Dialect,
  records: ValidRecord[],
  receivedAt: string,
): Promise<Set<string>> {
  const inserted = new Set<string>();
  const plain: StoredRecord[] = [];
  const keyed: StoredRecord[] = [];
  for (const r of records) {
    const row = { ...r, received_at: receivedAt };
    (r.event_id === null ? plain : keyed).push(row);
  }
  for (const chunk of chunkForInsert(plain, RECORD_COLUMNS.length, dialect)) {
    await insertPlain.execute(q, chunk);
  }
  for (const chunk of chunkForInsert(keyed, RECORD_COLUMNS.length, dialect)) {
    const { rows } = await insertKeyed.execute<{ event_id: string }>(q, chunk);
    for (const r of rows) inserted.add(r.event_id);
  }
  return inserted;
}

/** Adds per-(class, day, student) sums; keys must be unique within `rows`. */
export async function addStudentDaySums(q: Q, dialect: Dialect, rows: DaySumsRow[]): Promise<void> {
  for (const chunk of chunkForInsert(rows, 11, dialect)) await upsertDaySums.execute(q, chunk);
}

/** Adds per-(class, student) sums; keys must be unique within `rows`. */
export async function addStudentSums(
  q: Q,
  dialect: Dialect,
  rows: StudentSumsRow[],
): Promise<void> {
  for (const chunk of chunkForInsert(rows, 10, dialect)) await upsertStudentSums.execute(q, chunk);
}

export async function classExists(q: Q, classId: string): Promise<boolean> {
  const row = await q
    .selectFrom('class_students')
    .select('class_id')
    .where('class_id', '=', classId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** All-time sums per student of a class. */
export async function studentTotals(q: Q, classId: string): Promise<StudentSums[]> {
  return q
    .selectFrom('class_students')
    .select([
      'student_id',
      'n',
      'stuck',
      'got_it',
      'pause',
      'example',
      'confidence_sum',
      'first_ts',
      'last_ts',
    ])
    .where('class_id', '=', classId)
    .execute();
}

const summed = (eb: ExpressionBuilder<Database, 'class_student_day_stats'>) =>
  [
    eb.fn.sum<number>('n').as('n'),
    eb.fn.sum<number>('stuck').as('stuck'),
    eb.fn.sum<number>('got_it').as('got_it'),
    eb.fn.sum<number>('pause').as('pause'),
    eb.fn.sum<number>('example').as('example'),
    eb.fn.sum<number>('confidence_sum').as('confidence_sum'),
    eb.fn.min<string>('first_ts').as('first_ts'),
    eb.fn.max<string>('last_ts').as('last_ts'),
  ] as const;

/** Sums per student over whole UTC days [dayFrom, dayTo); null bounds are open. */
export async function studentSumsInDays(
  q: Q,
  classId: string,
  dayFrom: string | null,
  dayTo: string | null,
): Promise<StudentSums[]> {
  let query = q
    .selectFrom('class_student_day_stats')
    .select((eb) => ['student_id', ...summed(eb)])
    .where('class_id', '=', classId);
  if (dayFrom !== null) query = query.where('day', '>=', dayFrom);
  if (dayTo !== null) query = query.where('day', '<', dayTo);
  return query.groupBy('student_id').execute();
}

/** Sums per day (with distinct students) over whole UTC days [dayFrom, dayTo). */
export async function daySumsInDays(
  q: Q,
  classId: string,
  dayFrom: string | null,
  dayTo: string | null,
): Promise<DaySums[]> {
  let query = q
    .selectFrom('class_student_day_stats')
    .select((eb) => ['day', eb.fn.countAll<number>().as('students'), ...summed(eb)])
    .where('class_id', '=', classId);
  if (dayFrom !== null) query = query.where('day', '>=', dayFrom);
  if (dayTo !== null) query = query.where('day', '<', dayTo);
  return query.groupBy('day').orderBy('day').execute();
}

/** Sums per student straight from the log, for a part of a day at a window's edge. */
export async function studentSumsInRange(
  q: Q,
  classId: string,
  fromTs: string,
  toTs: string,
): Promise<StudentSums[]> {
  return q
    .selectFrom('metric_records')
    .select((eb) => [
      'student_id',
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>('stuck').as('stuck'),
      eb.fn.sum<number>('got_it').as('got_it'),
      eb.fn.sum<number>('pause').as('pause'),
      eb.fn.sum<number>('example').as('example'),
      eb.fn.sum<number>('confidence').as('confidence_sum'),
      eb.fn.min<string>('ts').as('first_ts'),
      eb.fn.max<string>('ts').as('last_ts'),
    ])
    .where('class_id', '=', classId)
    .where('ts', '>=', fromTs)
    .where('ts', '<', toTs)
    .groupBy('student_id')
    .execute();
}

export async function listClasses(
  q: Q,
  only: ReadonlySet<string> | 'all',
): Promise<ClassSummaryRow[]> {
  if (only !== 'all' && only.size === 0) return [];
  let query = q.selectFrom('class_students');
  if (only !== 'all') query = query.where('class_id', 'in', [...only]);
  return query
    .select((eb) => [
      'class_id',
      eb.fn.sum<number>('n').as('records'),
      eb.fn.countAll<number>().as('students'),
      eb.fn.min<string>('first_ts').as('first_ts'),
      eb.fn.max<string>('last_ts').as('last_ts'),
    ])
    .groupBy('class_id')
    .orderBy('class_id')
    .execute();
}

/** One page of a class's records in (ts, id) order, strictly after `after`. */
export async function recordsPage(
  q: Q,
  classId: string,
  fromTs: string | null,
  toTs: string | null,
  after: { ts: string; id: number } | null,
  limit: number,
): Promise<MetricRecord[]> {
  let query = q.selectFrom('metric_records').selectAll().where('class_id', '=', classId);
  if (fromTs !== null) query = query.where('ts', '>=', fromTs);
  if (toTs !== null) query = query.where('ts', '<', toTs);
  if (after !== null) {
    // A row-value comparison lets both SQLite and PostgreSQL seek straight to the page's start
    // in the (class_id, ts, id) index; the equivalent OR form re-reads the class from its start.
    query = query.where((eb) => eb(eb.refTuple('ts', 'id'), '>', eb.tuple(after.ts, after.id)));
  }
  return query.orderBy('ts').orderBy('id').limit(limit).execute();
}

/** Rebuilds every pulse projection from the log. */
export async function rebuildProjections(q: Q): Promise<void> {
  await q.deleteFrom('class_student_day_stats').execute();
  await q.deleteFrom('class_students').execute();
  const day = sql<string>`substr(ts, 1, 10)`;
  const sums = sql`count(*), sum(stuck), sum(got_it), sum(pause), sum(example), sum(confidence), min(ts), max(ts)`;
  await sql`insert into class_student_day_stats
      (class_id, day, student_id, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts)
    select class_id, ${day}, student_id, ${sums}
    from metric_records group by class_id, ${day}, student_id`.execute(q);
  await sql`insert into class_students
      (class_id, student_id, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts)
    select class_id, student_id, ${sums}
    from metric_records group by class_id, student_id`.execute(q);
}

/** A student's sums per day across every class, over whole UTC days [dayFrom, dayTo). */
export async function learnerDaySums(
  q: Q,
  studentId: string,
  dayFrom: string | null,
  dayTo: string | null,
): Promise<(SignalSums & { day: string; classes: number })[]> {
  let query = q
    .selectFrom('class_student_day_stats')
    .select((eb) => ['day', eb.fn.countAll<number>().as('classes'), ...summed(eb)])
    .where('student_id', '=', studentId);
  if (dayFrom !== null) query = query.where('day', '>=', dayFrom);
  if (dayTo !== null) query = query.where('day', '<', dayTo);
  return query.groupBy('day').orderBy('day').execute();
}

/** Has this student any signals at all? */
export async function studentKnown(q: Q, studentId: string): Promise<boolean> {
  const r = await q
    .selectFrom('class_student_day_stats')
    .select('day')
    .where('student_id', '=', studentId)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}
