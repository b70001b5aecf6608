/**
 * The server under test, run as a child process exactly as `npm start` would run it, plus
 * readers of its memory from /proc (Linux only; elsewhere the memory figures are null).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ServerHandle {
  pid: number;
  url: string;
  dialect: string;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  root: string;
  databaseUrl: string;
  port: number;
  /** Extra environment for the child (PORT, HOST, DATABASE_URL and LOG_LEVEL are set here). */
  env?: Record<string, string | undefined>;
  /** Extra flags for the child's node, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  startTimeoutMs?: number;
}

/** A port that was free a moment ago (bound to port 0 and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Forwards the child's output to our stderr, line by line, and keeps the last lines. */
function forward(child: ChildProcess, tail: string[]): void {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        process.stderr.write(`[server] ${line}\n`);
        tail.push(line);
        if (tail.length > 40) tail.shift();
      }
    });
  }
}

/**
 * The node flags `npm start` runs the server with (package.json), so that the bench measures
 * the server as it is started: a 64 MiB young generation (V8's default is 16) scavenges a
 * quarter as often under a stream of small requests (single-record ingest +25%).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];

export async function startServer(opts: StartOptions): Promise<ServerHandle> {
  const child = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, ...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'],
    {
      cwd: opts.root,
      env: {
        ...process.env,
        ...opts.env,
        PORT: String(opts.port),
        HOST: '127.0.0.1',
        DATABASE_URL: opts.databaseUrl,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const tail: string[] = [];
  forward(child, tail);
  let exitedWith: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedWith = signal ?? String(code);
      resolve(exitedWith);
    });
    child.once('error', (err) => {
      exitedWith = `spawn error: ${err.message}`;
      resolve(exitedWith);
    });
  });

  const stop = async () => {
    if (exitedWith !== undefined || child.pid === undefined) return;
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exitedWith !== undefined) {
        throw new Error(`server exited (${exitedWith}) before it was ready:\n${tail.join('\n')}`);
      }
      if (Date.now() > deadline) throw new Error(`server not healthy after start timeout`);
      try {
        const res = await fetch(`${url}/health`);
        const body = (await res.json()) as { database?: { dialect?: string } };
        if (res.status === 200) {
          return {
            pid: child.pid!,
            url,
            dialect: body.database?.dialect ?? 'unknown',
            exited,
            stop,
          };
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ProcMemory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size so far (VmHWM), MB. */
  hwmMb: number;
}

/** Reads /proc/<pid>/status; undefined where /proc does not exist (not Linux). */
export function memoryOf(pid: number): ProcMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return m ? Number(m[1]) : NaN;
  };
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  if (Number.isNaN(rss) || Number.isNaN(hwm)) return undefined;
  return { rssMb: rss / 1024, hwmMb: hwm / 1024 };
}

/** CPU time a process has used so far, in microseconds. */
export interface ProcCpu {
  /** every thread of the process */
  totalUs: number;
  /** its main thread (for the server: the request thread) */
  mainUs: number;
}

/** Linux reports CPU times in clock ticks of USER_HZ, which is 100 on every architecture. */
const USER_HZ = 100;

function cpuTicksUs(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  // The fields after the command name (which may hold spaces) in parentheses; utime and stime
  // are the 14th and 15th fields of the line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / USER_HZ;
}

/** Reads /proc/<pid>/stat and its main thread's; undefined where /proc does not exist. */
export function cpuOf(pid: number): ProcCpu | undefined {
  try {
    return {
      totalUs: cpuTicksUs(`/proc/${pid}/stat`),
      mainUs: cpuTicksUs(`/proc/${pid}/task/${pid}/stat`),
    };
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS at a fixed interval and keeps the maximum. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  maxRssMb = 0;
  samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  private sample(): void {
    const m = memoryOf(this.pid);
    if (!m) return;
    this.samples++;
    if (m.rssMb > this.maxRssMb) this.maxRssMb = m.rssMb;
  }
}
