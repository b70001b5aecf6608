import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/app.ts';

if (!TEST_DATABASE_URL) {
  console.warn('skipped: no PostgreSQL at TEST_DATABASE_URL (the suite ran on SQLite only)');
}

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL', () => {
  it('is reachable at TEST_DATABASE_URL, so this run covers the PostgreSQL dialect', async () => {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    const { rows } = await c.query<{ v: string }>('select version() as v');
    await c.end();
    expect(rows[0]!.v).toMatch(/PostgreSQL/);
  });
});
