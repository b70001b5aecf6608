import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, TEST_KEY, type TestApp } from '../../helpers/app.ts';
import { createUser, signedIn } from '../../helpers/auth.ts';

const KEYS = '/api/v1/api-keys';
const A = 'keys-a';
const B = 'keys-b';
const T0 = '2026-01-05T10:00:00.000Z';
const DAY_MS = 86_400_000;

type Headers = Record<string, string>;
interface KeyOut {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  class_ids: string[] | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}
interface Created extends KeyOut {
  key: string;
}

let t: TestApp;
let admin: { user: { id: string }; headers: Headers };
let instructor: { user: { id: string }; headers: Headers };
let learner: { user: { id: string }; headers: Headers };

const quiz = (userId: string, classId: string | null) => ({
  event_type: 'quiz_attempt',
  user_id: userId,
  ...(classId === null ? {} : { class_id: classId }),
  concept_id: 'fractions',
  correct: true,
  occurred_at: T0,
});

const get = (url: string, headers: Headers) => t.app.inject({ method: 'GET', url, headers });
const withKey = (key: string): Headers => ({ 'x-api-key': key });

/** Creates a key as `as` (an admin by default) and returns it; fails the test otherwise. */
async function createKey(body: Record<string, unknown>, as: Headers = admin.headers) {
  const res = await post(t.app, KEYS, body, as);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Created;
}

async function listKeys(as: Headers, query = ''): Promise<KeyOut[]> {
  const res = await get(`${KEYS}${query}`, as);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { api_keys: KeyOut[] }).api_keys;
}

beforeAll(async () => {
  t = await createTestApp();
  const m = await post(t.app, '/api/v1/metrics', [
    record({ class_id: A, student_id: 'ka-1' }),
    record({ class_id: B, student_id: 'kb-1' }),
  ]);
  expect(m.statusCode, m.body).toBe(200);
  const e = await post(t.app, '/api/v1/events', [quiz('ka-1', A), quiz('kb-1', B)]);
  expect(e.statusCode, e.body).toBe(200);
  admin = await signedIn(t, 'admin');
  instructor = await signedIn(t, 'instructor', { classes: [A] });
  learner = await signedIn(t, 'learner', { classes: [A], learner_id: 'ka-learner' });
});
afterAll(() => t.close());

