import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createDatabase, type Db } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';

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
  const app = await buildApp({ config, database });
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length) app.log.info({ migrations: applied }, 'database migrated');
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
  app.log.info(
    {
      database: database.location,
      dialect: database.dialect,
      api_key_required: config.apiKey !== undefined,
    },
    'Learntwin is ready',
  );
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
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
