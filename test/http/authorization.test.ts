import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, type TestApp } from '../helpers/app.ts';
import { bearer, createUser, signedIn, signIn } from '../helpers/auth.ts';

/**
 * Who may see and write what, over HTTP. Class A and class B both hold metrics and events;
 * an instructor teaches A, another teaches B; learners are linked to a class by its roster
 * only, by its events only, or by its metrics only.
 */

const A = 'class-a';
const B = 'class-b';
const T0 = '2026-01-05T10:00:00.000Z';

/** learner ids and how each is linked to its class */
const ROSTER_A = 'la-roster'; // an account on A's roster; its own events name no class
const EVENTS_A = 'la-events'; // no account; events in A
const METRICS_A = 'la-metrics'; // no account; metrics in A, events naming no class
const ROSTER_B = 'lb-roster'; // an account on B's roster, events in B
const DATA_B = 'lb-data'; // no account; metrics and events in B

type Headers = Record<string, string>;
type Who = { headers: Headers; user: { id: string; email: string; password: string } };

let t: TestApp;
let admin: Who;
let instA: Who;
let instB: Who;
let learnerA: Who;
let learnerB: Who;
/** the id of an event of EVENTS_A in class A, and one of ROSTER_A's own */
let eventOfA = '';
let ownEventOfLearnerA = '';

const quiz = (userId: string, classId: string | null, extra: Record<string, unknown> = {}) => ({
  event_type: 'quiz_attempt',
  user_id: userId,
  ...(classId === null ? {} : { class_id: classId }),
  concept_id: 'fractions',
  correct: true,
  occurred_at: T0,
  ...extra,
});

const get = (url: string, headers: Headers) => t.app.inject({ method: 'GET', url, headers });

function ok(res: { statusCode: number; body: string }) {
  expect(res.statusCode, res.body).toBe(200);
}

const classViews = (c: string) => [
  `/api/v1/classes/${c}/mastery`,
  `/api/v1/classes/${c}/recommendations`,
  `/api/v1/classes/${c}/export`,
  `/api/v1/classes/${c}/concepts/mastery`,
  `/api/v1/classes/${c}/members`,
  `/mastery/${c}`,
  `/recommend/${c}`,
  `/export/${c}`,
];

const learnerViews = (l: string) => [
  `/api/v1/learners/${l}/events`,
  `/api/v1/learners/${l}/mastery`,
  `/api/v1/learners/${l}/mastery/fractions`,
];

beforeAll(async () => {
  t = await createTestApp();
  // Data, written with the suite's full-scope key.
  await ok(
    await post(t.app, '/api/v1/metrics', [
      record({ class_id: A, student_id: METRICS_A, confidence: 7 }),
      record({ class_id: A, student_id: EVENTS_A, confidence: 5 }),
      record({ class_id: B, student_id: DATA_B, confidence: 3 }),
    ]),
  );
  const ev = await post(t.app, '/api/v1/events', [
    quiz(EVENTS_A, A),
    quiz(ROSTER_A, null),
    quiz(METRICS_A, null),
    quiz(ROSTER_B, B),
    quiz(DATA_B, B, { correct: false }),
  ]);
  await ok(ev);
  const ids = (ev.json() as { ids: string[] }).ids;
  eventOfA = ids[0]!;
  ownEventOfLearnerA = ids[1]!;

  admin = await signedIn(t, 'admin');
  instA = await signedIn(t, 'instructor', { classes: [A] });
  instB = await signedIn(t, 'instructor', { classes: [B] });
  learnerA = await signedIn(t, 'learner', { classes: [A], learner_id: ROSTER_A });
  learnerB = await signedIn(t, 'learner', { classes: [B], learner_id: ROSTER_B });
});
afterAll(() => t.close());

