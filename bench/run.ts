/**
 * Learntwin benchmark: starts the server as a child process on a fresh SQLite file in a temp
 * directory (or on BENCH_DATABASE_URL, a postgres:// URL of an EMPTY database), drives it with
 * autocannon from this process and prints one line per figure against its target.
 *
 *   npm run bench
 *   BENCH_DURATION=3 BENCH_ROWS=100000 npx tsx bench/run.ts
 *   BENCH_ONLY=mastery,export npx tsx bench/run.ts
 *   BENCH_ONLY=events,learner_mastery,recompute,fit npx tsx bench/run.ts
 *
 * Environment:
 *   BENCH_DURATION     seconds per measurement (default 10)
 *   BENCH_WARMUP       seconds of unrecorded load before each measurement (default 1)
 *   BENCH_ROWS         rows of the fill and of the export class, and learning events in the
 *                      log before the recompute (default 1000000)
 *   BENCH_ONLY         comma list of reference (a bare Fastify server: the machine's yardstick),
 *                      ingest1, ingest100, mastery, export, events, learner_mastery, recompute,
 *                      fit (default all)
 *   BENCH_CONNECTIONS  override the connection counts (default ingest 100, mastery 16; events 100,
 *                      learner_mastery 16)
 *   BENCH_INGEST_TS    live (default: ingest timestamps within the last minute) or spread
 *                      (over the last 90 days, like the fill)
 *   BENCH_DATABASE_URL postgres:// URL of an empty database to use instead of SQLite
 *   BENCH_FIT_DATABASE_URL  postgres:// URL of another empty database for the fit phase's own
 *                      server (default: a fresh SQLite file, also when BENCH_DATABASE_URL is set)
 *   BENCH_SERVER_NODE_ARGS  extra node flags for the server processes, space-separated, e.g.
 *                      "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them
 * The server's own settings (API_KEY, SQLITE_SYNCHRONOUS, PG_POOL_SIZE, …) pass through.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAY_MS, DAYS } from './data.ts';
import { events, fit, learnerMastery, recompute } from './learning.ts';
import { reference } from './reference.ts';
import { type Ctx, exportOne, fill, ingest, mastery } from './phases.ts';
import { formatTable, machineInfo, Report, sourceInfo, writeResults } from './report.ts';
import { freePort, type ServerHandle, startServer } from './server.ts';

/**
 * Every request carries an API key, as in production (a fresh server refuses anonymous data
 * requests). Rate limits stay on, set high enough not to bite, so that their cost is measured.
 */
const SERVER_ENV: Record<string, string | undefined> = {
  API_KEY: process.env.API_KEY || `bench-${randomBytes(12).toString('hex')}`,
  RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE || '10000000',
};

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const PHASES = [
  'reference',
  'ingest1',
  'ingest100',
  'mastery',
  'export',
  'events',
  'learner_mastery',
  'recompute',
  'fit',
] as const;
type Phase = (typeof PHASES)[number];

class UsageError extends Error {}

function envNumber(name: string, fallback: number, integer: boolean, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
  return n;
}

function envPhases(): Phase[] {
  const raw = process.env.BENCH_ONLY?.trim();
  if (!raw) return [...PHASES];
  const wanted = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const w of wanted) {
    if (!(PHASES as readonly string[]).includes(w)) {
      throw new UsageError(`BENCH_ONLY: unknown "${w}"; use a comma list of ${PHASES.join(', ')}`);
    }
  }
  return PHASES.filter((p) => wanted.includes(p));
}

