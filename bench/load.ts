/**
 * Load generation: autocannon runs, bulk loading in batches, and streaming an export.
 */
import http from 'node:http';
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Bodies sent in turn (a ring), for POST. */
  bodies?: Buffer[];
  /** Builds each body as the request is sent (overrides `bodies`), for POST. */
  makeBody?: () => string | Buffer;
  /** Paths chosen per request; default the URL's path. */
  path?: () => string;
}

export interface LoadStats {
  requestsPerSecAvg: number;
  requestsPerSecP50: number;
  requestsTotal: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  statusCodes: Record<string, number>;
  /**
   * CPU time per request during the run, in microseconds: the server's (all threads), its
   * request thread's, and the load generator's (this process). Null where /proc is missing.
   */
  cpuPerRequestUs?: { server: number; requestThread: number; loadGenerator: number } | null;
}

export async function runLoad(opts: LoadOptions): Promise<LoadStats> {
  let next = 0;
  const { bodies, makeBody, path } = opts;
  const dynamic = (bodies && bodies.length > 0) || makeBody !== undefined || path !== undefined;
  const request: autocannon.Request = {
    method: opts.method ?? 'GET',
    ...(dynamic
      ? {
          setupRequest: (req: autocannon.Request) => {
            const out: autocannon.Request = { ...req };
            if (makeBody) out.body = makeBody();
            else if (bodies && bodies.length > 0) out.body = bodies[next++ % bodies.length]!;
            if (path) out.path = path();
            return out;
          },
        }
      : {}),
  };
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    pipelining: 1,
    duration: opts.durationS,
    headers: opts.headers ?? {},
    requests: [request],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = v.count ?? 0;
  }
  return {
    requestsPerSecAvg: result.requests.average,
    requestsPerSecP50: result.requests.p50,
    requestsTotal: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    statusCodes,
  };
}

export interface BulkResult {
  records: number;
  requests: number;
  seconds: number;
}

/**
 * POSTs `total` records in batches of `batchSize` with `concurrency` requests in flight;
 * `makeBody(n)` builds the JSON array of one batch. Any non-200 or short insert fails.
 */
export async function postBatches(
  url: string,
  headers: Record<string, string>,
  total: number,
  batchSize: number,
  concurrency: number,
  makeBody: (n: number) => string,
  onProgress?: (done: number) => void,
): Promise<BulkResult> {
  const started = performance.now();
  let queued = 0;
  let done = 0;
  let requests = 0;
  const worker = async () => {
    while (queued < total) {
      const n = Math.min(batchSize, total - queued);
      queued += n;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: makeBody(n),
      });
      const text = await res.text();
      if (res.status !== 200)
        throw new Error(`POST ${url} -> ${res.status}: ${text.slice(0, 500)}`);
      const { inserted } = JSON.parse(text) as { inserted: number };
      if (inserted !== n) throw new Error(`POST ${url}: inserted ${inserted} of ${n} records`);
      done += n;
      requests++;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { records: done, requests, seconds: (performance.now() - started) / 1000 };
}

export interface StreamResult {
  status: number;
  bytes: number;
  /** Newline-terminated lines, the header line included. */
  lines: number;
  seconds: number;
  /** Seconds until the response headers arrived. */
  firstByteS: number;
}

/** GETs a URL and counts bytes and newline-terminated lines as they arrive, without buffering. */
export function streamCount(url: string, headers: Record<string, string>): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(url, { headers, agent: false }, (res) => {
      const firstByteS = (performance.now() - started) / 1000;
      let bytes = 0;
      let lines = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        let i = chunk.indexOf(10);
        while (i !== -1) {
          lines++;
          i = chunk.indexOf(10, i + 1);
        }
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          lines,
          seconds: (performance.now() - started) / 1000,
          firstByteS,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** GETs JSON (for /api/v1/classes and the like). */
export async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`GET ${url} -> ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * POSTs a JSON body and returns the status and parsed body. Uses node:http rather than fetch,
 * whose response-headers timeout (300 s) is too short for a rebuild of a large log.
 */
export function postJson<T>(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; body: T; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          ...headers,
        },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const seconds = (performance.now() - started) / 1000;
          if (res.statusCode !== 200) {
            reject(new Error(`POST ${url} -> ${res.statusCode}: ${text.slice(0, 500)}`));
            return;
          }
          resolve({ status: res.statusCode, body: JSON.parse(text) as T, seconds });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
