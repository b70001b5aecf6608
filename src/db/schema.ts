import type { AccountTables } from '../modules/accounts/accounts.table.ts';
import type { AuditTables } from '../modules/audit/audit.table.ts';
import type { AuthTables } from '../modules/auth/auth.table.ts';
import type { LearningTables } from '../modules/learning/learning.table.ts';
import type { PulseTables } from '../modules/pulse/pulse.table.ts';

/** Every table of every module; each module owns and declares its own. */
export type Database = PulseTables & LearningTables & AccountTables & AuthTables & AuditTables;
