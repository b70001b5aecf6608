/**
 * Bad input on every documented route: odd path parameters, query values and bodies, each
 * answered with a 4xx and a JSON error body, never a 5xx. The routes come from the OpenAPI
 * document, so a new route is probed without this file changing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, type TestApp } from '../helpers/app.ts';
import { bearer, createUser, enrol, signIn } from '../helpers/auth.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await post(t.app, '/api/v1/metrics', [record(), record({ student_id: 's2' })]);
  await post(t.app, '/api/v1/events', [
    { event_type: 'quiz_attempt', user_id: 'u1', class_id: 'c1', concept_id: 'k1', correct: true },
  ]);
});
afterAll(() => t.close());

const NUL = 'a\u0000b';

/** Path parameters as they appear in the URL (already percent-encoded). */
const PATH_VALUES = [
  'c1',
  'x'.repeat(3000),
  '%00',
  'a%00b',
  '%ZZ',
  '%E0%A4%A',
  '..%2F..',
  '%F0%9F%98%80',
  '%ED%A0%80',
  "'%20or%201=1",
  '-1',
  '1e309',
];
const QUERY_VALUES = [
  '',
  'abc',
  '-1',
  '0',
  '1.5',
  '1e309',
  '99999999999999999999',
  '2026-13-45T99:00:00Z',
  '0001-01-01',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2026-01-01T00:00:00+25:00',
  'x'.repeat(5000),
  NUL,
  'null',
  'true',
].map(encodeURIComponent);
/** Query values already percent-encoded: a lone surrogate, broken escapes. */
QUERY_VALUES.push('%ED%A0%80', '%ZZ', '%');
const BODIES: (string | undefined)[] = [
  undefined,
  '',
  'not json',
  '[]',
  '{}',
  'null',
  '123',
  '"str"',
  '{"a":1e400}',
  '[[[[[[[[[[]]]]]]]]]]',
  '{"__proto__":{"x":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
];
const WRONG_VALUES: unknown[] = [
  '0001-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  null,
  -1,
  1e308,
  -0.5,
  2 ** 53 + 1,
  'x',
  '',
  NUL,
  '\ud800',
  'x'.repeat(20_000),
  true,
  [],
  {},
  [1, 'a'],
  { a: { b: null } },
];

/** A valid body per route, whose fields the probes break one at a time. */
const EXAMPLES: Record<string, Record<string, unknown>> = {
  '/api/v1/metrics': { ...record(), ts: '2026-01-05T09:30:00Z', event_id: 'e1' },
  '/ingest/json': record(),
  '/api/v1/events': {
    event_type: 'quiz_attempt',
    user_id: 'u2',
    class_id: 'c1',
    concept_id: 'k1',
    concept_ids: ['k2'],
    correct: false,
    score: 0.5,
    duration_ms: 1000,
    occurred_at: '2026-01-05T09:30:00Z',
    context: { a: 1 },
  },
  '/api/v1/users': {
    email: 'fuzz@example.com',
    name: 'Fuzz',
    password: 'a long password 1',
    role: 'instructor',
  },
  '/api/v1/api-keys': { name: 'fuzz', scopes: ['analytics:read'] },
};

const ROSTERS = [
  '',
  'email\n',
  'email,name,role\n,,\n',
  'a,b\n"unterminated',
  '\u0000\u0001,\n',
  'class_id,student_id,email,name,role\nc\u00001,s\u00001,n\u0000@example.com,N\u0000,learner\n',
  'class_id,student_id,email,name,role\n' + 'c1,s9,,S,nobody\n'.repeat(3),
];

type Op = {
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
};