describe(`creating and listing API keys (${DIALECT})`, () => {
  it('shows the secret once, at creation; the list and the audit log never hold it', async () => {
    const created = await createKey({ name: ' reporting ', scopes: ['analytics:read'] });
    expect(created.key).toMatch(/^lt_[A-Za-z0-9_-]{20,}$/);
    expect(created.prefix).toBe(created.key.slice(0, 11));
    expect(created).toMatchObject({
      name: 'reporting',
      scopes: ['analytics:read'],
      class_ids: null,
      expires_at: null,
      last_used_at: null,
      created_by: admin.user.id,
      revoked_at: null,
    });

    const res = await get(KEYS, admin.headers);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(created.key);
    const listed = (res.json() as { api_keys: Record<string, unknown>[] }).api_keys.find(
      (k) => k.id === created.id,
    );
    expect(listed).toBeDefined();
    expect(listed!.prefix).toBe(created.prefix);
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('key_hash');
    expect(Object.keys(listed!).some((k) => /hash|secret/.test(k))).toBe(false);

    const audit = await get('/api/v1/audit', admin.headers);
    expect(audit.statusCode).toBe(200);
    expect(audit.body).toContain(created.prefix);
    expect(audit.body).not.toContain(created.key);
  });

  it('revokes a key: it stops working at once and leaves the default list', async () => {
    const created = await createKey({ name: 'short-lived', scopes: ['analytics:read'] });
    expect((await get(`/api/v1/classes/${A}/mastery`, withKey(created.key))).statusCode).toBe(200);

    const del = await t.app.inject({
      method: 'DELETE',
      url: `${KEYS}/${created.id}`,
      headers: admin.headers,
    });
    expect(del.statusCode).toBe(204);
    const after = await get(`/api/v1/classes/${A}/mastery`, withKey(created.key));
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('unauthorized');

    expect((await listKeys(admin.headers)).map((k) => k.id)).not.toContain(created.id);
    const all = await listKeys(admin.headers, '?include_revoked=true');
    expect(all.find((k) => k.id === created.id)?.revoked_at).toEqual(expect.any(String));

    const again = await t.app.inject({
      method: 'DELETE',
      url: `${KEYS}/${created.id}`,
      headers: admin.headers,
    });
    expect(again.statusCode).toBe(404);
  });

  it('accepts a key as X-API-Key and as Authorization: Bearer, and records its last use', async () => {
    const created = await createKey({ name: 'both-headers', scopes: ['analytics:read'] });
    expect(created.last_used_at).toBeNull();
    for (const headers of [withKey(created.key), { authorization: `Bearer ${created.key}` }]) {
      const me = await get('/api/v1/auth/me', headers);
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json()).toMatchObject({
        type: 'api_key',
        api_key: { id: created.id, name: 'both-headers' },
        scopes: ['analytics:read'],
        class_ids: null,
      });
    }
    const used = (await listKeys(admin.headers)).find((k) => k.id === created.id)!;
    expect(used.last_used_at).not.toBeNull();
    expect(Date.parse(used.last_used_at!)).toBeGreaterThanOrEqual(Date.parse(created.created_at));

    // a wrong secret with a right-looking prefix is refused
    const forged = await get('/api/v1/auth/me', withKey(`${created.key.slice(0, -1)}#`));
    expect(forged.statusCode).toBe(401);
  });

  it('refuses empty or unknown scopes with a JSON error', async () => {
    for (const scopes of [[], ['analytics:write'], ['admin', 'everything']]) {
      const res = await post(t.app, KEYS, { name: 'bad', scopes }, admin.headers);
      expect([400, 422], `${JSON.stringify(scopes)}: ${res.body}`).toContain(res.statusCode);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.json().error.code).toEqual(expect.any(String));
      expect(JSON.stringify(res.json().error.details)).toContain('scopes');
    }
  });

  it('refuses an expiry in the past or not a date, and stores no key', async () => {
    const before = (await listKeys(admin.headers)).length;
    for (const expires_at of [new Date(Date.now() - DAY_MS).toISOString(), 'next tuesday']) {
      const res = await post(
        t.app,
        KEYS,
        { name: 'expired', scopes: ['analytics:read'], expires_at },
        admin.headers,
      );
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().error.details).toEqual([
        { field: 'expires_at', message: expect.any(String) },
      ]);
    }
    expect(await listKeys(admin.headers)).toHaveLength(before);
  });

  it('refuses a key past its expiry with 401', async () => {
    const expires = new Date(Date.now() + DAY_MS).toISOString();
    const created = await createKey({
      name: 'expiring',
      scopes: ['analytics:read'],
      expires_at: expires,
    });
    expect(created.expires_at).toBe(expires);
    expect((await get(`/api/v1/classes/${A}/mastery`, withKey(created.key))).statusCode).toBe(200);

    await t.database.db
      .updateTable('api_keys')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', created.id)
      .execute();
    const res = await get(`/api/v1/classes/${A}/mastery`, withKey(created.key));
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('api_key_expired');
  });
});

