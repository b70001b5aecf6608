import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, record, TEST_KEY, type TestApp } from '../../helpers/app.ts';
import { signedIn } from '../../helpers/auth.ts';

const TEST_REDIS_URL = process.env.TEST_REDIS_URL || undefined;

interface Stream {
  status: number;
  contentType: string | null;
  /** resolves with the next event of this type (its parsed data) */
  next(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

/** Opens an SSE stream with fetch (headers allowed, as the dashboard does) and parses events. */
async function open(
  base: string,
  classId: string,
  headers: Record<string, string>,
): Promise<Stream> {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/api/v1/classes/${encodeURIComponent(classId)}/live`, {
    headers,
    signal: ctrl.signal,
  });
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const waiters: (() => void)[] = [];
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const type = /^event: (.+)$/m.exec(block)?.[1];
            const data = /^data: (.+)$/m.exec(block)?.[1];
            if (type && data) events.push({ type, data: JSON.parse(data) });
            waiters.splice(0).forEach((w) => w());
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    async next(type, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e) => e.type === type);
        if (i >= 0) return events.splice(i, 1)[0]!.data;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${type} event within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, left);
        });
      }
    },
    close: () => ctrl.abort(),
  };
}

async function listen(t: TestApp): Promise<string> {
  return t.app.listen({ port: 0, host: '127.0.0.1' });
}

describe(`live class updates (${DIALECT})`, () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp();
    base = await listen(t);
  });
  afterAll(() => t.close());
  const key = { 'x-api-key': TEST_KEY };

  it('tells an open stream within moments that a class got records, and events', async () => {
    const s = await open(base, 'live-a', key);
    expect(s.status).toBe(200);
    expect(s.contentType).toContain('text/event-stream');
    expect(await s.next('ready')).toEqual({ class_id: 'live-a' });
    const started = Date.now();
    const post = await fetch(`${base}/api/v1/metrics`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: JSON.stringify([
        record({ class_id: 'live-a' }),
        record({ class_id: 'live-a', student_id: 's2' }),
        record({ class_id: 'other' }),
      ]),
    });
    expect(post.status).toBe(200);
    const m = await s.next('metrics');
    expect(m).toMatchObject({ class_id: 'live-a', inserted: 2 });
    expect(Date.now() - started).toBeLessThan(2000);
    await fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: JSON.stringify({
        event_type: 'quiz_attempt',
        user_id: 'u1',
        class_id: 'live-a',
        concept_id: 'k',
        correct: true,
      }),
    });
    expect(await s.next('events')).toMatchObject({ class_id: 'live-a', inserted: 1 });
    s.close();
  });

  it('says nothing to a stream of another class', async () => {
    const s = await open(base, 'live-b', key);
    await s.next('ready');
    await fetch(`${base}/api/v1/metrics`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: JSON.stringify(record({ class_id: 'live-c' })),
    });
    await expect(s.next('metrics', 500)).rejects.toThrow('no metrics event');
    s.close();
  });

  it('needs credentials, and an instructor only hears their own classes', async () => {
    const anon = await open(base, 'live-a', {});
    expect(anon.status).toBe(401);
    const teacher = await signedIn(t, 'instructor', { classes: ['live-a'] });
    const own = await open(base, 'live-a', teacher.headers);
    expect(own.status).toBe(200);
    own.close();
    const foreign = await open(base, 'live-b', teacher.headers);
    expect(foreign.status).toBe(403);
  });

  it('ends open streams when the server shuts down, promptly', async () => {
    const t2 = await createTestApp();
    const base2 = await listen(t2);
    const s = await open(base2, 'x', key);
    await s.next('ready');
    const started = Date.now();
    await t2.close();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe.skipIf(!TEST_REDIS_URL)(
  `live updates across server processes through Redis (${DIALECT})`,
  () => {
    it('delivers a write on one server to a stream on another', async () => {
      const a = await createTestApp({ REDIS_URL: TEST_REDIS_URL! });
      const b = await createTestApp({ REDIS_URL: TEST_REDIS_URL! });
      try {
        const [baseA, baseB] = [await listen(a), await listen(b)];
        const classId = `redis-${Date.now()}`;
        const s = await open(baseB, classId, { 'x-api-key': TEST_KEY });
        await s.next('ready');
        const post = await fetch(`${baseA}/api/v1/metrics`, {
          method: 'POST',
          headers: { 'x-api-key': TEST_KEY, 'content-type': 'application/json' },
          body: JSON.stringify(record({ class_id: classId })),
        });
        expect(post.status).toBe(200);
        expect(await s.next('metrics')).toMatchObject({ class_id: classId, inserted: 1 });
        s.close();
      } finally {
        await a.close();
        await b.close();
      }
    });
  },
);

if (!TEST_REDIS_URL) {
  console.log('Live-update Redis test skipped: no Redis at TEST_REDIS_URL');
  describe('live updates through Redis', () => {
    it.skip('skipped: no Redis at TEST_REDIS_URL (set it, e.g. redis://127.0.0.1:6379)', () => {});
  });
}
