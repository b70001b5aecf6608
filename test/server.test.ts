import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../bench/server.ts';

/** `npm start` as package.json has it: node, its flags, and the script. */
const START = (
  JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }
).scripts.start.split(/\s+/);

/** The server as `npm start` runs it, with `env` added, and its output so far. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, START.slice(1), {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  /** Resolves with the URL the server says it serves on. */
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start: ${out}`)), 20_000);
    child.stdout.on('data', () => {
      const m = /API on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { child, url, exited, out: () => out };
}

describe('the server process (npm start)', () => {
  it('is started by the bench with the node flags of npm start', () => {
    expect(START[0]).toBe('node');
    expect(START.slice(-3)).toEqual(['--import', 'tsx', 'src/main.ts']);
    expect(START.slice(1, -3)).toEqual(SERVER_NODE_FLAGS);
  });

  it('migrates a new SQLite file, serves, guides the first run, and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'learntwin-start-'));
    const {
      child,
      url: started,
      exited,
      out,
    } = start({
      DATABASE_URL: join(dir, 'sub', 'lt.db'),
      API_KEY: '',
    });
    try {
      const url = await started;
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      const json = { 'content-type': 'application/json' };
      const record = JSON.stringify({
        class_id: 'c',
        student_id: 's',
        stuck: 0,
        got_it: 1,
        pause: 0,
        example: 1,
        confidence: 8,
      });
      // A fresh install is closed: no data without credentials.
      const anonymous = await fetch(`${url}/api/v1/metrics`, {
        method: 'POST',
        headers: json,
        body: record,
      });
      expect(anonymous.status).toBe(401);
      // The log shows the one-time setup token; it makes the first administrator.
      const token = /setup_token\\?":\\?"([A-Za-z0-9_-]+)/.exec(out())?.[1];
      expect(token, out()).toBeTruthy();
      const admin = { email: 'admin@school.example', password: 'correct horse battery' };
      const setup = await fetch(`${url}/api/v1/auth/setup`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ setup_token: token, ...admin }),
      });
      expect(setup.status).toBe(201);
      const again = await fetch(`${url}/api/v1/auth/setup`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          setup_token: token,
          email: 'x@y.example',
          password: 'another long one',
        }),
      });
      expect(again.status).toBe(409);
      const login = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(admin),
      });
      const { access_token } = (await login.json()) as { access_token: string };
      const post = await fetch(`${url}/api/v1/metrics`, {
        method: 'POST',
        headers: { ...json, authorization: `Bearer ${access_token}` },
        body: record,
      });
      expect(await post.json()).toMatchObject({ inserted: 1 });
      expect((await fetch(`${url}/docs/`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out()).toContain('database migrated');
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops on SIGTERM under intake with every acknowledged record and event stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'learntwin-stop-'));
    const file = join(dir, 'lt.db');
    const key = 'shutdown-test-key-0123456789';
    const { child, url: started, exited, out } = start({ DATABASE_URL: file, API_KEY: key });
    try {
      const url = await started;
      const headers = { 'content-type': 'application/json', 'x-api-key': key };
      const acked = { records: new Set<string>(), events: new Set<string>() };
      const statuses = new Map<number, number>();
      /** acknowledged batches that did not store all of their 50 */
      const short: string[] = [];
      let stopped = false;
      // Clients send batches of records and events with their own ids until the server is gone.
      const client = async (c: number) => {
        for (let n = 0; !stopped; n++) {
          const ids = Array.from({ length: 50 }, () => randomUUID());
          const metrics = n % 2 === 0;
          const body = metrics
            ? ids.map((id, i) => ({
                class_id: `c${c}`,
                student_id: `s${i}`,
                stuck: 0,
                got_it: 1,
                pause: 0,
                example: 0,
                confidence: 7,
                event_id: id,
              }))
            : ids.map((id, i) => ({
                id,
                event_type: 'quiz_attempt',
                user_id: `u${c}-${i}`,
                concept_id: 'k',
                correct: i % 2 === 0,
              }));
          let res: Response;
          try {
            res = await fetch(`${url}${metrics ? '/api/v1/metrics' : '/api/v1/events'}`, {
              method: 'POST',
              headers,
              body: JSON.stringify(body),
            });
          } catch {
            return; // the server has closed: this batch was never acknowledged
          }
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const answer = (await res.json().catch(() => ({}))) as { inserted?: number };
          if (res.status !== 200) continue;
          if (answer.inserted !== 50) short.push(JSON.stringify(answer).slice(0, 200));
          for (const id of ids) acked[metrics ? 'records' : 'events'].add(id);
        }
      };
      const clients = Array.from({ length: 12 }, (_, c) => client(c));
      const loadUntil = Date.now() + 30_000;
      while (acked.events.size < 500 && child.exitCode === null && Date.now() < loadUntil) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(
        acked.events.size,
        `events acknowledged before the signal; ${out()}`,
      ).toBeGreaterThanOrEqual(500);
      child.kill('SIGTERM');
      const code = await exited;
      stopped = true;
      await Promise.all(clients);
      expect(code, out()).toBe(0);
      expect(short).toEqual([]);
      // Refused while stopping, perhaps (503), never failed (500).
      expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);

      const sqlite = new Database(file, { readonly: true });
      try {
        const storedOf = (table: string, column: string, ids: Set<string>) => {
          const has = sqlite.prepare(`select 1 from ${table} where ${column} = ?`).pluck();
          return [...ids].filter((id) => has.get(id) === 1).length;
        };
        expect(storedOf('metric_records', 'event_id', acked.records)).toBe(acked.records.size);
        expect(storedOf('learning_events', 'id', acked.events)).toBe(acked.events.size);
      } finally {
        sqlite.close();
      }
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to start on a bad setting, naming it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'abc' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('configuration error: PORT must be an integer');
  });
});
