import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bitStringOf,
  blobCount,
  blobOf,
  blobOr,
  registerBitmapFunctions,
} from '../../src/db/bitmap.ts';

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
});
