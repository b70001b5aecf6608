/**
 * The `learntwin` command: serve, migrate, demo, recompute, fit, users and import. Run by bin/learntwin.js (through
 * tsx, so no build step) and by `npm run demo`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createDatabase, type Db } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { migrations } from './db/migrations/index.ts';
import { DEMO_DEFAULTS } from './demo/generate.ts';
import { loadDemo } from './demo/load.ts';
import { demoSummary } from './demo/summary.ts';
import { parseInstant } from './models/time.ts';
import { AppError } from './http/errors.ts';
import { PulseService } from './modules/pulse/pulse.service.ts';
import { MasteryService } from './modules/learning/mastery.service.ts';
import { handleSignals, startServer } from './server.ts';
import { createAdmin, importRosterFile, readPassword } from './cli/users.ts';
import { ensureDemoAccounts, ensureDemoRosters } from './demo/accounts.ts';
import { AccountsService } from './modules/accounts/accounts.service.ts';
import { AuditService } from './modules/audit/audit.service.ts';
import { VERSION } from './version.ts';

/** A failure the user can act on: printed as one line, without a stack trace. */
class CliError extends Error {}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** The code of a system, pg or SQLite error; Node reports a refused dual-stack connect as an AggregateError. */
function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string') return e.code;
  return Array.isArray(e.errors) ? codeOf(e.errors[0]) : undefined;
}

function messageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (msg) return msg;
  const inner = (err as { errors?: unknown[] }).errors?.[0];
  return inner ? messageOf(inner) : (codeOf(err) ?? 'unknown error');
}

/** Turns what the database layer throws into a message that names the database, not a stack. */
function databaseError(err: unknown, location: string): unknown {
  const code = codeOf(err);
  // System errors, SQLite result codes and PostgreSQL SQLSTATEs; anything else may be a bug.
  if (code === undefined || !/^(E[A-Z]+|SQLITE_\w+|[0-9A-Z]{5}|ERR_INVALID_URL)$/.test(code)) {
    return err;
  }
  if (CONNECTION_CODES.has(code)) {
    return new CliError(`cannot reach the database at ${location} (${code}); is it running?`);
  }
  return new CliError(`database error at ${location}: ${messageOf(err)}`);
}

/** A database URL fit for a message: without the user and password. */
const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//');

/** Opens (and migrates) the configured database, runs `fn`, and always closes it. */
async function withDatabase<T>(
  cfg: Config,
  fn: (database: Db, applied: string[]) => Promise<T>,
): Promise<T> {
  let location = redact(cfg.databaseUrl);
  let database: Db | undefined;
  try {
    database = createDatabase({
      url: cfg.databaseUrl,
      sqliteSynchronous: cfg.sqliteSynchronous,
      // Commands run one statement at a time; no need to hold a server-sized pool.
      pgPoolSize: Math.min(cfg.pgPoolSize, 4),
    });
    location = database.location;
    const applied = await migrateToLatest(database.db);
    return await fn(database, applied);
  } catch (err) {
    throw databaseError(err, location);
  } finally {
    await database?.close().catch(() => undefined);
  }
}

const plural = (k: number, word: string, many = `${word}s`) => `${k} ${k === 1 ? word : many}`;

