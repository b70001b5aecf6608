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

/** One student's signals over all time in one class. */
export interface ClassStudentTable extends SignalSums {
  class_id: string;
  student_id: string;
}

export interface PulseTables {
  metric_records: MetricRecordTable;
  class_student_day_stats: ClassStudentDayStatsTable;
  class_students: ClassStudentTable;
}

export type MetricRecord = Selectable<MetricRecordTable>;
export type NewMetricRecord = Insertable<MetricRecordTable>;
