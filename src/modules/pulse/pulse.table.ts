import type { Generated, Insertable, Selectable } from 'kysely';

/** The append-only log of in-class signals: the source of truth of the class pulse. */
export interface MetricRecordTable {
  id: Generated<number>;
  class_id: string;
  student_id: string;
  stuck: number;
  got_it: number;
  pause: number;
  example: number;
  confidence: number;
  ts: string;
  event_id: string | null;
  received_at: string;
}

/** A record's fields as clients send them and exports show them (after `id`). */
export const RECORD_FIELDS = [
  'class_id',
  'student_id',
  'stuck',
  'got_it',
  'pause',
  'example',
  'confidence',
  'ts',
  'event_id',
] as const;

/** The columns of SignalSums, in table order. */
export const SUM_FIELDS = [
  'n',
  'stuck',
  'got_it',
  'pause',
  'example',
  'confidence_sum',
  'first_ts',
  'last_ts',
] as const;

/** Sums kept by the aggregate projections; every one can be rebuilt from metric_records. */
export interface SignalSums {
  n: number;
  stuck: number;
  got_it: number;
  pause: number;
  example: number;
  confidence_sum: number;
  first_ts: string;
  last_ts: string;
}

/** One student's signals on one UTC day in one class. */
export interface ClassStudentDayStatsTable extends SignalSums {
  class_id: string;
  day: string;
  student_id: string;
}

/**
 * One student's signals in one class on every UTC day before the roll-up point (the days
 * since are read from class_student_day_stats).
 */
export interface ClassStudentTable extends SignalSums {
  class_id: string;
  student_id: string;
}

/**
 * One class's signals on one UTC day, over all its students: the sums of that day's rows of
 * class_student_day_stats, and the set of those students (by roster ordinal) as a bitmap, so
 * that a window of whole days counts its distinct students from one row per day.
 */
export interface ClassDayStatsTable extends SignalSums {
  class_id: string;
  day: string;
  /** SQLite: a blob; PostgreSQL: bit varying (src/db/bitmap.ts) */
  student_set: Buffer | string;
}

/**
 * Every student a class has had, numbered from 0 in order of arrival: their bit in the
 * student sets. A number, once given, is never given again nor changed.
 */
export interface ClassRosterTable {
  class_id: string;
  student_id: string;
  ordinal: number;
}

/**
 * SQLite only: where the log holds a class's records of a UTC day. The writer stores each
 * flush grouped by (class, day), so a group takes the consecutive ids [first_id, last_id];
 * every record up to the line of pulse_student_days is in exactly one run (the writer holds
 * the runs of newer records for a while, as their students' sums). (PostgreSQL indexes the
 * log by class and day instead.)
 * This holds because records are never deleted, so an id is never given twice. Records past
 * the line that lack their runs (stored by another process, or held by a writer that
 * stopped) get them from the log at the next flush or read; a program that stores records
 * without their runs while moving the line (a server of an earlier version on the same file)
 * or below it leaves them unfound until `learntwin recompute`, which derives the runs again
 * (rederiveRuns in pulse.store.ts).
 */
export interface MetricRecordRunTable {
  class_id: string;
  day: string;
  first_id: number;
  last_id: number;
}

/** The one row saying up to which day class_students holds the daily sums. */
export interface PulseRollupTable {
  id: number;
  /** UTC day (YYYY-MM-DD): class_students holds the records of the days before it */
  rolled_before: string;
}

/**
 * SQLite only: class_student_day_stats holds the sums, and metric_record_runs the runs, of the
 * log's records with ids up to `summed_through`. The writer adds the newer ones from its
 * memory about once a second under load, and once intake has been quiet for a second; a
 * reader of those tables first has the writer add any still missing (pulse.store.ts,
 * settleHeld).
 */
export interface PulseStudentDaysTable {
  id: number;
  summed_through: number;
}

export interface PulseTables {
  metric_records: MetricRecordTable;
  metric_record_runs: MetricRecordRunTable;
  class_student_day_stats: ClassStudentDayStatsTable;
  class_students: ClassStudentTable;
  class_day_stats: ClassDayStatsTable;
  class_roster: ClassRosterTable;
  pulse_rollup: PulseRollupTable;
  pulse_student_days: PulseStudentDaysTable;
}

export type MetricRecord = Selectable<MetricRecordTable>;
export type NewMetricRecord = Insertable<MetricRecordTable>;