describe(`what a key may do (${DIALECT})`, () => {
  it('with only metrics:write: writes metrics, but may not read or write events', async () => {
    const { key } = await createKey({ name: 'sensor', scopes: ['metrics:write'] });
    const res = await post(
      t.app,
      '/api/v1/metrics',
      record({ class_id: A, student_id: 'sensor-1' }),
      withKey(key),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().inserted).toBe(1);

    const read = await get(`/api/v1/classes/${A}/mastery`, withKey(key));
    expect(read.statusCode).toBe(403);
    expect(read.json().error.message).toContain('analytics:read');
    const events = await post(t.app, '/api/v1/events', quiz('sensor-1', A), withKey(key));
    expect(events.statusCode).toBe(403);
    expect(events.json().error.message).toContain('events:write');
  });

  it('with analytics:read: reads but cannot export, which export:read allows', async () => {
    const reader = await createKey({ name: 'reader', scopes: ['analytics:read'] });
    expect((await get(`/api/v1/classes/${A}/mastery`, withKey(reader.key))).statusCode).toBe(200);
    for (const url of [`/api/v1/classes/${A}/export`, `/export/${A}`]) {
      const res = await get(url, withKey(reader.key));
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.message).toContain('export:read');
    }
    const exporter = await createKey({ name: 'exporter', scopes: ['export:read'] });
    const csv = await get(`/api/v1/classes/${A}/export`, withKey(exporter.key));
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.body).toContain('ka-1');
    // and export:read alone is not analytics:read
    expect((await get(`/api/v1/classes/${A}/mastery`, withKey(exporter.key))).statusCode).toBe(403);
  });

  it('restricted to class A: reads A and its learners, not B; its writes for B are rejected by index', async () => {
    const { key } = await createKey({
      name: 'class-a-only',
      scopes: ['metrics:write', 'events:write', 'analytics:read', 'export:read'],
      class_ids: [A],
    });
    const h = withKey(key);
    // Learners are reached through the roster: put ka-1 on A's.
    const ka1 = await createUser(t, 'learner', { learner_id: 'ka-1' });
    await t.app.inject({ method: 'PUT', url: `/api/v1/classes/${A}/members/${ka1.id}` });
    for (const url of [
      `/api/v1/classes/${A}/mastery`,
      `/api/v1/classes/${A}/export`,
      '/api/v1/learners/ka-1/events',
    ]) {
      expect((await get(url, h)).statusCode, url).toBe(200);
    }
    for (const url of [
      `/api/v1/classes/${B}/mastery`,
      `/api/v1/classes/${B}/export`,
      '/api/v1/learners/kb-1/events',
    ]) {
      const res = await get(url, h);
      expect(res.statusCode, url).toBe(403);
    }
    const classes = await get('/api/v1/classes', h);
    expect(classes.json().classes.map((c: { class_id: string }) => c.class_id)).toEqual([A]);

    const metrics = await post(
      t.app,
      '/api/v1/metrics',
      [record({ class_id: B, student_id: 'kb-2' }), record({ class_id: A, student_id: 'ka-2' })],
      h,
    );
    expect(metrics.statusCode, metrics.body).toBe(200);
    expect(metrics.json()).toMatchObject({
      inserted: 1,
      rejected: [{ index: 0, errors: [{ field: 'class_id', message: expect.any(String) }] }],
    });
    const csvB = await get(`/api/v1/classes/${B}/export`, admin.headers);
    expect(csvB.body).not.toContain('kb-2');

    const events = await post(
      t.app,
      '/api/v1/events',
      [quiz('ka-2', A), quiz('ka-2', null), quiz('kb-2', B)],
      h,
    );
    expect(events.statusCode, events.body).toBe(200);
    expect(events.json().inserted).toBe(1);
    expect(events.json().rejected).toEqual([
      { index: 1, errors: [{ field: 'class_id', message: expect.any(String) }] },
      { index: 2, errors: [{ field: 'class_id', message: expect.any(String) }] },
    ]);

    const allRefused = await post(
      t.app,
      '/api/v1/metrics',
      record({ class_id: B, student_id: 'kb-2' }),
      h,
    );
    expect(allRefused.statusCode).toBe(422);
  });

  it('with the admin scope: uses the admin routes, which other scopes do not open', async () => {
    const adminKey = await createKey({ name: 'ops', scopes: ['admin'] });
    const others = await createKey({
      name: 'everything-but-admin',
      scopes: ['metrics:write', 'events:write', 'analytics:read', 'export:read'],
    });
    const routes: [string, string][] = [
      ['GET', '/api/v1/users'],
      ['GET', '/api/v1/audit'],
      ['POST', '/api/v1/mastery/recompute'],
    ];
    for (const [method, url] of routes) {
      const ok = await t.app.inject({
        method: method as 'GET',
        url,
        headers: withKey(adminKey.key),
      });
      expect(ok.statusCode, `${method} ${url}: ${ok.body}`).toBe(200);
      const no = await t.app.inject({ method: method as 'GET', url, headers: withKey(others.key) });
      expect(no.statusCode, `${method} ${url}`).toBe(403);
    }
    // the admin scope implies the others
    expect((await get(`/api/v1/classes/${B}/export`, withKey(adminKey.key))).statusCode).toBe(200);
  });

  it('with the admin scope cannot be restricted to classes (it would reach every class)', async () => {
    const res = await post(
      t.app,
      KEYS,
      { name: 'ops-a', scopes: ['admin', 'analytics:read'], class_ids: [A] },
      admin.headers,
    );
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().error.details).toEqual([{ field: 'class_ids', message: expect.any(String) }]);
  });

  it('the API_KEY variable is a key with every scope and every class', async () => {
    const h = withKey(TEST_KEY);
    const me = await get('/api/v1/auth/me', h);
    expect(me.json()).toMatchObject({ type: 'api_key', class_ids: null });
    expect([...me.json().scopes].sort()).toEqual(
      ['admin', 'analytics:read', 'events:write', 'export:read', 'metrics:write'].sort(),
    );
    expect(
      (await post(t.app, '/api/v1/metrics', record({ class_id: B, student_id: 'env-1' }), h))
        .statusCode,
    ).toBe(200);
    expect((await post(t.app, '/api/v1/events', quiz('env-1', null), h)).statusCode).toBe(200);
    for (const url of [
      `/api/v1/classes/${A}/mastery`,
      `/api/v1/classes/${B}/export`,
      '/api/v1/learners/env-1/events',
      '/api/v1/users',
    ]) {
      expect((await get(url, h)).statusCode, url).toBe(200);
    }
    expect((await get('/api/v1/users', withKey(`${TEST_KEY}x`))).statusCode).toBe(401);
  });
});