describe(`bad input on every route (${DIALECT})`, () => {
  it('never answers a 5xx, and every error is a JSON body with a code', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    const offenders: string[] = [];
    let probes = 0;
    // As the full-scope key, an instructor of c1, and a learner: each takes its own checks.
    const instructor = await createUser(t, 'instructor');
    await enrol(t, 'c1', instructor.id);
    const learner = await createUser(t, 'learner', { learner_id: 'u1' });
    const callers: [string, Record<string, string>][] = [
      ['key', {}],
      ['instructor', bearer((await signIn(t, instructor)).access_token)],
      ['learner', bearer((await signIn(t, learner)).access_token)],
    ];
    let who = callers[0]!;
    const check = async (
      method: string,
      url: string,
      payload?: string,
      ct = 'application/json',
      headers: Record<string, string> = who[1],
    ) => {
      probes++;
      const res = await t.app.inject({
        method: method as 'GET',
        url,
        payload,
        headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': ct }) },
      });
      const what = `${who[0]} ${method} ${url.slice(0, 100)} ${(payload ?? '').slice(0, 100)}`;
      if (res.statusCode >= 500) {
        offenders.push(`${res.statusCode} ${what} -> ${res.body.slice(0, 200)}`);
      } else if (res.statusCode >= 400) {
        let code: unknown;
        try {
          code = res.json().error?.code;
        } catch {
          code = undefined;
        }
        if (typeof code !== 'string') {
          offenders.push(
            `${res.statusCode} without a JSON error: ${what} -> ${res.body.slice(0, 200)}`,
          );
        }
      }
    };
    for (who of callers)
      for (const [path, methods] of Object.entries<Record<string, Op>>(doc.paths)) {
        for (const [m, op] of Object.entries(methods)) {
          const method = m.toUpperCase();
          // A live stream never ends by itself; signing out and revoking would end the session.
          if (op.responses?.['200']?.content?.['text/event-stream']) continue;
          if (path.endsWith('/logout') || path === '/api/v1/api-keys/{id}') continue;
          const emptyBody = method === 'GET' ? undefined : '{}';
          const fill = (v: string) => path.replace(/\{[^}]+\}/g, v);
          for (const v of PATH_VALUES) await check(method, fill(v), emptyBody);
          const base = fill('c1');
          for (const q of (op.parameters ?? []).filter((p) => p.in === 'query')) {
            for (const v of QUERY_VALUES) {
              await check(method, `${base}?${q.name}=${v}`, emptyBody);
            }
            await check(method, `${base}?${q.name}=1&${q.name}=2`, emptyBody);
          }
          if (method === 'GET') continue;
          for (const b of BODIES) await check(method, base, b);
          await check(method, base, '{"a":1}', 'text/plain');
          await check(method, base, 'a=1', 'application/x-www-form-urlencoded');
          const schema = op.requestBody?.content?.['application/json']?.schema;
          for (const p of Object.keys(schema?.properties ?? {})) {
            for (const v of WRONG_VALUES) await check(method, base, JSON.stringify({ [p]: v }));
          }
          const example = EXAMPLES[path];
          if (!example) continue;
          for (const p of Object.keys(example)) {
            for (const v of [...WRONG_VALUES, undefined]) {
              const broken = { ...example, [p]: v };
              await check(method, base, JSON.stringify(broken));
              await check(method, base, JSON.stringify([example, broken]));
              await check(method, base, JSON.stringify({ events: [broken], records: [broken] }));
            }
          }
        }
      }
    who = callers[0]!;
    for (const r of ROSTERS) await check('POST', '/api/v1/rosters/import', r, 'text/csv');
    for (const authorization of [
      'Bearer',
      'Bearer ',
      'Bearer x.y.z',
      `Bearer ${'a'.repeat(10_000)}`,
      'Basic dXNlcjpwYXNz',
      'bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.',
      'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x',
    ]) {
      await check('GET', '/api/v1/classes', undefined, undefined, { authorization });
    }
    for (const key of ['', 'x', 'a'.repeat(10_000)]) {
      await check('GET', '/api/v1/classes', undefined, undefined, { 'x-api-key': key });
    }
    expect(probes).toBeGreaterThan(9000);
    expect(offenders).toEqual([]);
  }, 120_000);

  it('refuses U+0000 in ids, naming the field, and keeps the rest of the batch', async () => {
    const res = await post(t.app, '/api/v1/events', [
      { event_type: 'quiz_attempt', user_id: 'nul-ok', concept_id: 'k1', correct: true },
      { event_type: 'quiz_attempt', user_id: NUL, concept_id: 'k1', correct: true },
      { event_type: 'quiz_attempt', user_id: 'nul-ok', concept_id: NUL, correct: true },
    ]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      inserted: 1,
      rejected: [
        { index: 1, errors: [{ field: 'user_id', message: expect.stringMatching(/NUL/) }] },
        { index: 2, errors: [{ field: 'concept_id', message: expect.stringMatching(/NUL/) }] },
      ],
    });
    expect((await t.app.inject('/api/v1/learners/nul-ok/mastery/k1')).json()).toMatchObject({
      attempts: 1,
    });

    const metrics = await post(t.app, '/api/v1/metrics', [record(), record({ class_id: NUL })]);
    expect(metrics.json()).toMatchObject({
      inserted: 1,
      rejected: [{ index: 1, errors: [{ field: 'class_id' }] }],
    });
    // A context is stored as JSON text, which escapes the character: it is kept as sent.
    const ctx = await post(t.app, '/api/v1/events', {
      event_type: 'x-note',
      user_id: 'nul-ok',
      context: { note: NUL },
    });
    expect(ctx.statusCode).toBe(200);
    const stored = await t.app.inject(`/api/v1/events/${ctx.json().ids[0]}`);
    expect(stored.json().context).toEqual({ note: NUL });
  });

  it('refuses U+0000 in path parameters, query values and bodies with a 400 naming them', async () => {
    const cases: [string, string, string?][] = [
      ['GET', '/api/v1/classes/c%001/mastery'],
      ['GET', '/api/v1/learners/u1/events?concept_id=k%001'],
      ['GET', '/api/v1/users?q=a%00'],
      ['POST', '/api/v1/auth/login', JSON.stringify({ email: NUL, password: 'x' })],
    ];
    const fields = ['class_id', 'concept_id', 'q', 'email'];
    // A live stream's route too.
    cases.push(['GET', '/api/v1/classes/c%001/live']);
    fields.push('class_id');
    for (const [i, [method, url, payload]] of cases.entries()) {
      const res = await t.app.inject({
        method: method as 'GET',
        url,
        payload,
        headers: payload ? { 'content-type': 'application/json', 'x-api-key': undefined } : {},
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe('validation_failed');
      expect(res.json().error.details[0], url).toEqual({
        field: fields[i],
        message: 'must not contain the NUL character (U+0000)',
      });
    }
  });

  it('refuses U+0000 where it hides: in a history cursor, in a path an instructor asks for', async () => {
    const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const c of [
      cursor([NUL, '0190f5c4-8a8e-7c52-9d3e-5b1a2c3d4e5f']),
      cursor(['2026-01-05T09:30:00.000Z', NUL]),
      cursor(['yesterday', '0190f5c4-8a8e-7c52-9d3e-5b1a2c3d4e5f']),
    ]) {
      const res = await t.app.inject(`/api/v1/learners/u1/events?cursor=${c}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details).toEqual([
        { field: 'cursor', message: 'is not a cursor this endpoint returned' },
      ]);
    }
    // An instructor's request is checked against the class rosters before the route runs.
    const instructor = await createUser(t, 'instructor');
    await enrol(t, 'c1', instructor.id);
    const token = (await signIn(t, instructor)).access_token;
    const res = await t.app.inject({
      url: '/api/v1/learners/u%001/mastery',
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'user_id', message: 'must not contain the NUL character (U+0000)' }],
    });
  });

  it('answers a broken or overlong path in the same error shape as everything else', async () => {
    const bad = await t.app.inject('/api/v1/classes/%ZZ/mastery');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['x-content-type-options']).toBe('nosniff');
    expect(bad.headers['content-security-policy']).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect(bad.json().error).toMatchObject({
      code: 'invalid_request',
      details: [{ field: 'path', message: 'is not valid percent-encoded UTF-8' }],
    });
    const long = await t.app.inject({
      method: 'POST',
      url: `/api/v1/learners/${'x'.repeat(1025)}/mastery/recompute`,
    });
    expect(long.statusCode).toBe(414);
    expect(long.json().error).toMatchObject({ code: 'uri_too_long', details: [{ field: 'path' }] });
    // The longest id a client may send still has its routes.
    const id = '\u{1F600}'.repeat(128);
    expect((await post(t.app, '/api/v1/metrics', record({ class_id: id }))).statusCode).toBe(200);
    const ok = await t.app.inject(`/api/v1/classes/${encodeURIComponent(id)}/mastery`);
    expect(ok.statusCode).toBe(200);
  });

  it('bounds the user list offset instead of failing in the database', async () => {
    const res = await t.app.inject('/api/v1/users?offset=99999999999999999999');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe('offset');
    expect((await t.app.inject('/api/v1/users?offset=1000000000')).statusCode).toBe(200);
  });
});