describe(`an instructor (${DIALECT})`, () => {
  it("reads every view of the class they teach, with that class's data only", async () => {
    for (const url of classViews(A)) {
      const res = await get(url, instA.headers);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
    const mastery = (await get(`/api/v1/classes/${A}/mastery?by=student`, instA.headers)).json();
    expect(mastery.class_id).toBe(A);
    expect(mastery.by_student.map((s: { student_id: string }) => s.student_id).sort()).toEqual(
      [EVENTS_A, METRICS_A].sort(),
    );
    const csv = (await get(`/api/v1/classes/${A}/export`, instA.headers)).body;
    expect(csv).toContain(METRICS_A);
    expect(csv).not.toContain(DATA_B);
    const concepts = (await get(`/api/v1/classes/${A}/concepts/mastery`, instA.headers)).json();
    expect(concepts.matrix.learners).toEqual([EVENTS_A]);
    const members = (await get(`/api/v1/classes/${A}/members`, instA.headers)).json();
    expect(members.members.map((m: { user_id: string }) => m.user_id).sort()).toEqual(
      [instA.user.id, learnerA.user.id].sort(),
    );
  });

  it('gets 403 for every view of a class they do not teach, which an admin can read', async () => {
    for (const url of classViews(B)) {
      const res = await get(url, instA.headers);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code, url).toBe('forbidden');
      const asAdmin = await get(url, admin.headers);
      expect(asAdmin.statusCode, `admin ${url}: ${asAdmin.body}`).toBe(200);
    }
    // the other instructor is in the mirror position
    expect((await get(`/api/v1/classes/${B}/mastery`, instB.headers)).statusCode).toBe(200);
    expect((await get(`/api/v1/classes/${A}/mastery`, instB.headers)).statusCode).toBe(403);
  });

  it("reads the events and mastery of the learners on the class's roster", async () => {
    for (const url of learnerViews(ROSTER_A)) {
      const res = await get(url, instA.headers);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      expect(res.json().user_id).toBe(ROSTER_A);
    }
  });

  it('does not reach a learner through data alone: the roster decides', async () => {
    // EVENTS_A and METRICS_A appear in A's data but are on no roster.
    for (const learner of [EVENTS_A, METRICS_A]) {
      for (const url of learnerViews(learner)) {
        expect((await get(url, instA.headers)).statusCode, url).toBe(403);
        expect((await get(url, admin.headers)).statusCode, url).toBe(200);
      }
    }
    // Writing a record that names another class's learner grants nothing either.
    const planted = await post(
      t.app,
      '/api/v1/metrics',
      record({ class_id: A, student_id: ROSTER_B }),
      instA.headers,
    );
    expect(planted.json().inserted).toBe(1);
    expect((await get(`/api/v1/learners/${ROSTER_B}/events`, instA.headers)).statusCode).toBe(403);
    // Once the admin puts EVENTS_A on A's roster, A's instructor may read them.
    const account = await createUser(t, 'learner', { learner_id: EVENTS_A });
    await t.app.inject({ method: 'PUT', url: `/api/v1/classes/${A}/members/${account.id}` });
    const history = (await get(`/api/v1/learners/${EVENTS_A}/events`, instA.headers)).json();
    expect(history.events.map((e: { id: string }) => e.id)).toEqual([eventOfA]);
  });

  it("gets 403 for another class's learners", async () => {
    for (const learner of [ROSTER_B, DATA_B]) {
      for (const url of learnerViews(learner)) {
        const res = await get(url, instA.headers);
        expect(res.statusCode, url).toBe(403);
        expect(res.json().error.message).toBe(`No access to learner "${learner}"`);
      }
    }
    for (const url of learnerViews(ROSTER_B)) {
      expect((await get(url, instB.headers)).statusCode, `instB ${url}`).toBe(200);
    }
    const recompute = await post(t.app, `/api/v1/learners/${DATA_B}/mastery/recompute`, undefined, {
      ...instA.headers,
    });
    expect(recompute.statusCode).toBe(403);
  });

  it('lists only the classes taught; an admin lists all; a learner may not list classes', async () => {
    const mine = await get('/api/v1/classes', instA.headers);
    await ok(mine);
    expect(mine.json().classes.map((c: { class_id: string }) => c.class_id)).toEqual([A]);
    const all = await get('/api/v1/classes', admin.headers);
    const allIds = all.json().classes.map((c: { class_id: string }) => c.class_id);
    expect(allIds).toContain(A);
    expect(allIds).toContain(B);
    const learner = await get('/api/v1/classes', learnerA.headers);
    expect(learner.statusCode).toBe(403);
    expect(learner.json().error.code).toBe('forbidden');
  });

  it('writes metrics for the class taught; a record for another class is rejected by index', async () => {
    const res = await post(
      t.app,
      '/api/v1/metrics',
      [
        record({ class_id: A, student_id: 'w-metric-a' }),
        record({ class_id: B, student_id: 'w-metric-b' }),
        record({ class_id: A, student_id: 'w-metric-a2' }),
      ],
      instA.headers,
    );
    await ok(res);
    const body = res.json();
    expect(body.inserted).toBe(2);
    expect(body.rejected).toEqual([
      { index: 1, errors: [{ field: 'class_id', message: expect.any(String) }] },
    ]);
    const csvB = (await get(`/api/v1/classes/${B}/export`, admin.headers)).body;
    expect(csvB).not.toContain('w-metric-b');
    const csvA = (await get(`/api/v1/classes/${A}/export`, admin.headers)).body;
    expect(csvA).toContain('w-metric-a2');

    const refused = await post(
      t.app,
      '/api/v1/metrics',
      [record({ class_id: B, student_id: 'w-metric-b' })],
      instA.headers,
    );
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('all_records_rejected');
    expect(refused.json().error.details.rejected).toEqual([
      { index: 0, errors: [{ field: 'class_id', message: expect.any(String) }] },
    ]);
  });

  it('writes events for the class taught; one for another class or for no class is rejected by index', async () => {
    const res = await post(
      t.app,
      '/api/v1/events',
      [quiz('w-event', B), quiz('w-event', A), quiz('w-event', null)],
      instA.headers,
    );
    await ok(res);
    const body = res.json();
    expect(body.inserted).toBe(1);
    expect(body.rejected.map((r: { index: number }) => r.index)).toEqual([0, 2]);
    for (const r of body.rejected) {
      expect(r.errors).toEqual([{ field: 'class_id', message: expect.any(String) }]);
    }
    expect(body.ids[0]).toBeNull();
    expect(body.ids[2]).toBeNull();
    const history = (await get('/api/v1/learners/w-event/events', admin.headers)).json();
    expect(history.events.map((e: { class_id: string }) => e.class_id)).toEqual([A]);

    const refused = await post(
      t.app,
      '/api/v1/events',
      [quiz('w-event-2', B), quiz('w-event-2', null)],
      instA.headers,
    );
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('all_events_rejected');
    expect(refused.json().error.details.rejected).toHaveLength(2);
    expect((await get('/api/v1/learners/w-event-2/events', admin.headers)).statusCode).toBe(404);
  });
});

