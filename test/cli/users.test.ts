import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

const dir = mkdtempSync(join(tmpdir(), 'learntwin-cli-users-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Signs in against the SQLite file the CLI wrote, through the real app. */
async function login(file: string, email: string, password: string) {
  const database = createDatabase({ url: file });
  await migrateToLatest(database.db);
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: file });
  const app = await buildApp({ config, database });
  try {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
    });
    const classes =
      res.statusCode === 200
        ? await app.inject({
            url: '/api/v1/classes',
            headers: { authorization: `Bearer ${res.json().access_token}` },
          })
        : undefined;
    return { status: res.statusCode, classes: classes?.json() };
  } finally {
    await app.close();
    await database.close();
  }
}

describe('learntwin users create-admin', () => {
  it('creates an administrator with the password from standard input, who can sign in', async () => {
    const file = join(dir, 'admin.db');
    const r = await cli(
      ['users', 'create-admin', '--email', 'Head@School.example'],
      { DATABASE_URL: file },
      'a very long passphrase\n',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Created administrator head@school.example');
    expect((await login(file, 'head@school.example', 'a very long passphrase')).status).toBe(200);
    expect((await login(file, 'head@school.example', 'a very long passphrase\n')).status).toBe(401);
  });

  it('refuses a short password and a taken email in one line each, exit code 1', async () => {
    const file = join(dir, 'refuse.db');
    const env = { DATABASE_URL: file };
    const short = await cli(
      ['users', 'create-admin', '--email', 'a@b.example', '--password', 'short'],
      env,
    );
    expect(short.code).toBe(1);
    expect(short.stderr.trim()).toBe('learntwin: password must be at least 10 characters');
    const ok = await cli(
      ['users', 'create-admin', '--email', 'a@b.example', '--password', 'long enough pw'],
      env,
    );
    expect(ok.code).toBe(0);
    const taken = await cli(
      ['users', 'create-admin', '--email', 'A@b.example', '--password', 'long enough pw'],
      env,
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('email is already used by another account');
  });
});

describe('learntwin import roster', () => {
  it('creates accounts and memberships, and reports bad rows by line', async () => {
    const file = join(dir, 'roster.db');
    const csv = join(dir, 'roster.csv');
    writeFileSync(
      csv,
      'class_id,student_id,email,name,role\n' +
        'c1,s1,,"Lee, Ann",learner\n' +
        'c1,,teach@school.example,Teacher,instructor\n' +
        ',s2,,Bob,learner\n' +
        'c2,s1,,"Lee, Ann",learner\n',
    );
    const r = await cli(['import', 'roster', csv], { DATABASE_URL: file });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '4 rows; 2 accounts created, 0 updated, 3 memberships added, 1 rows rejected',
    );
    expect(r.stdout).toContain('line 4: class_id is required');
    const again = await cli(['import', 'roster', csv], { DATABASE_URL: file });
    expect(again.stdout).toContain('0 accounts created, 0 updated, 0 memberships added');
  });

  it('says so in one line when the file cannot be read', async () => {
    const r = await cli(['import', 'roster', join(dir, 'missing.csv')], {
      DATABASE_URL: join(dir, 'm.db'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^learntwin: cannot read .*missing\.csv/);
  });
});

describe('learntwin demo accounts', () => {
  it('prints an admin, a teacher and a learner with passwords once; the teacher sees their class', async () => {
    const file = join(dir, 'demo.db');
    const args = ['demo', '--classes', '2', '--students', '4', '--days', '2'];
    const r = await cli(args, { DATABASE_URL: file });
    expect(r.code).toBe(0);
    const teacher = /(teacher@learntwin\.example)\s+(\S+)\s+instructor of (\S+)/.exec(r.stdout);
    expect(teacher, r.stdout).not.toBeNull();
    expect(r.stdout).toMatch(/admin@learntwin\.example\s+\S{16}\s+administrator/);
    expect(r.stdout).toMatch(/learner@learntwin\.example\s+\S{16}\s+learner \S+ in /);
    const seen = await login(file, teacher![1]!, teacher![2]!);
    expect(seen.status).toBe(200);
    expect(seen.classes.classes.map((c: { class_id: string }) => c.class_id)).toEqual([
      teacher![3],
    ]);
    const again = await cli(args, { DATABASE_URL: file });
    expect(again.stdout).toContain('exists already');
    expect(again.stdout).not.toContain(teacher![2]!);
  });
});
