import type { Migration } from 'kysely';
import * as createPulse from './2026_11_22_090000_create_pulse.ts';
import * as createLearning from './2026_11_22_120000_create_learning.ts';

/** Every migration, in order. Append only: never edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '2026_11_22_090000_create_pulse': createPulse,
  '2026_11_22_120000_create_learning': createLearning,
};
