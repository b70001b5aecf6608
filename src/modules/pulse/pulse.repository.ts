import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { precompiled } from '../../db/precompiled.ts';
import type { Database } from '../../db/schema.ts';
import type { Dialect } from '../../db/dialect.ts';
import { classRecords } from './pulse.store.ts';
import { type MetricRecord, type SignalSums, SUM_FIELDS } from './pulse.table.ts';

type Q = Kysely<Database>;

export interface StudentSums extends SignalSums {
  student_id: string;
}
export interface DaySums extends SignalSums {
  day: string;
  students: number;
}
/** Sums over a set of students, with how many there were. */
export interface TotalSums extends SignalSums {
  students: number;
}
export interface ClassSummaryRow {
  class_id: string;
  records: number;
  students: number;
  first_ts: string;
  last_ts: string;
}

// Over class_student_day_stats, class_students, or a union of the two: the same columns.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const summed = (eb: ExpressionBuilder<any, any>) =>
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

/**
 * Every (class, student) sums row of all time, in two parts read in one statement (so one
 * snapshot): the roll-up of the days before its line, and the daily sums from the line on.
 */
function allTime(q: Q, classIds: readonly string[] | 'all' | { one: string }) {
  const line = q.selectFrom('pulse_rollup').select('rolled_before').where('id', '=', sql.lit(1));
  let rolled = q.selectFrom('class_students').select(['class_id', 'student_id', ...SUM_FIELDS]);
  let recent = q
    .selectFrom('class_student_day_stats')
    .select(['class_id', 'student_id', ...SUM_FIELDS])
    .where('day', '>=', line);
  if (classIds !== 'all' && 'one' in classIds) {
    rolled = rolled.where('class_id', '=', classIds.one);
    recent = recent.where('class_id', '=', classIds.one);
  } else if (classIds !== 'all') {
    rolled = rolled.where('class_id', 'in', classIds);
    recent = recent.where('class_id', 'in', classIds);
  }
  return rolled.unionAll(recent);
}

// The reads of a class page and its recommendations, compiled once (see db/precompiled.ts).
// class_day_stats: kept current with every flush on both dialects.
const classExistsQuery = precompiled((q: Q, classId: string, limit: number) =>
  q.selectFrom('class_day_stats').select('class_id').where('class_id', '=', classId).limit(limit),
);
const studentTotalsQuery = precompiled((q: Q, classId: string) =>
  q
    .selectFrom(allTime(q, { one: classId }).as('t'))
    .select((eb) => ['student_id', ...summed(eb)])
    .groupBy('student_id'),
);
// On SQLite with whether the students' sums lag the log, in the same statement (a read of the
// class page costs one query less than asking first).
const classTotalsQuery = (withLag: boolean) =>
  precompiled((q: Q, classId: string) =>
    q
      .selectFrom(allTime(q, { one: classId }).as('t'))
      .select((eb) => [
        ...summed(eb),
        eb.fn.count<number>('student_id').distinct().as('students'),
        withLag ? lagTo(eb).as('lag_to') : sql<number>`0`.as('lag_to'),
      ]),
  );
const classTotalsQueries = { sqlite: classTotalsQuery(true), postgres: classTotalsQuery(false) };
const studentSumsInDaysQuery = precompiled(
  (q: Q, classId: string, dayFrom: string | null, dayTo: string | null) => {
    let query = q
      .selectFrom('class_student_day_stats')
      .select((eb) => ['student_id', ...summed(eb)])
      .where('class_id', '=', classId);
    if (dayFrom !== null) query = query.where('day', '>=', dayFrom);
    if (dayTo !== null) query = query.where('day', '<', dayTo);
    return query.groupBy('student_id');
  },
);
// One row per day: the students are counted as the union of the days' student sets.
const totalsInDaysQuery = precompiled(
  (q: Q, classId: string, dayFrom: string | null, dayTo: string | null) => {
    let query = q
      .selectFrom('class_day_stats')
      .select((eb) => [
        ...summed(eb),
        sql<number>`coalesce(bitmap_count(bitmap_union(student_set)), 0)`.as('students'),
      ])
      .where('class_id', '=', classId);
    if (dayFrom !== null) query = query.where('day', '>=', dayFrom);
    if (dayTo !== null) query = query.where('day', '<', dayTo);
    return query;
  },
);

/** SQLite: the log's last id when the students' daily sums lag it (see pulse_student_days), else 0. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const lagTo = (eb: ExpressionBuilder<any, any>) => {
  const last = eb.fn.coalesce(
    eb.selectFrom('metric_records').select((e) => e.fn.max('id').as('last')),
    sql.lit(0),
  );
  const line = eb
    .selectFrom('pulse_student_days')
    .select('summed_through')
    .where('id', '=', sql.lit(1));
  return eb.case().when(line, '<', last).then(last).else(sql.lit(0)).end();
};
const studentDaysLagQuery = precompiled((q: Q) => q.selectNoFrom((eb) => lagTo(eb).as('lag_to')));

/**
 * SQLite: the log's last id when the log holds records that the students' daily sums do not
 * yet (see pulse_student_days), else 0.
 */
