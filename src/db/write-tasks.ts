/**
 * The write tasks the intake writer runs, by name. The writer thread imports this module, so a
 * task's code is the same in the thread and in process.
 */
import { writeEvents } from '../modules/learning/events.write.ts';
import { fitConcept, rebuildMastery } from '../modules/learning/mastery.rebuild.ts';
import { settleRecords, writeRecords } from '../modules/pulse/pulse.write.ts';

export const WRITE_TASKS = {
  'pulse.records': writeRecords,
  'pulse.settle': settleRecords,
  'learning.events': writeEvents,
  'mastery.rebuild': rebuildMastery,
  'mastery.fit': fitConcept,
};

export type WriteTasks = typeof WRITE_TASKS;