function integer(min: number, max: number) {
  return (raw: string): number => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}.`);
    }
    return v;
  };
}

function day(raw: string): string {
  const parsed = parseInstant(raw);
  if (!parsed?.dateOnly) throw new InvalidArgumentError('must be a date like 2026-11-20.');
  // Intake refuses times more than a day ahead of the clock.
  if (raw > new Date().toISOString().slice(0, 10)) {
    throw new InvalidArgumentError('must not be after today (UTC).');
  }
  return raw;
}

async function serve(): Promise<void> {
  const cfg = loadConfig();
  let running;
  try {
    running = await startServer(cfg);
  } catch (err) {
    const code = codeOf(err);
    if (code === 'EADDRINUSE') {
      throw new CliError(`port ${cfg.port} on ${cfg.host} is already in use; set PORT to another`);
    }
    if (code === 'EADDRNOTAVAIL') throw new CliError(`cannot listen on HOST ${cfg.host}`);
    throw databaseError(err, redact(cfg.databaseUrl));
  }
  handleSignals(running);
  running.app.log.info(
    `API on ${running.url}  ·  docs ${running.url}/docs  ·  OpenAPI ${running.url}/openapi.json`,
  );
}

async function migrate(): Promise<void> {
  await withDatabase(loadConfig(), async (database, applied) => {
    console.log(`Database: ${database.location} (${database.dialect})`);
    if (applied.length === 0) {
      const total = Object.keys(migrations).length;
      console.log(`Already up to date: all ${plural(total, 'migration')} applied earlier.`);
    } else {
      console.log(`Applied ${plural(applied.length, 'migration')}:`);
      for (const name of applied) console.log(`  ${name}`);
    }
  });
}

interface DemoFlags {
  classes: number;
  students: number;
  days: number;
  seed: number;
  until?: string;
}

async function demo(flags: DemoFlags): Promise<void> {
  const cfg = loadConfig();
  const started = performance.now();
  const progress = process.stderr.isTTY
    ? (d: { records: number }) => process.stderr.write(`\r  stored ${d.records} records…`)
    : undefined;
  await withDatabase(cfg, async (database, applied) => {
    if (applied.length) console.log(`Applied ${plural(applied.length, 'migration')} first.`);
    const result = await loadDemo(database, { ...flags, onBatch: progress });
    if (progress) process.stderr.write('\r\x1b[K');
    const pulse = new PulseService(
      database.db,
      database.dialect,
      cfg.ruleThresholds,
      database.writer,
    );
    const top = new Map<string, string>();
    for (const c of result.classes) {
      if (c.records === 0) continue;
      const first = (await pulse.recommendations(c.id, {})).recommendations[0];
      top.set(c.id, first ? `${first.code} (${first.priority})` : 'none');
    }
    const first = result.classes[0];
    const audit = new AuditService(database.db, { error: (o: unknown) => console.error(o) });
    const service = new AccountsService(database.db, audit);
    await ensureDemoRosters(
      database.db,
      service,
      result.classes.map((c) => c.id),
    );
    const accounts = first ? await ensureDemoAccounts(database.db, service, first.id) : [];
    const seconds = (performance.now() - started) / 1000;
    const { location, dialect } = database;
    console.log(demoSummary({ result, location, dialect, seconds, top, config: cfg, accounts }));
  });
}

async function recompute(): Promise<void> {
  const cfg = loadConfig();
  await withDatabase(cfg, async (database) => {
    const { classes, duration_ms } = await new PulseService(
      database.db,
      database.dialect,
      cfg.ruleThresholds,
      database.writer,
    ).recompute();
    console.log(
      `Rebuilt the projections of ${plural(classes, 'class', 'classes')} from the record log of ${database.location} in ${duration_ms} ms.`,
    );
    const m = await new MasteryService(database.db, database.writer).recomputeAll();
    console.log(
      `Rebuilt concept mastery of ${plural(m.learners, 'learner')} (${plural(m.attempts, 'attempt')}) in ${m.duration_ms} ms.`,
    );
  });
}

async function fit(flags: { concept?: string }): Promise<void> {
  const cfg = loadConfig();
  await withDatabase(cfg, async (database) => {
    const mastery = new MasteryService(database.db, database.writer);
    let fits: Awaited<ReturnType<MasteryService['fitAll']>>;
    try {
      // `--concept ''` names a concept (none has that id), not "all of them".
      fits =
        flags.concept !== undefined
          ? { concepts: [await mastery.fitConcept(flags.concept)], skipped: [], duration_ms: 0 }
          : await mastery.fitAll();
    } catch (err) {
      // Not found, too little data: the user's to fix, said in one line.
      if (err instanceof AppError) throw new CliError(err.message);
      throw err;
    }
    for (const c of fits.concepts) {
      const p = c.params;
      const f = (x: number) => x.toFixed(3);
      console.log(
        `${c.concept_id}: p_init ${f(p.p_init)}  p_learn ${f(p.p_learn)}  p_slip ${f(p.p_slip)}  ` +
          `p_guess ${f(p.p_guess)}  (${c.fit?.attempts ?? 0} attempts of ${c.fit?.sequences ?? 0} learners)`,
      );
    }
    for (const s of fits.skipped) console.log(`${s.concept_id}: skipped, ${s.reason}`);
    console.log(
      `Fitted ${plural(fits.concepts.length, 'concept')}; mastery replayed with the new parameters.`,
    );
  });
}

async function usersCreateAdmin(flags: { email: string; name?: string; password?: string }) {
  const cfg = loadConfig();
  const password = await readPassword(flags.password);
  await withDatabase(cfg, async (database) => {
    try {
      console.log(await createAdmin(database.db, { ...flags, password }));
    } catch (err) {
      if (err instanceof Error && !codeOf(err)) throw new CliError(err.message);
      throw err;
    }
  });
}

async function importRosterCmd(file: string) {
  await withDatabase(loadConfig(), async (database) => {
    let out;
    try {
      out = await importRosterFile(database.db, file);
    } catch (err) {
      if (err instanceof Error && !codeOf(err)) throw new CliError(err.message);
      throw err;
    }
    console.log(out.text);
    if (!out.ok) process.exitCode = 1;
  });
}

const program = new Command()
  .name('learntwin')
  .description(
    'Learntwin learning-analytics API. Configured by environment variables (see README).',
  )
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    '\nEnvironment: DATABASE_URL (postgres://… or a SQLite file; default ./data/learntwin.db),\n' +
      'HOST, PORT, API_KEY, LOG_LEVEL, JWT_SECRET, REDIS_URL, RATE_LIMIT_* and the RULE_* thresholds.',
  );

program
  .command('serve')
  .description(
    'start the HTTP API (as npm start, which also gives node a 64 MiB young generation: ' +
      'NODE_OPTIONS=--max-semi-space-size=64 does the same here)',
  )
  .action(serve);

program
  .command('migrate')
  .description('apply pending database migrations and list them')
  .action(migrate);

program
  .command('demo')
  .description(
    'load a synthetic, deterministic demo data set through the ingest path (migrating first); ' +
      're-running it stores nothing twice, and it can run while the server is up',
  )
  .addOption(
    new Option('--classes <n>', 'number of classes')
      .argParser(integer(1, 50))
      .default(DEMO_DEFAULTS.classes),
  )
  .addOption(
    new Option('--students <n>', 'students per class')
      .argParser(integer(1, 200))
      .default(DEMO_DEFAULTS.students),
  )
  .addOption(
    new Option('--days <n>', 'school days (weekdays) to cover')
      .argParser(integer(1, 260))
      .default(DEMO_DEFAULTS.days),
  )
  .addOption(
    new Option('--seed <n>', 'random seed; the same seed gives the same records and event ids')
      .argParser(integer(0, 2 ** 32 - 1))
      .default(DEMO_DEFAULTS.seed),
  )
  .addOption(
    new Option(
      '--until <date>',
      'last day to cover, YYYY-MM-DD (default: yesterday, UTC)',
    ).argParser(day),
  )
  .action(demo);

program
  .command('recompute')
  .description('rebuild the class projections and concept mastery from the logs')
  .action(recompute);

program
  .command('fit')
  .description(
    "fit BKT parameters per concept by EM from every learner's attempts, then replay mastery",
  )
  .option('--concept <id>', 'fit only this concept')
  .action(fit);

const users = program.command('users').description('manage accounts from the shell');
users
  .command('create-admin')
  .description(
    'create an administrator (also the way in on a fresh install); without --password, the password is read from standard input',
  )
  .requiredOption('--email <email>', 'the administrator’s email (their sign-in name)')
  .option('--name <name>', 'display name (default: the email)')
  .option(
    '--password <password>',
    'at least 10 characters (prefer standard input: it stays out of the shell history)',
  )
  .action(usersCreateAdmin);

program
  .command('import')
  .description('import data from a file')
  .command('roster <file>')
  .description(
    'import a class roster CSV (class_id,student_id,email,name,role): creates accounts and enrols them',
  )
  .action(importRosterCmd);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`learntwin: configuration error: ${err.message}`);
  } else if (err instanceof CliError) {
    console.error(`learntwin: ${err.message}`);
  } else {
    // Not something the user can fix from here: keep the stack for the bug report.
    console.error('learntwin: unexpected error:', err);
  }
  process.exitCode = 1;
}
