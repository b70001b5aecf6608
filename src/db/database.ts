import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { isPostgresUrl } from '../config.ts';
import type { Dialect } from './dialect.ts';
import type { Database } from './schema.ts';

export interface DatabaseOptions {
  /** `postgres://…` for PostgreSQL, otherwise a SQLite file path (or `:memory:`). */
  url: string;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  pgPoolSize?: number;
  /** PostgreSQL schema to work in (tests use one per file); it must exist. */
  pgSchema?: string;
}

export interface Db {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, without credentials, for logs and /health. */
  location: string;
  close(): Promise<void>;
}

// PostgreSQL returns 64-bit integers and numerics as strings; our counts fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/**
 * Kysely prepares every query anew; compiling SQL is a large part of a small query's cost in
 * SQLite, so prepared statements are kept by their text (bounded, least recently used out).
 */
function withStatementCache(sqlite: SQLite.Database, max = 500) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = sqlite.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

export function createDatabase(opts: DatabaseOptions): Db {
  if (isPostgresUrl(opts.url)) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.pgPoolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      ...(opts.pgSchema ? { options: `-c search_path=${opts.pgSchema}` } : {}),
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const u = new URL(opts.url);
    return {
      db,
      dialect: 'postgres',
      location: `postgres://${u.host}${u.pathname}`,
      close: () => db.destroy(),
    };
  }

  if (opts.url !== ':memory:') mkdirSync(dirname(opts.url), { recursive: true });
  const sqlite = new SQLite(opts.url);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${opts.sqliteSynchronous ?? 'FULL'}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('cache_size = -65536'); // 64 MiB of page cache: indexes of millions of rows stay hot
  sqlite.pragma('temp_store = MEMORY');
  // Checkpoint the WAL every ~40 MB rather than every 4 MB: fewer, larger copies into the
  // database file under a steady stream of writes.
  sqlite.pragma('wal_autocheckpoint = 10000');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  return { db, dialect: 'sqlite', location: opts.url, close: () => db.destroy() };
}
