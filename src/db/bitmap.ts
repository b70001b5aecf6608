/**
 * Sets of small integers (a class's students by roster ordinal) as bitmaps stored in a
 * column, with the same four SQL functions on both dialects:
 *
 * - `bitmap_of(i)`: the set {i}
 * - `bitmap_or(a, b)`: the union of two sets (either may be null)
 * - `bitmap_union(x)`: the aggregate union
 * - `bitmap_count(x)`: the number of members (null for null)
 *
 * SQLite stores a blob, member i being bit (i mod 8) of byte ⌊i / 8⌋, and gets the functions
 * from `registerBitmapFunctions` on every connection. PostgreSQL stores `bit varying`, member
 * i being the i-th bit from the left, and gets them from a migration. Sets differ in length as
 * a class grows; the union of two is as long as the longer.
 */
import type { SqliteHandle } from './sqlite.ts';
import type { Dialect } from './dialect.ts';

/** A set as SQLite's blob. */
export function blobOf(members: readonly number[]): Buffer {
  let max = -1;
  for (const i of members) if (i > max) max = i;
  // From Node's shared pool: a flush makes thousands of small sets.
  const out = Buffer.allocUnsafe((max >> 3) + 1).fill(0);
  for (const i of members) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** A set as PostgreSQL's `bit varying` literal ('0' and '1', member i at position i). */
export function bitStringOf(members: readonly number[]): string {
  let max = -1;
  for (const i of members) if (i > max) max = i;
  const bits = new Uint8Array(max + 1).fill(48); // '0'
  for (const i of members) bits[i] = 49; // '1'
  return Buffer.from(bits).toString('latin1');
}

/** A set as the dialect's column value. */
export function bitmapOf(dialect: Dialect, members: readonly number[]): Buffer | string {
  return dialect === 'sqlite' ? blobOf(members) : bitStringOf(members);
}

/** The union of two blobs, as long as the longer; `a` may be overwritten. */
export function blobOr(a: Buffer | null, b: Buffer | null): Buffer | null {
  if (a === null) return b === null ? null : Buffer.from(b);
  if (b === null) return a;
  const [long, short] = a.length >= b.length ? [a, b] : [Buffer.from(b), a];
  for (let i = 0; i < short.length; i++) long[i]! |= short[i]!;
  return long;
}

const BYTE_COUNTS = Uint8Array.from({ length: 256 }, (_, x) => {
  let c = 0;
  for (let v = x; v; v &= v - 1) c++;
  return c;
});

/** The number of members of a blob. */
export function blobCount(b: Buffer): number {
  let c = 0;
  for (let i = 0; i < b.length; i++) c += BYTE_COUNTS[b[i]!]!;
  return c;
}

const asBlob = (v: unknown): Buffer | null => {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  throw new TypeError('bitmap functions take blobs');
};

/** Defines the bitmap functions on a SQLite connection. */
export function registerBitmapFunctions(sqlite: SqliteHandle): void {
  sqlite.function('bitmap_of', { deterministic: true }, (i: unknown) => {
    if (typeof i !== 'number' && typeof i !== 'bigint') return null;
    const n = Number(i);
    if (!Number.isInteger(n) || n < 0) throw new RangeError('bitmap_of takes an integer ≥ 0');
    return blobOf([n]);
  });
  sqlite.function('bitmap_or', { deterministic: true }, (a: unknown, b: unknown) =>
    blobOr(asBlob(a) && Buffer.from(asBlob(a)!), asBlob(b)),
  );
  sqlite.aggregate('bitmap_union', {
    start: () => null as Buffer | null,
    step: (acc: Buffer | null, v: unknown) => blobOr(acc, asBlob(v)),
  });
  sqlite.function('bitmap_count', { deterministic: true }, (v: unknown) => {
    const b = asBlob(v);
    return b === null ? null : blobCount(b);
  });
}
