import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';
import { registerBitmapFunctions } from './bitmap.ts';

export type SqliteHandle = SQLite.Database;
export type Synchronous = 'FULL' | 'NORMAL';

/** How long a connection waits for another's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 10_000;

/**
 * WAL pages after which a committing connection copies the WAL back into the database file
 * (~40 MB rather than SQLite's 4 MB: fewer, larger copies under a steady stream of writes).
 */
export const WAL_AUTOCHECKPOINT = 10_000;

/** Opens a SQLite file (or `:memory:`) with the settings every Learntwin connection uses. */
export function openSqlite(
  file: string,
  synchronous: Synchronous = 'FULL',
  busyTimeoutMs = BUSY_TIMEOUT_MS,
): SqliteHandle {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${synchronous}`);
  // Two connections write to one file (the request thread and the intake writer thread); one
  // waits for the other's transaction rather than failing.
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('cache_size = -65536'); // 64 MiB of page cache: indexes of millions of rows stay hot
  sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT}`);
  registerBitmapFunctions(sqlite);
  return sqlite;
}

/**
 * Kysely prepares every query anew; compiling SQL is a large part of a small query's cost in
 * SQLite, so prepared statements are kept by their text (bounded, least recently used out).
 */
function withStatementCache(sqlite: SqliteHandle, max = 500) {
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

/**
 * Transactions begin IMMEDIATE: they take the write lock up front. Another connection writes
 * to the same file, and a deferred transaction that read first and then tried to write after
 * that connection committed would fail with SQLITE_BUSY instead of waiting its turn.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class LearntwinSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

export function sqliteDialect(sqlite: SqliteHandle): SqliteDialect {
  return new LearntwinSqliteDialect({ database: withStatementCache(sqlite) });
}
