import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AppError } from '../http/errors.ts';
import { AccountsService } from '../modules/accounts/accounts.service.ts';
import { importRoster } from '../modules/accounts/roster.ts';
import { AuditService } from '../modules/audit/audit.service.ts';

/** Commands act as the person at the shell: the audit log names them "command line". */
const SHELL = { principal: null, ip: null };

function services(db: Kysely<Database>) {
  const audit = new AuditService(db, { error: (obj: unknown) => console.error(obj) });
  return { audit, accounts: new AccountsService(db, audit) };
}

/**
 * The password for create-admin: from --password, else from standard input — typed at a
 * prompt without echo on a terminal, or piped (`echo "$PW" | learntwin users create-admin …`).
 */
export async function readPassword(given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.replace(/\r?\n$/, '');
  }
  const muted = new Writable({ write: (_c, _e, done) => done() });
  process.stdout.write('Password: ');
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stdout.write('\n');
  return answer;
}

export async function createAdmin(
  db: Kysely<Database>,
  opts: { email: string; name?: string; password: string },
): Promise<string> {
  const { accounts, audit } = services(db);
  try {
    const u = await accounts.create(
      { email: opts.email, name: opts.name ?? opts.email, password: opts.password, role: 'admin' },
      SHELL,
    );
    await audit.record({ action: 'auth.setup', actorLabel: 'command line', target: u.id });
    return `Created administrator ${u.email} (id ${u.id}). Sign in with POST /api/v1/auth/login.`;
  } catch (e) {
    if (e instanceof AppError) throw new Error(e.message);
    throw e;
  }
}

export async function importRosterFile(
  db: Kysely<Database>,
  path: string,
): Promise<{ text: string; ok: boolean }> {
  let csv: string;
  try {
    csv = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const { accounts, audit } = services(db);
  let r;
  try {
    r = await importRoster(csv, accounts, audit, SHELL);
  } catch (e) {
    if (e instanceof AppError) throw new Error(e.message);
    throw e;
  }
  const lines = [
    `Roster ${path}: ${r.rows} rows; ${r.users_created} accounts created, ${r.users_updated} updated, ` +
      `${r.memberships_added} memberships added, ${r.rejected.length} rows rejected.`,
    ...r.rejected.map(
      (x) => `  line ${x.line}: ${x.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
    ),
  ];
  return { text: lines.join('\n'), ok: r.rejected.length < r.rows || r.rows === 0 };
}