describe(`a learner (${DIALECT})`, () => {
  it('reads their own events and mastery, by their learner id', async () => {
    for (const url of learnerViews(ROSTER_A)) {
      const res = await get(url, learnerA.headers);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      expect(res.json().user_id).toBe(ROSTER_A);
    }
    const history = (await get(`/api/v1/learners/${ROSTER_A}/events`, learnerA.headers)).json();
    expect(history.events.map((e: { id: string }) => e.id)).toContain(ownEventOfLearnerA);
  });

  it("gets 403 for another learner's events and mastery, classmates included", async () => {
    for (const other of [EVENTS_A, METRICS_A, ROSTER_B, DATA_B]) {
      for (const url of learnerViews(other)) {
        const res = await get(url, learnerA.headers);
        expect(res.statusCode, url).toBe(403);
        expect(res.json().error.code).toBe('forbidden');
      }
    }
    // nor by the account id instead of the learner id
    const byAccount = await get(`/api/v1/learners/${learnerB.user.id}/events`, learnerA.headers);
    expect(byAccount.statusCode).toBe(403);
  });

  it('gets 403 for the class views, even of their own class', async () => {
    for (const url of [...classViews(A), ...classViews(B), '/api/v1/classes']) {
      const res = await get(url, learnerA.headers);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code, url).toBe('forbidden');
    }
  });

  it('records their own metrics; one about another student is rejected by index, naming student_id', async () => {
    const res = await post(
      t.app,
      '/api/v1/metrics',
      [
        record({ class_id: A, student_id: ROSTER_A, confidence: 9 }),
        record({ class_id: A, student_id: EVENTS_A, confidence: 1 }),
        record({ class_id: B, student_id: ROSTER_A, confidence: 1 }),
      ],
      learnerA.headers,
    );
    await ok(res);
    const body = res.json();
    expect(body.inserted).toBe(1);
    expect(body.rejected).toEqual([
      { index: 1, errors: [{ field: 'student_id', message: expect.any(String) }] },
      { index: 2, errors: [{ field: 'class_id', message: expect.any(String) }] },
    ]);
    const mastery = (await get(`/api/v1/classes/${A}/mastery?by=student`, admin.headers)).json();
    const ids = mastery.by_student.map((s: { student_id: string }) => s.student_id);
    expect(ids).toContain(ROSTER_A);

    const refused = await post(
      t.app,
      '/api/v1/metrics',
      record({ class_id: A, student_id: EVENTS_A }),
      learnerA.headers,
    );
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.details.rejected).toEqual([
      { index: 0, errors: [{ field: 'student_id', message: expect.any(String) }] },
    ]);
  });

  it('records their own events; one about another learner is rejected by index, naming user_id', async () => {
    const before = (await get(`/api/v1/learners/${EVENTS_A}/events`, admin.headers)).json();
    const res = await post(
      t.app,
      '/api/v1/events',
      [quiz(EVENTS_A, A), quiz(ROSTER_A, A, { occurred_at: '2026-01-06T10:00:00.000Z' })],
      learnerA.headers,
    );
    await ok(res);
    const body = res.json();
    expect(body.inserted).toBe(1);
    expect(body.rejected).toEqual([
      { index: 0, errors: [{ field: 'user_id', message: expect.any(String) }] },
    ]);
    const mine = (await get(`/api/v1/learners/${ROSTER_A}/events`, learnerA.headers)).json();
    expect(mine.events[0].id).toBe(body.ids[1]);
    const after = (await get(`/api/v1/learners/${EVENTS_A}/events`, admin.headers)).json();
    expect(after.events).toEqual(before.events);

    const refused = await post(t.app, '/api/v1/events', quiz(ROSTER_B, null), learnerA.headers);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.details.rejected).toEqual([
      { index: 0, errors: [{ field: 'user_id', message: expect.any(String) }] },
    ]);
  });
});

