import type { Migration } from 'kysely';
import * as createPulse from './2026_11_22_090000_create_pulse.ts';

/** Every migration, in order. Append only: never edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '2026_11_22_090000_create_pulse': createPulse,
};
