/** The few places where SQLite and PostgreSQL differ. */
export type Dialect = 'sqlite' | 'postgres';

/** SQLite caps bound parameters per statement (32766 since 3.32); PostgreSQL at 65535. */
export function maxParams(dialect: Dialect): number {
  return dialect === 'sqlite' ? 32_000 : 65_000;
}

/**
 * Splits rows for multi-row statements. Pieces have power-of-two sizes (up to 256 rows, and
 * under the parameter cap), so that only a handful of distinct SQL texts exist and their
 * prepared statements are reused.
 */
export function chunkForInsert<T>(rows: T[], columns: number, dialect: Dialect): T[][] {
  let size = 256;
  while (size > 1 && size * columns > maxParams(dialect)) size /= 2;
  const out: T[][] = [];
  let i = 0;
  while (i < rows.length) {
    while (size > 1 && rows.length - i < size) size /= 2;
    out.push(rows.slice(i, i + size));
    i += size;
  }
  return out;
}
