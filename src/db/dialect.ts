/** The few places where SQLite and PostgreSQL differ. */
export type Dialect = 'sqlite' | 'postgres';

/** SQLite caps bound parameters per statement (32766 since 3.32); PostgreSQL at 65535. */
export function maxParams(dialect: Dialect): number {
  return dialect === 'sqlite' ? 32_000 : 65_000;
}

/** Splits rows into chunks whose multi-row statements stay under the parameter cap. */
export function chunkForInsert<T>(rows: T[], columns: number, dialect: Dialect): T[][] {
  const size = Math.max(1, Math.floor(maxParams(dialect) / columns));
  if (rows.length <= size) return [rows];
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
