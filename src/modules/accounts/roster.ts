import { parse } from 'csv-parse/sync';
import type { Actor, AccountsService } from './accounts.service.ts';
import type { User } from './accounts.table.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { AppError } from '../../http/errors.ts';
import { externalId, NUL_MESSAGE } from '../../http/input.ts';

export const ROSTER_COLUMNS = ['class_id', 'student_id', 'email', 'name', 'role'] as const;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type FieldError = { field: string; message: string };

export interface RosterReport {
  rows: number;
  users_created: number;
  users_updated: number;
  memberships_added: number;
  rejected: { line: number; errors: FieldError[] }[];
}

/**
 * Imports a class roster (`class_id,student_id,email,name,role`): creates the accounts that do
 * not exist yet (without a password: an administrator sets one, or the person never signs in),
 * updates names and emails, and enrols everyone. A bad row is reported by its line, never fatal.
 */
export async function importRoster(
  csv: string,
  accounts: AccountsService,
  audit: AuditService,
  actor: Actor,
): Promise<RosterReport> {
  let parsed: { record: Record<string, string>; info: { lines: number } }[];
  try {
    parsed = parse(csv, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
      relax_column_count: true,
      // the line each record ends on: blank lines are skipped, not forgotten, in the report
      info: true,
    });
  } catch (e) {
    throw new AppError(400, 'invalid_csv', `The CSV cannot be read: ${(e as Error).message}`);
  }
  const records = parsed.map((p) => p.record);
  const header = records.length ? Object.keys(records[0]!) : csvHeader(csv);
  if (
    !header.includes('class_id') ||
    !(header.includes('student_id') || header.includes('email'))
  ) {
    throw new AppError(
      400,
      'invalid_csv',
      `The header must name the columns ${ROSTER_COLUMNS.join(',')}`,
      [{ field: 'header', message: 'needs class_id and student_id or email' }],
    );
  }
  const report: RosterReport = {
    rows: records.length,
    users_created: 0,
    users_updated: 0,
    memberships_added: 0,
    rejected: [],
  };
  for (const { record: rec, info } of parsed) {
    const line = info.lines; // the header is line 1
    try {
      const errors = await importRow(rec, accounts, actor, report);
      if (errors.length) report.rejected.push({ line, errors });
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      const details = Array.isArray(e.details)
        ? (e.details as FieldError[])
        : [{ field: 'row', message: e.message }];
      report.rejected.push({ line, errors: details });
    }
  }
  await audit.record({
    action: 'roster.import',
    principal: actor.principal,
    ip: actor.ip,
    details: { ...report, rejected: report.rejected.length },
  });
  return report;
}

function csvHeader(csv: string): string[] {
  const first = csv.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  return first.split(',').map((h) => h.trim().toLowerCase());
}

async function importRow(
  rec: Record<string, string>,
  accounts: AccountsService,
  actor: Actor,
  report: RosterReport,
): Promise<FieldError[]> {
  const classId = rec.class_id ?? '';
  const studentId = rec.student_id || null;
  const email = rec.email ? rec.email.toLowerCase() : null;
  const name = rec.name || '';
  const role = (rec.role || (studentId ? 'learner' : 'instructor')).toLowerCase();
  const errors: FieldError[] = [];
  for (const column of ROSTER_COLUMNS) {
    if (rec[column]?.includes('\u0000')) errors.push({ field: column, message: NUL_MESSAGE });
  }
  if (errors.length) return errors;
  // Ids are checked as intake checks them, so that a roster takes the ids the events carry.
  const idError = (field: string, value: string) => {
    const id = externalId(value);
    if (typeof id !== 'string') errors.push({ field, message: id[0]! });
  };
  if (!classId) errors.push({ field: 'class_id', message: 'is required' });
  else idError('class_id', classId);
  if (role !== 'learner' && role !== 'instructor') {
    errors.push({ field: 'role', message: 'must be learner or instructor' });
  }
  if (email && !EMAIL_RE.test(email))
    errors.push({ field: 'email', message: 'is not an email address' });
  if (role === 'learner' && !studentId)
    errors.push({ field: 'student_id', message: 'is required for a learner' });
  if (studentId) idError('student_id', studentId);
  if (role === 'instructor' && !email)
    errors.push({ field: 'email', message: 'is required for an instructor' });
  if (errors.length) return errors;

  let user: User | undefined =
    (studentId ? await accounts.byLearnerId(studentId) : undefined) ??
    (email ? await accounts.byEmail(email) : undefined);
  if (user && user.role !== role) {
    return [
      { field: 'role', message: `the account ${user.email ?? user.learner_id} is a ${user.role}` },
    ];
  }
  if (!user) {
    const created = await accounts.create(
      {
        email,
        name: name || email || studentId || '',
        role: role as 'learner' | 'instructor',
        learner_id: role === 'learner' ? studentId : null,
      },
      actor,
    );
    user = (await accounts.byId(created.id))!;
    report.users_created++;
  } else {
    const patch: { name?: string; email?: string } = {};
    if (name && name !== user.name) patch.name = name;
    if (email && email !== user.email) patch.email = email;
    if (patch.name || patch.email) {
      await accounts.update(user.id, patch, actor);
      report.users_updated++;
    }
  }
  if (await accounts.enrol(classId, user)) report.memberships_added++;
  return [];
}