/** The database URL without credentials, for the results file. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'postgres (unparsable URL)';
  }
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function main(): Promise<number> {
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0]!;
  const source = sourceInfo(ROOT);
  const durationS = envNumber('BENCH_DURATION', 10, false, 1);
  const warmupS = envNumber('BENCH_WARMUP', 1, false, 0);
  const rows = envNumber('BENCH_ROWS', 1_000_000, true, 1);
  const conns = envNumber('BENCH_CONNECTIONS', 0, true, 0);
  const phases = envPhases();
  const ingestTs = process.env.BENCH_INGEST_TS?.trim() || 'live';
  if (ingestTs !== 'live' && ingestTs !== 'spread') {
    throw new UsageError('BENCH_INGEST_TS must be live or spread');
  }
  const pgUrl = process.env.BENCH_DATABASE_URL?.trim() || undefined;
  if (pgUrl && !/^postgres(ql)?:\/\//i.test(pgUrl)) {
    throw new UsageError('BENCH_DATABASE_URL must be a postgres:// URL');
  }
  const fitPgUrl = process.env.BENCH_FIT_DATABASE_URL?.trim() || undefined;
  if (fitPgUrl && !/^postgres(ql)?:\/\//i.test(fitPgUrl)) {
    throw new UsageError('BENCH_FIT_DATABASE_URL must be a postgres:// URL');
  }
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

  if (loadAtStart > 0.5) {
    log(`note: load average ${loadAtStart.toFixed(2)} at start; other work will skew the figures`);
  }
  const tmp = mkdtempSync(join(os.tmpdir(), 'learntwin-bench-'));
  let server: ServerHandle | undefined;
  const others: ServerHandle[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all(others.map((s) => s.stop()));
      if (server) {
        const t = performance.now();
        await server.stop();
        const code = await server.exited;
        log(`server stopped (exit ${code}) in ${((performance.now() - t) / 1000).toFixed(1)}s`);
      }
      rmSync(tmp, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the server and removing ${tmp}`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const report = new Report();
  const details: Record<string, unknown> = {};
  let dialect = 'unknown';
  let error: string | undefined;
  try {
    const databaseUrl = pgUrl ?? join(tmp, 'bench.db');
    const port = await freePort();
    log(`starting the server on port ${port} (${pgUrl ? redact(pgUrl) : databaseUrl})`);
    server = await startServer({ root: ROOT, databaseUrl, port, nodeArgs, env: SERVER_ENV });
    dialect = server.dialect;
    log(`server pid ${server.pid} ready at ${server.url} (${dialect})`);

    const ctx: Ctx = {
      url: server.url,
      pid: server.pid,
      headers: { 'x-api-key': SERVER_ENV.API_KEY! },
      durationS,
      warmupS,
      rows,
      ingestSpanMs: ingestTs === 'live' ? 60_000 : DAYS * DAY_MS,
      connections: {
        ingest1: conns || 100,
        // The same 100 clients send 1 or 100 records per request. (With 50, half of them wait
        // on the batch being stored while the other half fill the next one, and the writer
        // idles between batches: it measured 88% busy.)
        ingest100: conns || 100,
        // p99 ≤ 10 ms is a latency target: at 50 connections queueing alone would add 10 ms at
        // 5,000 req/s, so reads are driven by 16 clients.
        mastery: conns || 16,
        // Event intake is driven like record intake, by 100 clients (50 measured 20% fewer events/s:
        // smaller group commits, so more index pages written per event).
        events: conns || 100,
        learnerMastery: conns || 16,
      },
      report,
      details,
      log,
    };
    details.connections = ctx.connections;

    const died = server.exited.then((code) => {
      throw new Error(`the server exited unexpectedly (${code})`);
    });
    died.catch(() => undefined);
    const steps: [Phase, () => Promise<void>][] = [
      ['reference', () => reference(ctx, ROOT)],
      ['ingest1', () => ingest(ctx, 1)],
      ['ingest100', () => ingest(ctx, 100)],
      [
        'mastery',
        async () => {
          await fill(ctx);
          await mastery(ctx);
        },
      ],
      ['export', () => exportOne(ctx)],
      ['events', () => events(ctx)],
      ['learner_mastery', () => learnerMastery(ctx)],
      ['recompute', () => recompute(ctx)],
      [
        'fit',
        () =>
          fit(ctx, async () => {
            const url = fitPgUrl ?? join(tmp, 'fit.db');
            const port = await freePort();
            log(`starting the fit server on port ${port} (${fitPgUrl ? redact(url) : url})`);
            const s = await startServer({
              root: ROOT,
              databaseUrl: url,
              port,
              nodeArgs,
              env: SERVER_ENV,
            });
            others.push(s);
            return s;
          }),
      ],
    ];
    for (const [phase, step] of steps) {
      if (phases.includes(phase)) await Promise.race([step(), died]);
    }
  } catch (err) {
    error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`FAILED: ${error}`);
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const finishedAt = new Date();
  const machine = machineInfo(dialect, loadAtStart);
  const file = writeResults(RESULTS_DIR, startedAt, {
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    ok: error === undefined && report.failures.length === 0,
    ...(error ? { error } : {}),
    config: {
      duration_s: durationS,
      warmup_s: warmupS,
      rows,
      phases,
      ingest_ts: ingestTs,
      database: pgUrl ? redact(pgUrl) : 'sqlite (temporary file)',
      fit_database: fitPgUrl ? redact(fitPgUrl) : 'sqlite (temporary file)',
      server_node_args: nodeArgs,
      server_env: {
        SQLITE_SYNCHRONOUS: process.env.SQLITE_SYNCHRONOUS ?? 'FULL (default)',
        PG_POOL_SIZE: process.env.PG_POOL_SIZE ?? '10 (default)',
        rate_limit_per_minute: SERVER_ENV.RATE_LIMIT_PER_MINUTE,
      },
    },
    machine,
    source,
    measurements: report.measurements,
    details,
  });

  console.log(
    `\nLearntwin bench · ${machine.dialect} · ${machine.cpu_count}× ${machine.cpu_model} · ` +
      `${Math.round(machine.total_memory_mb / 1024)} GB · node ${machine.node_version} · ` +
      `${durationS}s per run · ${rows.toLocaleString('en-US')} rows · ingest ts ${ingestTs}\n`,
  );
  console.log(formatTable(report.measurements));
  const failed = report.failures.map((m) => m.name);
  console.log(
    `\n${failed.length ? `${failed.length} below target: ${failed.join(', ')}` : 'all targets met'}` +
      `${error ? ' · RUN FAILED (see above)' : ''}\nresults: ${file}`,
  );
  return error ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof UsageError ? `bench: ${err.message}` : err);
    process.exit(2);
  },
);
