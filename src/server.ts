import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createDatabase, type Db } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';

/** Says at start how to get in: the API_KEY variable, and on a fresh install the setup step. */
async function announceAccess(app: FastifyInstance, config: Config, url: string): Promise<void> {
  if (config.apiKey !== undefined) {
    app.log.info('API_KEY is set: it works as an API key with every scope (X-API-Key or Bearer)');
  }
  if (await app.services.auth.setupNeeded()) {
    const body = JSON.stringify({
      setup_token: app.services.auth.setupToken,
      email: 'you@example.org',
      password: 'a long passphrase',
    });
    app.log.warn(
      `No account exists yet. Create the first administrator (the token works once, until ` +
        `the server restarts):\n  curl -X POST ${url}/api/v1/auth/setup -H 'content-type: ` +
        `application/json' -d '${body}'\nor from the shell: learntwin users create-admin --email E`,
    );
  }
}

export interface Running {
  app: FastifyInstance;
  database: Db;
  url: string;
  stop(): Promise<void>;
}

/** Opens the database, applies migrations and listens; used by `npm start` and `learntwin serve`. */
export async function startServer(config: Config): Promise<Running> {
  const database = createDatabase({
    url: config.databaseUrl,
    sqliteSynchronous: config.sqliteSynchronous,
    pgPoolSize: config.pgPoolSize,
  });
  let app: FastifyInstance | undefined;
  try {
    // Migrations come first: building the app reads the server's kept secrets.
    const applied = await migrateToLatest(database.db);
    app = await buildApp({ config, database });
    if (applied.length) app.log.info({ migrations: applied }, 'database migrated');
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
  app.log.info({ database: database.location, dialect: database.dialect }, 'Learntwin is ready');
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  await announceAccess(app, config, url);
  let stopping: Promise<void> | undefined;
  return {
    app,
    database,
    url,
    stop: () =>
      (stopping ??= (async () => {
        // In-flight requests get a few seconds to finish; then keep-alive clients that keep
        // sending are cut off, so a busy server still stops promptly.
        const cutoff = setTimeout(() => app.server.closeAllConnections(), 3_000);
        try {
          await app.close();
        } finally {
          clearTimeout(cutoff);
        }
        await database.close();
      })()),
  };
}

/** Stops cleanly on SIGINT/SIGTERM: stop accepting, finish requests and pending writes, close. */
export function handleSignals(running: Running): void {
  const onSignal = (signal: NodeJS.Signals) => {
    running.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        running.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
