import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, type TestApp } from '../../helpers/app.ts';
import { createUser, signedIn, type TestUser } from '../../helpers/auth.ts';

interface Entry {
  id: string;
  at: string;
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  target: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}
interface Page {
  entries: Entry[];
  next_cursor: string | null;
}

let t: TestApp;
let admin: Awaited<ReturnType<typeof signedIn>>;
let learner: TestUser;
/** instants between the steps of the story below, for the from/to filters */
let beforeLogins: string;
let afterLogins: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signedIn(t, 'admin');
  learner = await createUser(t, 'learner', { learner_id: 's1' });
  await sleep(5);
  beforeLogins = new Date().toISOString();
  await sleep(5);
  const wrong = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: learner.email, password: 'not the password at all' },
  });
  expect(wrong.statusCode).toBe(401);
  const right = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: learner.email, password: learner.password },
  });
  expect(right.statusCode).toBe(200);
  await sleep(5);
  afterLogins = new Date().toISOString();
  await sleep(5);
});
afterAll(() => t?.close());

const audit = async (query = '', headers: Record<string, string> = admin.headers) => {
  const res = await t.app.inject({ url: `/api/v1/audit${query}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
};

/** every entry, newest first, in one page */
const all = async (query = '') => (await audit(`?limit=500${query}`)).entries;

describe(`GET /api/v1/audit (${DIALECT})`, () => {
  it('records failed and successful sign-ins with the email and the address', async () => {
    const logins = (await all('&action=auth.login')).filter((e) => e.actor_label === learner.email);
    expect(logins.map((e) => e.outcome)).toEqual(['success', 'failure']);
    for (const e of logins) {
      expect(e.ip).toBe('127.0.0.1');
      expect(e.actor_id).toBe(learner.id);
      expect(e.actor_type).toBe('user');
    }
    expect(logins[1]!.details).toEqual({ reason: 'wrong email or password' });
  });

  it('records a sign-in for an unknown email by the email tried, with no actor id', async () => {
    const email = 'nobody-here@school.example';
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: 'whatever password' },
    });
    expect(res.statusCode).toBe(401);
    const [e] = (await all('&outcome=failure')).filter((x) => x.actor_label === email);
    expect(e).toMatchObject({
      action: 'auth.login',
      outcome: 'failure',
      actor_type: 'anonymous',
      actor_id: null,
      ip: '127.0.0.1',
    });
    // the password tried is never written down
    expect(JSON.stringify(e)).not.toContain('whatever password');
  });

  it('records API key creation and revocation', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: admin.headers,
      payload: { name: 'grade sync', scopes: ['analytics:read'] },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json() as { id: string; key: string; prefix: string };
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/api-keys/${key.id}`,
      headers: admin.headers,
    });
    expect(revoked.statusCode).toBe(204);

    const entries = await all('&action=api_key.*');
    expect(entries.map((e) => [e.action, e.target])).toEqual([
      ['api_key.revoke', key.id],
      ['api_key.create', key.id],
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({
        actor_type: 'user',
        actor_id: admin.user.id,
        actor_label: admin.user.email,
      });
    }
    expect(entries[1]!.details).toMatchObject({ name: 'grade sync', scopes: ['analytics:read'] });
    // the secret itself is never in the log
    expect(JSON.stringify(entries)).not.toContain(key.key);
  });

  it('records a role change with from and to', async () => {
    const u = await createUser(t, 'instructor');
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${u.id}`,
      headers: admin.headers,
      payload: { role: 'admin' },
    });
    expect(res.statusCode).toBe(200);
    const changes = await all('&action=user.role_change');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      target: u.id,
      actor_id: admin.user.id,
      details: { from: 'instructor', to: 'admin' },
    });
  });

  it('records an export with the class as its target', async () => {
    const cls = 'audited class';
    const m = await post(t.app, '/api/v1/metrics', record({ class_id: cls }));
    expect(m.statusCode).toBe(200);
    const res = await t.app.inject(`/api/v1/classes/${encodeURIComponent(cls)}/export`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(cls);
    const [e] = await all('&action=export');
    expect(e).toMatchObject({
      action: 'export',
      outcome: 'success',
      target: cls,
      actor_type: 'api_key',
      actor_id: 'env',
      details: { format: 'csv' },
    });
  });

  it('records a mastery recompute', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mastery/recompute',
      headers: admin.headers,
    });
    expect(res.statusCode).toBe(200);
    const entries = await all('&action=mastery.recompute');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ target: '*', actor_id: admin.user.id });
  });

  it('filters by exact action and by prefix', async () => {
    const exact = await all('&action=auth.login');
    expect(exact.length).toBeGreaterThanOrEqual(3);
    expect(new Set(exact.map((e) => e.action))).toEqual(new Set(['auth.login']));

    const prefix = await all('&action=auth.*');
    expect(prefix.length).toBeGreaterThanOrEqual(exact.length);
    expect(prefix.every((e) => e.action.startsWith('auth.'))).toBe(true);
    const everything = await all();
    expect(prefix).toEqual(everything.filter((e) => e.action.startsWith('auth.')));

    // a prefix is not a pattern: "_" and "%" match only themselves
    expect(await all('&action=user.*')).toEqual(
      everything.filter((e) => e.action.startsWith('user.')),
    );
    expect(await all('&action=%25.*')).toEqual([]);
    expect(await all('&action=auth')).toEqual([]);
  });

  it('filters by outcome and by actor', async () => {
    const failures = await all('&outcome=failure');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.every((e) => e.outcome === 'failure')).toBe(true);
    const successes = await all('&outcome=success');
    expect(successes.every((e) => e.outcome === 'success')).toBe(true);
    expect(failures.length + successes.length).toBe((await all()).length);

    const mine = await all(`&actor_id=${learner.id}`);
    expect(mine.map((e) => [e.action, e.outcome])).toEqual([
      ['auth.login', 'success'],
      ['auth.login', 'failure'],
    ]);
    expect(await all('&actor_id=no-such-actor')).toEqual([]);
  });

  it('filters by time with from (inclusive) and to (exclusive)', async () => {
    const window = await all(
      `&from=${encodeURIComponent(beforeLogins)}&to=${encodeURIComponent(afterLogins)}`,
    );
    expect(window.map((e) => [e.action, e.outcome, e.actor_label])).toEqual([
      ['auth.login', 'success', learner.email],
      ['auth.login', 'failure', learner.email],
    ]);
    const before = await all(`&to=${encodeURIComponent(beforeLogins)}`);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((e) => e.at < beforeLogins)).toBe(true);
    const after = await all(`&from=${encodeURIComponent(afterLogins)}`);
    expect(after.every((e) => e.at >= afterLogins)).toBe(true);
    expect(before.length + window.length + after.length).toBe((await all()).length);
    // a date alone means that whole day, in UTC
    const today = new Date().toISOString().slice(0, 10);
    expect((await all(`&from=${today}&to=${today}`)).length).toBe((await all()).length);
  });

  it('walks every entry once, newest first, two at a time', async () => {
    const reference = await all();
    expect(reference.length).toBeGreaterThan(6);
    const seen: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await audit(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries);
      cursor = page.next_cursor;
      pages++;
      expect(pages).toBeLessThan(1000);
    } while (cursor);
    expect(seen.map((e) => e.id)).toEqual(reference.map((e) => e.id));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.at >= seen[i]!.at).toBe(true);
    expect(pages).toBe(Math.ceil(reference.length / 2));
  });

  it('pages a filtered list with the filter kept', async () => {
    const reference = await all('&action=auth.*');
    const first = await audit('?action=auth.*&limit=1');
    expect(first.entries.map((e) => e.id)).toEqual([reference[0]!.id]);
    const rest = await audit(`?action=auth.*&limit=500&cursor=${first.next_cursor}`);
    expect(rest.entries.map((e) => e.id)).toEqual(reference.slice(1).map((e) => e.id));
    expect(rest.next_cursor).toBeNull();
  });

  it('refuses a bad from or to with 400', async () => {
    for (const q of ['from=yesterday', 'to=2026-13-45', `from=2026-02-01&to=2026-01-01`]) {
      const res = await t.app.inject({ url: `/api/v1/audit?${q}`, headers: admin.headers });
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    }
    const res = await t.app.inject({ url: '/api/v1/audit?from=soon', headers: admin.headers });
    expect(res.json().error.details).toEqual([expect.objectContaining({ field: 'from' })]);
    expect(
      (await t.app.inject({ url: '/api/v1/audit?outcome=maybe', headers: admin.headers }))
        .statusCode,
    ).toBe(400);
  });

  it('is for administrators only', async () => {
    const instructor = await signedIn(t, 'instructor');
    const res = await t.app.inject({ url: '/api/v1/audit', headers: instructor.headers });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden');
    const anonymous = await t.app.inject({
      url: '/api/v1/audit',
      headers: { 'x-api-key': undefined },
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
