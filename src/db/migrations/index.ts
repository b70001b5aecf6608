import type { Migration } from 'kysely';
import * as createPulse from './2026_11_22_090000_create_pulse.ts';
import * as createLearning from './2026_11_22_120000_create_learning.ts';
import * as createAccounts from './2026_11_22_150000_create_accounts.ts';
import * as createAuth from './2026_11_22_150100_create_auth.ts';
import * as createAudit from './2026_11_22_150200_create_audit.ts';
import * as learnerDayIndex from './2026_11_22_160000_learner_day_index.ts';
import * as metricRecordsDayIndex from './2026_12_01_090000_metric_records_day_index.ts';
import * as pulseRollup from './2026_12_01_090100_pulse_rollup.ts';
import * as learningKeys from './2026_12_01_100000_learning_keys.ts';
import * as classDayStats from './2026_12_02_090000_class_day_stats.ts';
import * as metricRecordRuns from './2026_12_03_090000_metric_record_runs.ts';
import * as studentDaysLine from './2026_12_03_140000_student_days_line.ts';
import * as runsLine from './2026_12_04_090000_runs_line.ts';

/** Every migration, in order. Append only: never edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '2026_11_22_090000_create_pulse': createPulse,
  '2026_11_22_120000_create_learning': createLearning,
  '2026_11_22_150000_create_accounts': createAccounts,
  '2026_11_22_150100_create_auth': createAuth,
  '2026_11_22_150200_create_audit': createAudit,
  '2026_11_22_160000_learner_day_index': learnerDayIndex,
  '2026_12_01_090000_metric_records_day_index': metricRecordsDayIndex,
  '2026_12_01_090100_pulse_rollup': pulseRollup,
  '2026_12_01_100000_learning_keys': learningKeys,
  '2026_12_02_090000_class_day_stats': classDayStats,
  '2026_12_03_090000_metric_record_runs': metricRecordRuns,
  '2026_12_03_140000_student_days_line': studentDaysLine,
  '2026_12_04_090000_runs_line': runsLine,
};