describe(`who may make keys (${DIALECT})`, () => {
  it('an instructor makes keys only for classes they teach and without the admin scope', async () => {
    const mine = await createKey(
      { name: 'my-class', scopes: ['analytics:read'], class_ids: [A] },
      instructor.headers,
    );
    expect(mine.created_by).toBe(instructor.user.id);
    expect((await get(`/api/v1/classes/${A}/mastery`, withKey(mine.key))).statusCode).toBe(200);

    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'other', scopes: ['analytics:read'], class_ids: [B] }, 'class_ids'],
      [{ name: 'both', scopes: ['analytics:read'], class_ids: [A, B] }, 'class_ids'],
      [{ name: 'every', scopes: ['analytics:read'] }, 'class_ids'],
      [{ name: 'admin', scopes: ['admin'], class_ids: [A] }, 'scopes'],
    ];
    const before = (await listKeys(admin.headers)).length;
    for (const [body, field] of cases) {
      const res = await post(t.app, KEYS, body, instructor.headers);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(res.json().error.details[0].field, JSON.stringify(body)).toBe(field);
    }
    expect(await listKeys(admin.headers)).toHaveLength(before);
  });

  it('a key reaches no further than its maker can today', async () => {
    const teacher = await signedIn(t, 'instructor', { classes: [A, B] });
    const { key } = await createKey(
      { name: 'clicker', scopes: ['analytics:read'], class_ids: [A, B] },
      teacher.headers,
    );
    const h = withKey(key);
    expect((await get(`/api/v1/classes/${B}/mastery`, h)).statusCode).toBe(200);
    // Taken off class B: the key loses B, keeps A.
    await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/classes/${B}/members/${teacher.user.id}`,
    });
    expect((await get(`/api/v1/classes/${B}/mastery`, h)).statusCode).toBe(403);
    expect((await get(`/api/v1/classes/${A}/mastery`, h)).statusCode).toBe(200);
    // Deactivated: the key stops working at all.
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${teacher.user.id}`,
      payload: { active: false },
    });
    const res = await get(`/api/v1/classes/${A}/mastery`, h);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toContain('can no longer use it');
  });

  it("an instructor sees only their own keys and cannot revoke another's (404)", async () => {
    const adminsKey = await createKey({ name: 'admins', scopes: ['analytics:read'] });
    const own = await createKey(
      { name: 'own', scopes: ['export:read'], class_ids: [A] },
      instructor.headers,
    );
    const listed = await listKeys(instructor.headers);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((k) => k.created_by === instructor.user.id)).toBe(true);
    expect(listed.map((k) => k.id)).toContain(own.id);
    expect(listed.map((k) => k.id)).not.toContain(adminsKey.id);
    // the admin sees both
    const all = (await listKeys(admin.headers)).map((k) => k.id);
    expect(all).toEqual(expect.arrayContaining([adminsKey.id, own.id]));

    const del = await t.app.inject({
      method: 'DELETE',
      url: `${KEYS}/${adminsKey.id}`,
      headers: instructor.headers,
    });
    expect(del.statusCode).toBe(404);
    expect((await get(`/api/v1/classes/${A}/mastery`, withKey(adminsKey.key))).statusCode).toBe(
      200,
    );

    const delOwn = await t.app.inject({
      method: 'DELETE',
      url: `${KEYS}/${own.id}`,
      headers: instructor.headers,
    });
    expect(delOwn.statusCode).toBe(204);
    expect((await get(`/api/v1/classes/${A}/export`, withKey(own.key))).statusCode).toBe(401);
  });

  it('a learner cannot make keys (403)', async () => {
    const res = await post(
      t.app,
      KEYS,
      { name: 'mine', scopes: ['analytics:read'], class_ids: [A] },
      learner.headers,
    );
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden');
    expect(await listKeys(learner.headers)).toEqual([]);
  });

  it('a key without the admin scope cannot make keys (403)', async () => {
    const { key } = await createKey({ name: 'plain', scopes: ['analytics:read', 'export:read'] });
    const res = await post(
      t.app,
      KEYS,
      { name: 'child', scopes: ['analytics:read'] },
      withKey(key),
    );
    expect(res.statusCode).toBe(403);
  });
});
