import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bitStringOf,
  blobCount,
  blobOf,
  blobOr,
  registerBitmapFunctions,
} from '../../src/db/bitmap.ts';
import { createTestApp, TEST_DATABASE_URL, type TestApp } from '../helpers/app.ts';

if (!TEST_DATABASE_URL) {
  console.warn(
    'bitmap.test.ts: the PostgreSQL functions are skipped: no PostgreSQL at TEST_DATABASE_URL',
  );
}

describe('student-set bitmaps', () => {
  it('puts member i at bit i mod 8 of byte i / 8, and in position i of a bit string', () => {
    expect([...blobOf([0])]).toEqual([1]);
    expect([...blobOf([1, 8, 9, 23])]).toEqual([0b10, 0b11, 0b1000_0000]);
    expect(bitStringOf([0])).toBe('1');
    expect(bitStringOf([1, 4])).toBe('01001');
    expect(bitStringOf([])).toBe('');
  });

  it('unites sets of different lengths and counts their members', () => {
    const a = blobOf([0, 3]);
    const b = blobOf([3, 17]);
    const u = blobOr(a, b)!;
    expect(blobCount(u)).toBe(3);
    expect([...u]).toEqual([...blobOf([0, 3, 17])]);
    // the longer one need not come first, and null is the empty set
    expect([...blobOr(blobOf([17]), blobOf([0]))!]).toEqual([...blobOf([0, 17])]);
    expect(blobOr(null, null)).toBeNull();
    expect([...blobOr(null, a)!]).toEqual([...a]);
    expect(blobCount(blobOf(Array.from({ length: 300 }, (_, i) => i)))).toBe(300);
  });

  describe('as SQLite functions', () => {
    const db = new SQLite(':memory:');
    registerBitmapFunctions(db);
    afterAll(() => db.close());
    db.exec('create table t (g text, i integer)');
    const ins = db.prepare('insert into t values (?, ?)');
    for (const [g, i] of [
      ['a', 0],
      ['a', 9],
      ['a', 9],
      ['b', 40],
      ['b', 2],
    ] as const) {
      ins.run(g, i);
    }

    it('counts the distinct members of a group like count(distinct)', () => {
      const rows = db
        .prepare(
          `select g, bitmap_count(bitmap_union(bitmap_of(i))) as n, count(distinct i) as d
           from t group by g order by g`,
        )
        .all();
      expect(rows).toEqual([
        { g: 'a', n: 2, d: 2 },
        { g: 'b', n: 2, d: 2 },
      ]);
    });

    it('unites in a scalar, with null as the empty set, and leaves its arguments alone', () => {
      const a = blobOf([1]);
      const row = db
        .prepare('select bitmap_or(?, ?) as u, bitmap_or(null, ?) as v, bitmap_count(null) as c')
        .get(a, blobOf([30]), a) as { u: Buffer; v: Buffer; c: null };
      expect(blobCount(row.u)).toBe(2);
      expect([...row.v]).toEqual([...a]);
      expect(row.c).toBeNull();
      expect([...a]).toEqual([0b10]);
      expect(db.prepare('select bitmap_union(null) as u from t').get()).toEqual({ u: null });
    });

    it('refuses what is not a set or a member', () => {
      expect(() => db.prepare("select bitmap_count('abc')").get()).toThrow(/blobs/);
      expect(() => db.prepare('select bitmap_of(-1)').get()).toThrow(/integer/);
    });
  });

  describe.skipIf(!TEST_DATABASE_URL)('as PostgreSQL functions', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => {
      await t.close();
    });
    const one = async <R>(q: ReturnType<typeof sql<R>>) =>
      (await q.execute(t.database.db)).rows[0]!;

    it('counts the distinct members of a group like count(distinct), whatever the order of lengths', async () => {
      const { rows } = await sql<{ g: string; n: number; d: number; s: string }>`
        select g, bitmap_count(bitmap_union(bitmap_of(i)))::int as n, count(distinct i)::int as d,
          bitmap_union(bitmap_of(i) order by k)::text as s
        from (values ('a', 1, 0), ('a', 2, 9), ('a', 3, 9), ('b', 1, 40), ('b', 2, 2),
          ('c', 1, 2), ('c', 2, 40), ('d', 1, 3), ('d', 2, 3)) as v(g, k, i)
        group by g order by g`.execute(t.database.db);
      expect(rows.map((r) => [r.g, r.n, r.d])).toEqual([
        ['a', 2, 2],
        ['b', 2, 2],
        ['c', 2, 2],
        ['d', 1, 1],
      ]);
      // longer first, shorter first, equal lengths: the same set, as wide as its last member
      const forty = `00${'1'}${'0'.repeat(37)}1`;
      expect(rows[1]!.s).toBe(forty);
      expect(rows[2]!.s).toBe(forty);
      expect(rows[3]!.s).toBe('0001');
    });

    it('unites in a scalar, with null as the empty set, and matches the bit strings the writer sends', async () => {
      const r = await one(
        sql<{ u: string; v: string; c: number | null; e: null }>`select
          bitmap_or(${bitStringOf([1])}::bit varying, ${bitStringOf([30])}::bit varying)::text as u,
          bitmap_or(null, ${bitStringOf([1])}::bit varying)::text as v,
          bitmap_count(null) as c,
          (select bitmap_union(x) from (values (null::bit varying)) as n(x)) as e`,
      );
      expect(r).toEqual({ u: bitStringOf([1, 30]), v: '01', c: null, e: null });
    });
  });
});