describe(`GET /api/v1/events/{id} (${DIALECT})`, () => {
  it("is 404 for a learner or an instructor who may not see the event's learner, as for a missing event", async () => {
    const missing = await get(
      '/api/v1/events/00000000-0000-7000-8000-00000000ffff',
      learnerA.headers,
    );
    expect(missing.statusCode).toBe(404);
    for (const who of [learnerA, learnerB, instB]) {
      const res = await get(`/api/v1/events/${eventOfA}`, who.headers);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe(missing.json().error.code);
      expect(res.body).not.toContain(EVENTS_A);
    }
  });

  it('is 200 for an admin, the instructor of the class and the learner whose event it is', async () => {
    const account = await createUser(t, 'learner', { learner_id: EVENTS_A }).catch(() => null);
    if (account)
      await t.app.inject({ method: 'PUT', url: `/api/v1/classes/${A}/members/${account.id}` });
    for (const who of [admin, instA]) {
      const res = await get(`/api/v1/events/${eventOfA}`, who.headers);
      await ok(res);
      expect(res.json()).toMatchObject({ id: eventOfA, user_id: EVENTS_A, class_id: A });
    }
    const own = await get(`/api/v1/events/${ownEventOfLearnerA}`, learnerA.headers);
    await ok(own);
    expect(own.json().user_id).toBe(ROSTER_A);
  });
});

