/**
 * The learning-events phases: event intake, a learner's mastery, the full mastery rebuild and
 * the BKT fit on ASSISTments 2009. Stored event counts are read back as the sum of `attempts`
 * over the learners' mastery (every generated event is one attempt on one concept).
 */
import { readAssist, TRAIN_FILE } from '../eval/assist2009.ts';
import { assistEvents, CONCEPTS, EventGen, LEARNERS } from './learning-data.ts';
import { postBatches, postJson } from './load.ts';
import {
  BULK_CONCURRENCY,
  checkResponses,
  type Ctx,
  MAX_BATCH,
  measure,
  progress,
  round,
  sleep,
} from './phases.ts';
import type { ServerHandle } from './server.ts';
import { DAY_MS, DAYS } from './data.ts';

const PER_REQUEST = 100;
/** Rebuilds and fits of a large log take minutes: wait this long for their answer. */
const LONG_TIMEOUT_MS = 10 * 60_000;
/** learner_mastery run on its own first stores this many events (or BENCH_ROWS if fewer). */
const MASTERY_MIN_EVENTS = LEARNERS * CONCEPTS;

interface MasteryBody {
  concepts: { attempts: number }[];
}

/** A learner's stored attempts (0 when the learner has none: 404). */
async function attemptsOf(ctx: Ctx, user: string): Promise<number> {
  const res = await fetch(`${ctx.url}/api/v1/learners/${user}/mastery`, { headers: ctx.headers });
  if (res.status === 404) {
    await res.arrayBuffer();
    return 0;
  }
  if (res.status !== 200) throw new Error(`GET mastery of ${user} -> ${res.status}`);
  const body = (await res.json()) as MasteryBody;
  return body.concepts.reduce((s, c) => s + c.attempts, 0);
}

