import { Kysely, SqliteDialect } from 'kysely';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { precompiled } from '../../src/db/precompiled.ts';

interface DB {
  t: { k: string; v: number };
}

describe('precompiled queries', () => {
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
  const byKey = precompiled((q: Kysely<DB>, k: string, min: number | null, limit: number) => {
    let query = q.selectFrom('t').selectAll().where('k', '=', k);
    if (min !== null) query = query.where('v', '>=', min);
    return query.orderBy('v').limit(limit);
  });

  it('answers like the query built anew, for each shape of arguments', async () => {
    await db.schema.createTable('t').addColumn('k', 'text').addColumn('v', 'integer').execute();
    await db
      .insertInto('t')
      .values([
        { k: 'a', v: 1 },
        { k: 'a', v: 5 },
        { k: 'a', v: 9 },
        { k: 'b', v: 7 },
      ])
      .execute();
    expect(await byKey(db, 'a', null, 10)).toEqual([
      { k: 'a', v: 1 },
      { k: 'a', v: 5 },
      { k: 'a', v: 9 },
    ]);
    expect(await byKey(db, 'a', 5, 10)).toEqual([
      { k: 'a', v: 5 },
      { k: 'a', v: 9 },
    ]);
    expect(await byKey(db, 'b', null, 10)).toEqual([{ k: 'b', v: 7 }]);
    expect(await byKey(db, 'a', 2, 1)).toEqual([{ k: 'a', v: 5 }]);
  });

  it('refuses a query with a value that is not one of its arguments', async () => {
    const bad = precompiled((q: Kysely<DB>, k: string) =>
      q.selectFrom('t').selectAll().where('k', '=', k).where('v', '=', 3),
    );
    await expect(bad(db, 'a')).rejects.toThrow(/not an argument/);
  });
});