describe(`admin-only routes (${DIALECT})`, () => {
  it('are 403 for instructors and learners, and work for an admin', async () => {
    const bystander = await createUser(t, 'learner');
    const routes: [string, string][] = [
      ['POST', '/api/v1/mastery/recompute'],
      ['POST', '/api/v1/concepts/fit'],
      ['GET', '/api/v1/users'],
      ['GET', '/api/v1/audit'],
      ['PUT', `/api/v1/classes/${A}/members/${bystander.id}`],
    ];
    for (const [method, url] of routes) {
      for (const who of [instA, learnerA]) {
        const res = await t.app.inject({ method: method as 'GET', url, headers: who.headers });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json().error).toEqual({
          code: 'forbidden',
          message: 'Only administrators may do this',
        });
      }
    }
    // the refused PUT enrolled nobody
    const members = (await get(`/api/v1/classes/${A}/members`, admin.headers)).json();
    expect(members.members.map((m: { user_id: string }) => m.user_id)).not.toContain(bystander.id);

    for (const [method, url] of routes) {
      const res = await t.app.inject({ method: method as 'GET', url, headers: admin.headers });
      expect(res.statusCode, `admin ${method} ${url}: ${res.body}`).toBe(200);
    }
  });
});

describe(`account changes (${DIALECT})`, () => {
  it("refuses a deactivated user's access token that has not expired yet", async () => {
    const who = await signedIn(t, 'instructor', { classes: [A] });
    await ok(await get(`/api/v1/classes/${A}/mastery`, who.headers));
    const off = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${who.user.id}`,
      payload: { active: false },
    });
    await ok(off);
    const res = await get(`/api/v1/classes/${A}/mastery`, who.headers);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('account_inactive');
    // and cannot sign in again
    await expect(signIn(t, who.user)).rejects.toThrow(/401/);
  });

  it('applies a role change on the next request with the same token', async () => {
    const who = await signedIn(t, 'instructor', { classes: [A] });
    const patch = (payload: object) =>
      t.app.inject({ method: 'PATCH', url: `/api/v1/users/${who.user.id}`, payload });
    expect((await get('/api/v1/users', who.headers)).statusCode).toBe(403);
    expect((await get(`/api/v1/classes/${B}/mastery`, who.headers)).statusCode).toBe(403);

    await ok(await patch({ role: 'admin' }));
    await ok(await get('/api/v1/users', who.headers));
    await ok(await get(`/api/v1/classes/${B}/mastery`, who.headers));

    await ok(await patch({ role: 'instructor' }));
    expect((await get('/api/v1/users', who.headers)).statusCode).toBe(403);
    expect((await get(`/api/v1/classes/${B}/mastery`, who.headers)).statusCode).toBe(403);
    // A role change clears the memberships: they teach nothing until enrolled again.
    expect((await get(`/api/v1/classes/${A}/mastery`, who.headers)).statusCode).toBe(403);
    await t.app.inject({ method: 'PUT', url: `/api/v1/classes/${A}/members/${who.user.id}` });
    await ok(await get(`/api/v1/classes/${A}/mastery`, who.headers));

    await ok(await patch({ role: 'learner', learner_id: 'demoted-instructor' }));
    expect((await get(`/api/v1/classes/${A}/mastery`, who.headers)).statusCode).toBe(403);
    expect((await get(`/api/v1/learners/${EVENTS_A}/events`, who.headers)).statusCode).toBe(403);
  });
});

describe(`no credentials (${DIALECT})`, () => {
  it('is 401, while a bad token is 401 and a good one without the right is 403', async () => {
    const url = `/api/v1/classes/${A}/mastery`;
    const none = await t.app.inject({ url, headers: { 'x-api-key': undefined } });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    const forged = await get(url, bearer(`${instA.headers.authorization!.slice(7)}x`));
    expect(forged.statusCode).toBe(401);
    expect((await get(url, learnerA.headers)).statusCode).toBe(403);
  });
});