export async function studentDaysLag(q: Q): Promise<number> {
  const [row] = await studentDaysLagQuery(q);
  return Number(row?.lag_to ?? 0);
}

/** Does the class have any record? (Every record is in the class's daily sums.) */
export async function classExists(q: Q, classId: string): Promise<boolean> {
  return (await classExistsQuery(q, classId, 1)).length > 0;
}

/** The students with records in a class, in order. */
export async function studentIdsOf(q: Q, classId: string): Promise<string[]> {
  const rows = await q
    .selectFrom(allTime(q, { one: classId }).as('t'))
    .select('student_id')
    .distinct()
    .orderBy('student_id')
    .execute();
  return rows.map((r) => r.student_id);
}

/** All-time sums per student of a class. */
export async function studentTotals(q: Q, classId: string): Promise<StudentSums[]> {
  return studentTotalsQuery(q, classId);
}

/**
 * All-time sums of a class, and its number of students; on SQLite also `lag_to`, the log's
 * last id when the students' sums lagged the log (then the sums may lack the newest records).
 */
export async function classTotals(
  q: Q,
  dialect: Dialect,
  classId: string,
): Promise<TotalSums & { lag_to?: number }> {
  return (await classTotalsQueries[dialect](q, classId))[0]!;
}

/** Sums per student over whole UTC days [dayFrom, dayTo); null bounds are open. */
export async function studentSumsInDays(
  q: Q,
  classId: string,
  dayFrom: string | null,
  dayTo: string | null,
): Promise<StudentSums[]> {
  return studentSumsInDaysQuery(q, classId, dayFrom, dayTo);
}

/** Sums of a class over whole UTC days [dayFrom, dayTo), and its number of students then. */
export async function totalsInDays(
  q: Q,
  classId: string,
  dayFrom: string | null,
  dayTo: string | null,
): Promise<TotalSums> {
  return (await totalsInDaysQuery(q, classId, dayFrom, dayTo))[0]!;
}

/** Sums per day (with distinct students) over whole UTC days [dayFrom, dayTo). */
export async function daySumsInDays(
  q: Q,
  classId: string,
  dayFrom: string | null,
  dayTo: string | null,
): Promise<DaySums[]> {
  let query = q
    .selectFrom('class_day_stats')
    .select(['day', sql<number>`bitmap_count(student_set)`.as('students'), ...SUM_FIELDS])
    .where('class_id', '=', classId);
  if (dayFrom !== null) query = query.where('day', '>=', dayFrom);
  if (dayTo !== null) query = query.where('day', '<', dayTo);
  return query.orderBy('day').execute();
}

/** Sums per student straight from the log, for a part of a day at a window's edge. */
export async function studentSumsInRange(
  q: Q,
  dialect: Dialect,
  classId: string,
  fromTs: string,
  toTs: string,
): Promise<StudentSums[]> {
  return q
    .selectFrom(classRecords(q, dialect, classId, fromTs.slice(0, 10)))
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
  return q
    .selectFrom(allTime(q, only === 'all' ? 'all' : [...only]).as('t'))
    .select((eb) => [
      'class_id',
      eb.fn.sum<number>('n').as('records'),
      eb.fn.count<number>('student_id').distinct().as('students'),
      eb.fn.min<string>('first_ts').as('first_ts'),
      eb.fn.max<string>('last_ts').as('last_ts'),
    ])
    .groupBy('class_id')
    .orderBy('class_id')
    .execute();
}

/** The UTC days on which a class has records, in order, within [dayFrom, dayTo]. */
export async function daysOf(
  q: Q,
  classId: string,
  dayFrom: string | null,
  dayTo: string | null,
): Promise<string[]> {
  let query = q.selectFrom('class_day_stats').select('day').where('class_id', '=', classId);
  if (dayFrom !== null) query = query.where('day', '>=', dayFrom);
  if (dayTo !== null) query = query.where('day', '<=', dayTo);
  return (await query.orderBy('day').execute()).map((r) => r.day);
}

/**
 * One page of a class's records of one UTC day in (ts, id) order, strictly after `after`.
 * The database finds the day's rows at once (see classRecords) and sorts only them.
 */
export async function recordsOfDay(
  q: Q,
  dialect: Dialect,
  classId: string,
  day: string,
  fromTs: string | null,
  toTs: string | null,
  after: { ts: string; id: number } | null,
  limit: number,
): Promise<MetricRecord[]> {
  let query = q.selectFrom(classRecords(q, dialect, classId, day)).selectAll();
  if (fromTs !== null) query = query.where('ts', '>=', fromTs);
  if (toTs !== null) query = query.where('ts', '<', toTs);
  if (after !== null) {
    query = query.where((eb) => eb(eb.refTuple('ts', 'id'), '>', eb.tuple(after.ts, after.id)));
  }
  return query.orderBy('ts').orderBy('id').limit(limit).execute();
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
