/**
 * The benchmark steps. Each one measures against a running server and adds its figures to the
 * report; raw numbers go into `details` for the JSON file.
 */
import { CLASSES, DAY_MS, RecordGen } from './data.ts';
import { getJson, type LoadStats, postBatches, runLoad, streamCount } from './load.ts';
import type { Report } from './report.ts';
import { cpuOf, memoryOf, RssSampler } from './server.ts';

export interface Ctx {
  url: string;
  pid: number;
  /** Headers for every request (X-API-Key when API_KEY is set). */
  headers: Record<string, string>;
  durationS: number;
  warmupS: number;
  rows: number;
  /**
   * Timestamps of the ingest runs fall in the last `ingestSpanMs`: a minute for a live class
   * feed (the default), 90 days for a backfill. Random positions over 90 days make every
   * commit touch pages all over the (class_id, ts) index, which costs SQLite several times more.
   */
  ingestSpanMs: number;
  connections: {
    ingest1: number;
    ingest100: number;
    mastery: number;
    events: number;
    learnerMastery: number;
  };
  report: Report;
  details: Record<string, unknown>;
  log(msg: string): void;
}

/** Largest batch the server takes by default (MAX_RECORDS_PER_REQUEST). */
export const MAX_BATCH = 10_000;
export const BULK_CONCURRENCY = 4;
const EXPORT_CLASS = 'export-class';

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => bytes / 1024 / 1024;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Also reports the CPU time each request cost, which the machine's load moves far less than
 * the throughput: a better figure to compare two versions of the code by.
 */
export function checkResponses(ctx: Ctx, name: string, s: LoadStats): void {
  if (s.cpuPerRequestUs) {
    const { server, requestThread, loadGenerator } = s.cpuPerRequestUs;
    ctx.report.add(`${name}.server_cpu_per_request`, round(server, 1), 'µs');
    ctx.report.add(`${name}.request_thread_cpu_per_request`, round(requestThread, 1), 'µs');
    ctx.report.add(`${name}.load_generator_cpu_per_request`, round(loadGenerator, 1), 'µs');
  }
  ctx.report.add(`${name}.non_2xx`, s.non2xx, 'responses', { op: '==', value: 0 });
  if (s.errors > 0) ctx.report.add(`${name}.errors`, s.errors, 'errors', { op: '==', value: 0 });
  if (s.non2xx > 0 || s.errors > 0) {
    const bar = '!'.repeat(72);
    ctx.log(
      `\n${bar}\n!!! WARNING: ${name}: ${s.non2xx} non-2xx responses, ${s.errors} errors ` +
        `(${s.timeouts} timeouts); status codes ${JSON.stringify(s.statusCodes)}\n` +
        `!!! The throughput figures of ${name} are not valid.\n${bar}\n`,
    );
  }
}

export async function measure(
  ctx: Ctx,
  name: string,
  opts: Omit<Parameters<typeof runLoad>[0], 'durationS'>,
): Promise<LoadStats> {
  if (ctx.warmupS > 0) {
    ctx.log(`${name}: warming up ${ctx.warmupS}s`);
    await runLoad({ ...opts, durationS: ctx.warmupS });
  }
  ctx.log(`${name}: ${opts.connections} connections for ${ctx.durationS}s`);
  const cpu0 = cpuOf(ctx.pid);
  const own0 = process.cpuUsage();
  const s = await runLoad({ ...opts, durationS: ctx.durationS });
  const cpu1 = cpuOf(ctx.pid);
  const own = process.cpuUsage(own0);
  const n = Math.max(1, s.requestsTotal);
  s.cpuPerRequestUs =
    cpu0 && cpu1
      ? {
          server: (cpu1.totalUs - cpu0.totalUs) / n,
          requestThread: (cpu1.mainUs - cpu0.mainUs) / n,
          loadGenerator: (own.user + own.system) / n,
        }
      : null;
  ctx.details[name] = s;
  return s;
}

