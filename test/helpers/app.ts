import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Kysely, Migrator, sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createDatabase, type Db } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { migrations } from '../../src/db/migrations/index.ts';

/** PostgreSQL for the suite when TEST_DATABASE_URL is set; SQLite otherwise. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const DIALECT = TEST_DATABASE_URL ? 'postgres' : 'sqlite';

export interface TestDb extends Db {
  drop(): Promise<void>;
}

/** A fresh, migrated database: a temporary SQLite file, or a new PostgreSQL schema. */
export async function createTestDb(): Promise<TestDb> {
  if (TEST_DATABASE_URL) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const database = createDatabase({ url: TEST_DATABASE_URL, pgSchema: schema, pgPoolSize: 4 });
    await migrateToLatest(database.db, schema);
    return {
      ...database,
      async drop() {
        await database.close();
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`drop schema ${schema} cascade`);
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'learntwin-test-'));
  const database = createDatabase({ url: join(dir, 'test.db'), sqliteSynchronous: 'NORMAL' });
  await migrateToLatest(database.db);
  return {
    ...database,
    async drop() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  database: TestDb;
  /** the full-scope key that requests carry unless they bring their own credentials */
  key: string | undefined;
  close(): Promise<void>;
}

export const TEST_KEY = 'test-suite-key';

/**
 * An app on a fresh database; `env` adds configuration as environment variables would.
 * Unless `env` sets API_KEY itself, the app has a full-scope API_KEY and `app.inject` sends it
 * on every request that carries no `x-api-key` or `authorization` header of its own (pass
 * `{ 'x-api-key': undefined }` to send none). Rate limits are off unless `env` sets them.
 */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDb();
  const ownKey = !('API_KEY' in env);
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_AUTH_PER_MINUTE: '0',
    ...(ownKey ? { API_KEY: TEST_KEY } : {}),
    ...env,
    DATABASE_URL: database.location,
  });
  const app = await buildApp({ config, database });
  await app.ready();
  if (ownKey) withDefaultKey(app, TEST_KEY);
  return {
    app,
    database,
    key: config.apiKey,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

function withDefaultKey(app: FastifyInstance, key: string): void {
  const inject = app.inject.bind(app);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (app as any).inject = (opts: any) => {
    if (opts === undefined) return inject();
    if (typeof opts === 'string') opts = { url: opts };
    const headers: Record<string, unknown> = { ...(opts.headers ?? {}) };
    const own = 'x-api-key' in headers || 'authorization' in headers;
    if (!own) headers['x-api-key'] = key;
    for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
    return inject({ ...opts, headers });
  };
}

/** A migrator of the test database's own schema (on PostgreSQL, the schema it runs in). */
export async function testMigrator<DB>(db: Kysely<DB>): Promise<Migrator> {
  const schema =
    DIALECT === 'postgres'
      ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]!.s
      : undefined;
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

export function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    class_id: 'c1',
    student_id: 's1',
    stuck: 0,
    got_it: 1,
    pause: 0,
    example: 1,
    confidence: 8,
    ...overrides,
  };
}

export async function post(app: FastifyInstance, url: string, payload: unknown, headers = {}) {
  return app.inject({ method: 'POST', url, payload: payload as object, headers });
}
