import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createDatabase, type Db } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

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
  close(): Promise<void>;
}

/** An app on a fresh database; `env` adds configuration as environment variables would. */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDb();
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env, DATABASE_URL: database.location });
  const app = await buildApp({ config, database });
  await app.ready();
  return {
    app,
    database,
    async close() {
      await app.close();
      await database.drop();
    },
  };
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