/** a/b: POST /api/v1/metrics with `perRequest` records in each body. */
export async function ingest(ctx: Ctx, perRequest: 1 | 100): Promise<void> {
  const name = `ingest${perRequest}`;
  const gen = new RecordGen(perRequest, ctx.ingestSpanMs);
  const bodies = gen.bodies(perRequest === 1 ? 1000 : 200, perRequest);
  const s = await measure(ctx, name, {
    url: `${ctx.url}/api/v1/metrics`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ctx.headers },
    connections: perRequest === 1 ? ctx.connections.ingest1 : ctx.connections.ingest100,
    bodies,
  });
  const r = ctx.report;
  const reqTarget = perRequest === 1 ? { op: '>=' as const, value: 15_000 } : undefined;
  const recTarget = perRequest === 100 ? { op: '>=' as const, value: 200_000 } : undefined;
  r.add(`${name}.requests_per_s_avg`, s.requestsPerSecAvg, 'req/s', reqTarget);
  r.add(`${name}.requests_per_s_p50`, s.requestsPerSecP50, 'req/s');
  r.add(`${name}.records_per_s_avg`, s.requestsPerSecAvg * perRequest, 'records/s', recTarget);
  r.add(`${name}.records_per_s_p50`, s.requestsPerSecP50 * perRequest, 'records/s');
  r.add(`${name}.latency_p50`, s.latencyP50Ms, 'ms');
  r.add(`${name}.latency_p99`, s.latencyP99Ms, 'ms');
  checkResponses(ctx, name, s);
}

interface ClassesList {
  classes: { class_id: string; records: number; last_ts: string }[];
}

async function storedRows(ctx: Ctx): Promise<{ total: number; newestDay: string | null }> {
  const { classes } = await getJson<ClassesList>(`${ctx.url}/api/v1/classes`, ctx.headers);
  let total = 0;
  let newest: string | null = null;
  for (const c of classes) {
    total += c.records;
    if (c.class_id !== EXPORT_CLASS && (newest === null || c.last_ts > newest)) newest = c.last_ts;
  }
  return { total, newestDay: newest === null ? null : newest.slice(0, 10) };
}

export function progress(ctx: Ctx, label: string, total: number) {
  let next = 0.1;
  return (done: number) => {
    if (done / total >= next) {
      ctx.log(`${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`);
      while (done / total >= next) next += 0.1;
    }
  };
}

/** The stored count once writes still in flight (requests a load run left behind) are done. */
async function settledRows(ctx: Ctx): Promise<number> {
  let last = (await storedRows(ctx)).total;
  for (let i = 0; i < 50; i++) {
    await sleep(250);
    const now = (await storedRows(ctx)).total;
    if (now === last) return now;
    last = now;
  }
  return last;
}

/**
 * c: adds ctx.rows records over the last 90 days and the 100 classes, in batches of 10,000.
 * Always added, whatever the ingest runs stored: those all fall in the last minute, and a
 * 7-day window over them alone would read one day.
 */
export async function fill(ctx: Ctx): Promise<void> {
  const before = await settledRows(ctx);
  const need = ctx.rows;
  ctx.log(
    `fill: ${before.toLocaleString('en-US')} rows stored, adding ${need.toLocaleString('en-US')}`,
  );
  const gen = new RecordGen(42);
  const res = await postBatches(
    `${ctx.url}/api/v1/metrics`,
    ctx.headers,
    need,
    MAX_BATCH,
    BULK_CONCURRENCY,
    (n) => gen.batch(n),
    progress(ctx, 'fill', need),
  );
  const after = (await storedRows(ctx)).total;
  ctx.details.fill = { rows_before: before, ...res, rows_after: after };
  const r = ctx.report;
  r.add('fill.records_added', res.records, 'records');
  r.add('fill.seconds', round(res.seconds), 's');
  r.add('fill.records_per_s', res.seconds > 0 ? res.records / res.seconds : null, 'records/s');
  r.add('fill.rows_stored', after, 'rows', { op: '>=', value: ctx.rows });
}

