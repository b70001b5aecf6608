/**
 * The write tasks the intake writer runs, by name. The writer thread imports this module, so a
 * task's code is the same in the thread and in process.
 */
import { writeRecords } from '../modules/pulse/pulse.write.ts';

export const WRITE_TASKS = {
  'pulse.records': writeRecords,
};

export type WriteTasks = typeof WRITE_TASKS;
