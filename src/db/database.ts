import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { isPostgresUrl } from '../config.ts';
import type { Dialect } from './dialect.ts';
import type { Database } from './schema.ts';
import { openSqlite, sqliteDialect, type SqliteHandle, type Synchronous } from './sqlite.ts';
import { inProcessWriter, ThreadWriter, type Writer } from './writer.ts';

export interface DatabaseOptions {
  /** `postgres://…` for PostgreSQL, otherwise a SQLite file path (or `:memory:`). */
  url: string;
  sqliteSynchronous?: Synchronous;
  /** how long a SQLite connection waits for another's write lock (default 10 s) */
  sqliteBusyTimeoutMs?: number;
  pgPoolSize?: number;
  /** PostgreSQL schema to work in (tests use one per file); it must exist. */
  pgSchema?: string;
}

export interface Db {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The intake writer: group-committed record and event batches go through it. */
  writer: Writer;
  /** Where the data lives, without credentials, for logs and /health. */
  location: string;
  close(): Promise<void>;
}

// PostgreSQL returns 64-bit integers and numerics as strings; our counts fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

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
      writer: inProcessWriter({ db, dialect: 'postgres', sqlite: undefined }),
      location: `postgres://${u.host}${u.pathname}`,
      close: () => db.destroy(),
    };
  }

  const synchronous = opts.sqliteSynchronous ?? 'FULL';
  const busyTimeoutMs = opts.sqliteBusyTimeoutMs;
  const sqlite: SqliteHandle = openSqlite(opts.url, synchronous, busyTimeoutMs);
  const db = new Kysely<Database>({ dialect: sqliteDialect(sqlite) });
  // An in-memory database exists only on this connection: no other thread can write to it.
  const writer =
    opts.url === ':memory:'
      ? inProcessWriter({ db, dialect: 'sqlite', sqlite })
      : new ThreadWriter({ file: opts.url, synchronous, busyTimeoutMs });
  return {
    db,
    dialect: 'sqlite',
    writer,
    location: opts.url,
    async close() {
      await writer.close();
      await db.destroy();
    },
  };
}