/** d: GET mastery over random classes, whole range and a 7-day window. */
export async function mastery(ctx: Ctx): Promise<void> {
  const { total, newestDay } = await storedRows(ctx);
  if (newestDay === null) throw new Error('mastery: no classes stored');
  // A window of 7 whole UTC days: `to` as a date includes that whole day.
  const from = new Date(Date.parse(`${newestDay}T00:00:00Z`) - 6 * DAY_MS)
    .toISOString()
    .slice(0, 10);
  const windows = [
    { name: 'mastery_all', query: '' },
    { name: 'mastery_7d', query: `?from=${from}&to=${newestDay}` },
  ];
  ctx.details.mastery = { rows_stored: total, window_7d: { from, to: newestDay } };
  ctx.report.add('mastery.rows_stored', total, 'rows');
  for (const w of windows) {
    const pathOf = (k: number) => `/api/v1/classes/c${k}/mastery${w.query}`;
    const sample = await getJson<{ count: number }>(`${ctx.url}${pathOf(0)}`, ctx.headers);
    if (!(sample.count > 0)) throw new Error(`${w.name}: class c0 has no records in the window`);
    const s = await measure(ctx, w.name, {
      url: `${ctx.url}/api/v1/classes`,
      headers: ctx.headers,
      connections: ctx.connections.mastery,
      path: () => pathOf(Math.floor(Math.random() * CLASSES)),
    });
    const r = ctx.report;
    r.add(`${w.name}.requests_per_s_avg`, s.requestsPerSecAvg, 'req/s', { op: '>=', value: 5000 });
    r.add(`${w.name}.requests_per_s_p50`, s.requestsPerSecP50, 'req/s');
    r.add(`${w.name}.latency_p50`, s.latencyP50Ms, 'ms');
    r.add(`${w.name}.latency_p99`, s.latencyP99Ms, 'ms', { op: '<=', value: 10 });
    checkResponses(ctx, w.name, s);
  }
}

/** e: loads ctx.rows records into one class, then streams its CSV export, watching memory. */
export async function exportOne(ctx: Ctx): Promise<void> {
  ctx.log(`export: loading ${ctx.rows.toLocaleString('en-US')} rows into "${EXPORT_CLASS}"`);
  const gen = new RecordGen(7);
  const load = await postBatches(
    `${ctx.url}/api/v1/metrics`,
    ctx.headers,
    ctx.rows,
    MAX_BATCH,
    BULK_CONCURRENCY,
    (n) => gen.batch(n, EXPORT_CLASS),
    progress(ctx, 'export load', ctx.rows),
  );
  const r = ctx.report;
  r.add('export.load_seconds', round(load.seconds), 's');
  r.add('export.load_records_per_s', load.records / load.seconds, 'records/s');

  await sleep(1000); // let the server settle
  const before = memoryOf(ctx.pid);
  const sampler = new RssSampler(ctx.pid, 100);
  ctx.log(`export: streaming GET /api/v1/classes/${EXPORT_CLASS}/export`);
  sampler.start();
  let s;
  try {
    s = await streamCount(`${ctx.url}/api/v1/classes/${EXPORT_CLASS}/export`, ctx.headers);
  } finally {
    sampler.stop();
  }
  const after = memoryOf(ctx.pid);
  if (s.status !== 200) throw new Error(`export: status ${s.status}`);
  const rows = s.lines - 1; // minus the CSV header
  if (rows !== ctx.rows) {
    ctx.log(`!!! WARNING: export returned ${rows} rows, expected ${ctx.rows}`);
  }
  const peak = before ? sampler.maxRssMb : null;
  const growth = before ? sampler.maxRssMb - before.rssMb : null;
  ctx.details.export = {
    load,
    status: s.status,
    rows,
    bytes: s.bytes,
    seconds: s.seconds,
    first_byte_s: s.firstByteS,
    rss_before_mb: before?.rssMb ?? null,
    rss_peak_mb: peak,
    rss_growth_mb: growth,
    rss_samples: sampler.samples,
    vm_hwm_before_mb: before?.hwmMb ?? null,
    vm_hwm_after_mb: after?.hwmMb ?? null,
  };
  r.add('export.rows', rows, 'rows', { op: '==', value: ctx.rows });
  r.add('export.seconds', round(s.seconds), 's');
  r.add('export.rows_per_s', rows / s.seconds, 'rows/s');
  r.add('export.mb_per_s', mb(s.bytes) / s.seconds, 'MB/s');
  r.add('export.rss_before', before ? round(before.rssMb, 1) : null, 'MB');
  r.add('export.rss_peak', peak === null ? null : round(peak, 1), 'MB');
  r.add('export.rss_growth', growth === null ? null : round(growth, 1), 'MB');
  r.add('export.vm_hwm_before', before ? round(before.hwmMb, 1) : null, 'MB');
  r.add('export.vm_hwm_after', after ? round(after.hwmMb, 1) : null, 'MB');
}
