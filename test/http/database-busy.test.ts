import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createDatabase, type Db } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { DIALECT, post, record, TEST_KEY } from '../helpers/app.ts';

/**
 * Another process holding SQLite's write lock (a `learntwin recompute`, a backup tool, a
 * sqlite3 shell left in a transaction) longer than the busy timeout.
 */
describe.skipIf(DIALECT !== 'sqlite')('a database locked by another process', () => {
  let dir: string;
  let database: Db;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let other: SQLite.Database;
  const headers = { 'x-api-key': TEST_KEY };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'learntwin-busy-'));
    const file = join(dir, 'busy.db');
    database = createDatabase({ url: file, sqliteSynchronous: 'NORMAL', sqliteBusyTimeoutMs: 300 });
    await migrateToLatest(database.db);
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      API_KEY: TEST_KEY,
      RATE_LIMIT_PER_MINUTE: '0',
      DATABASE_URL: file,
    });
    app = await buildApp({ config, database });
    await app.ready();
    other = new SQLite(file);
  });

  afterAll(async () => {
    other.close();
    await app.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After, stores nothing of those requests, and works once it is free', async () => {
    const ok = await post(app, '/api/v1/metrics', [record({ student_id: 'before' })], headers);
    expect(ok.statusCode).toBe(200);

    other.exec('begin immediate');
    const started = Date.now();
    // Requests in one group commit fail together, not after a busy timeout each (which would
    // take 10 × 300 ms and more).
    const locked = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(app, '/api/v1/metrics', [record({ student_id: `locked-${i}` })], headers),
      ),
    );
    const elapsed = Date.now() - started;
    const events = await post(
      app,
      '/api/v1/events',
      { event_type: 'quiz_attempt', user_id: 'u', concept_id: 'k', correct: true },
      headers,
    );
    other.exec('rollback');

    for (const res of [...locked, events]) {
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json().error.code).toBe('database_unavailable');
    }
    expect(elapsed).toBeLessThan(2_500);

    const after = await post(app, '/api/v1/metrics', [record({ student_id: 'after' })], headers);
    expect(after.statusCode).toBe(200);
    const mastery = await app.inject({
      url: '/api/v1/classes/c1/mastery?by=student',
      headers,
    });
    expect(mastery.json().count).toBe(2);
    const students = (mastery.json().by_student as { student_id: string }[]).map(
      (s) => s.student_id,
    );
    expect(students.sort()).toEqual(['after', 'before']);
  });
});

if (DIALECT !== 'sqlite') {
  console.warn(
    'database-busy.test.ts: skipped: SQLite lock tests; the suite runs on PostgreSQL, where writers wait on row locks instead',
  );
  describe('a database locked by another process', () => {
    it.skip('skipped: the suite runs on PostgreSQL, where writers wait on row locks instead', () => {});
  });
}