/** Events stored for u0..u1999, once writes still in flight are done. */
async function storedEvents(ctx: Ctx): Promise<number> {
  const count = async () => {
    let next = 0;
    let total = 0;
    const worker = async () => {
      while (next < LEARNERS) {
        const n = await attemptsOf(ctx, `u${next++}`);
        total += n;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return total;
  };
  let last = await count();
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    const now = await count();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Tops the log up to `target` events in batches of 10,000, timestamps over the last 90 days. */
async function topUp(ctx: Ctx, name: string, target: number, seed: number): Promise<number> {
  const before = await storedEvents(ctx);
  const need = Math.max(0, target - before);
  ctx.log(
    `${name}: ${before.toLocaleString('en-US')} events stored, adding ${need.toLocaleString('en-US')}`,
  );
  if (need === 0) return before;
  const gen = new EventGen(seed);
  const nowMs = Date.now();
  const res = await postBatches(
    `${ctx.url}/api/v1/events`,
    ctx.headers,
    need,
    MAX_BATCH,
    BULK_CONCURRENCY,
    (n) => gen.spreadBody(n, need, nowMs - DAYS * DAY_MS, nowMs),
    progress(ctx, `${name} fill`, need),
  );
  const after = await storedEvents(ctx);
  ctx.details[`${name}_fill`] = { events_before: before, ...res, events_after: after };
  const r = ctx.report;
  r.add(`${name}.fill_events_added`, res.records, 'events');
  r.add(`${name}.fill_seconds`, round(res.seconds), 's');
  r.add(`${name}.fill_events_per_s`, res.records / res.seconds, 'events/s');
  return after;
}

/** 1: POST /api/v1/events, 100 live quiz attempts per request. */
export async function events(ctx: Ctx): Promise<void> {
  const gen = new EventGen(1);
  const url = `${ctx.url}/api/v1/events`;
  const headers = { 'content-type': 'application/json', ...ctx.headers };
  // One request first: the generator's events must all be accepted.
  const probe = await fetch(url, { method: 'POST', headers, body: gen.liveBody(PER_REQUEST) });
  const res = (await probe.json()) as { inserted?: number; rejected?: unknown[] };
  if (probe.status !== 200 || res.inserted !== PER_REQUEST) {
    throw new Error(`events: probe -> ${probe.status}: ${JSON.stringify(res).slice(0, 500)}`);
  }
  const before = await storedEvents(ctx);
  const s = await measure(ctx, 'events', {
    url,
    method: 'POST',
    headers,
    connections: ctx.connections.events,
    makeBody: () => gen.liveBody(PER_REQUEST),
  });
  const stored = (await storedEvents(ctx)) - before;
  // Warm-up requests and requests in flight when the run stopped are stored too.
  if (stored < s.requestsTotal * PER_REQUEST) {
    ctx.log(
      `!!! WARNING: events: ${stored} events stored for ${s.requestsTotal} requests of ${PER_REQUEST}`,
    );
  }
  ctx.details.events_stored = stored;
  const r = ctx.report;
  r.add('events.requests_per_s_avg', s.requestsPerSecAvg, 'req/s');
  r.add('events.requests_per_s_p50', s.requestsPerSecP50, 'req/s');
  r.add('events.events_per_s_avg', s.requestsPerSecAvg * PER_REQUEST, 'events/s', {
    op: '>=',
    value: 100_000,
  });
  r.add('events.events_per_s_p50', s.requestsPerSecP50 * PER_REQUEST, 'events/s');
  r.add('events.latency_p50', s.latencyP50Ms, 'ms');
  r.add('events.latency_p99', s.latencyP99Ms, 'ms');
  checkResponses(ctx, 'events', s);
}

/** 2: GET /api/v1/learners/u<k>/mastery over random learners. */
export async function learnerMastery(ctx: Ctx): Promise<void> {
  const stored = await topUp(ctx, 'learner_mastery', Math.min(ctx.rows, MASTERY_MIN_EVENTS), 17);
  ctx.report.add('learner_mastery.events_stored', stored, 'events');
  const s = await measure(ctx, 'learner_mastery', {
    url: `${ctx.url}/api/v1/learners`,
    headers: ctx.headers,
    connections: ctx.connections.learnerMastery,
    path: () => `/api/v1/learners/u${Math.floor(Math.random() * LEARNERS)}/mastery`,
  });
  const r = ctx.report;
  r.add('learner_mastery.requests_per_s_avg', s.requestsPerSecAvg, 'req/s');
  r.add('learner_mastery.requests_per_s_p50', s.requestsPerSecP50, 'req/s');
  r.add('learner_mastery.latency_p50', s.latencyP50Ms, 'ms');
  r.add('learner_mastery.latency_p99', s.latencyP99Ms, 'ms');
  checkResponses(ctx, 'learner_mastery', s);
}

interface RecomputeBody {
  learners: number;
  concepts: number;
  attempts: number;
  duration_ms: number;
}

/** 3: tops the log up to BENCH_ROWS events, then rebuilds every learner's mastery once. */
export async function recompute(ctx: Ctx): Promise<void> {
  const stored = await topUp(ctx, 'recompute', ctx.rows, 91);
  ctx.report.add('recompute.events_stored', stored, 'events', { op: '>=', value: ctx.rows });
  ctx.log(`recompute: POST /api/v1/mastery/recompute over ${stored.toLocaleString('en-US')}`);
  const res = await postJson<RecomputeBody>(
    `${ctx.url}/api/v1/mastery/recompute`,
    ctx.headers,
    '{}',
    LONG_TIMEOUT_MS,
  );
  const b = res.body;
  ctx.details.recompute = { ...b, client_seconds: res.seconds };
  const r = ctx.report;
  r.add('recompute.learners', b.learners, 'learners');
  r.add('recompute.concepts', b.concepts, 'pairs');
  r.add('recompute.attempts', b.attempts, 'attempts', { op: '==', value: stored });
  r.add('recompute.duration_ms', b.duration_ms, 'ms');
  r.add(
    'recompute.attempts_per_s',
    b.duration_ms > 0 ? b.attempts / (b.duration_ms / 1000) : null,
    'attempts/s',
    { op: '>=', value: 500_000 },
  );
}

interface FitBody {
  concepts: { concept_id: string; fit: { fit_ms: number; attempts: number } | null }[];
  skipped: { concept_id: string; reason: string }[];
  duration_ms: number;
}

/**
 * 4: loads the ASSISTments 2009 train file into a fresh server and fits every concept.
 * `fresh()` starts that server; it is stopped here.
 */
export async function fit(ctx: Ctx, fresh: () => Promise<ServerHandle>): Promise<void> {
  const learners = readAssist(TRAIN_FILE);
  const all = assistEvents(learners, Date.now() - DAYS * DAY_MS);
  ctx.log(`fit: ${learners.length} learners, ${all.length} answers; starting a fresh server`);
  const server = await fresh();
  const died = server.exited.then((code) => {
    throw new Error(`the fit server exited unexpectedly (${code})`);
  });
  died.catch(() => undefined);
  try {
    const url = server.url;
    let next = 0;
    const load = await Promise.race([
      postBatches(
        `${url}/api/v1/events`,
        ctx.headers,
        all.length,
        MAX_BATCH,
        BULK_CONCURRENCY,
        (n) => `[${all.slice(next, (next += n)).join(',')}]`,
        progress(ctx, 'fit load', all.length),
      ),
      died,
    ]);
    ctx.log(`fit: POST /api/v1/concepts/fit`);
    const res = await Promise.race([
      postJson<FitBody>(`${url}/api/v1/concepts/fit`, ctx.headers, '{}', LONG_TIMEOUT_MS),
      died,
    ]);
    const b = res.body;
    const fitMs = b.concepts.reduce((s, c) => s + (c.fit?.fit_ms ?? 0), 0);
    const slowest = [...b.concepts]
      .sort((x, y) => (y.fit?.fit_ms ?? 0) - (x.fit?.fit_ms ?? 0))
      .slice(0, 5)
      .map((c) => ({ concept_id: c.concept_id, ...c.fit }));
    ctx.details.fit = {
      learners: learners.length,
      load,
      duration_ms: b.duration_ms,
      client_seconds: res.seconds,
      fit_ms_sum: fitMs,
      fitted: b.concepts.length,
      skipped: b.skipped,
      slowest,
    };
    const r = ctx.report;
    r.add('fit.events_loaded', load.records, 'events', { op: '==', value: all.length });
    r.add('fit.load_seconds', round(load.seconds), 's');
    r.add('fit.load_events_per_s', load.records / load.seconds, 'events/s');
    r.add('fit.concepts_fitted', b.concepts.length, 'concepts');
    r.add('fit.concepts_skipped', b.skipped.length, 'concepts');
    r.add('fit.fit_ms_sum', round(fitMs, 1), 'ms');
    r.add('fit.duration_ms', b.duration_ms, 'ms', { op: '<=', value: 5000 });
  } finally {
    await server.stop();
  }
}
