import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/modules/auth/secrets.ts';
import { createTestApp, DIALECT, type TestApp } from '../../helpers/app.ts';
import { bearer, createUser, PASSWORD, signedIn, signIn } from '../../helpers/auth.ts';

let t: TestApp;
/** a signed-in administrator (a person, not the suite's key) */
let admin: Awaited<ReturnType<typeof signedIn>>;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signedIn(t, 'admin');
});
afterAll(() => t?.close());

let n = 0;
/** a unique suffix, so that tests do not trip over each other's emails and learner ids */
const uniq = () => `${++n}-${Math.random().toString(36).slice(2, 8)}`;

const createBody = (role: string, extra: Record<string, unknown> = {}) => {
  const u = uniq();
  return {
    email: `${role}-${u}@school.example`,
    name: `${role} ${u}`,
    password: PASSWORD,
    role,
    ...(role === 'learner' ? { learner_id: `s-${u}` } : {}),
    ...extra,
  };
};

const postUser = (payload: unknown) =>
  t.app.inject({ method: 'POST', url: '/api/v1/users', payload: payload as object });

const patchUser = (id: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'PATCH',
    url: `/api/v1/users/${id}`,
    payload: payload as object,
    headers,
  });

const login = (email: string, password: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });

const importRoster = (csv: string, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/rosters/import',
    headers: { 'content-type': 'text/csv', ...headers },
    payload: csv,
  });

type Member = {
  user_id: string;
  role: string;
  name: string;
  email: string | null;
  learner_id: string | null;
  active: boolean;
};
const members = async (classId: string): Promise<Member[]> => {
  const res = await t.app.inject(`/api/v1/classes/${encodeURIComponent(classId)}/members`);
  expect(res.statusCode).toBe(200);
  return res.json().members as Member[];
};

const fields = (res: { json(): unknown }) =>
  ((res.json() as { error: { details?: { field: string }[] } }).error.details ?? []).map(
    (d) => d.field,
  );

describe(`POST /api/v1/users (${DIALECT})`, () => {
  it.each(['admin', 'instructor', 'learner'])('creates a %s who can then sign in', async (role) => {
    const body = createBody(role);
    const res = await postUser(body);
    expect(res.statusCode).toBe(201);
    const u = res.json();
    expect(u).toMatchObject({
      email: body.email,
      name: body.name,
      role,
      learner_id: role === 'learner' ? body.learner_id : null,
      active: true,
      two_factor_enabled: false,
      can_sign_in: true,
    });
    expect(u.id).toEqual(expect.any(String));
    const again = await t.app.inject(`/api/v1/users/${u.id}`);
    expect(again.json()).toEqual(u);
    expect((await login(body.email, PASSWORD)).statusCode).toBe(200);
  });

  it('stores the email in lower case and accepts it in any case at sign-in', async () => {
    const body = createBody('instructor');
    const res = await postUser({ ...body, email: body.email.toUpperCase() });
    expect(res.statusCode).toBe(201);
    expect(res.json().email).toBe(body.email);
    expect((await login(body.email.toUpperCase(), PASSWORD)).statusCode).toBe(200);
  });

  it('creates an account without a password that cannot sign in', async () => {
    const body = createBody('learner', { password: undefined });
    const res = await postUser(body);
    expect(res.statusCode).toBe(201);
    expect(res.json().can_sign_in).toBe(false);
    expect((await login(body.email, PASSWORD)).statusCode).toBe(401);
  });

  it('refuses a learner without a learner_id (422, naming learner_id)', async () => {
    const res = await postUser(createBody('instructor', { role: 'learner' }));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('invalid_user');
    expect(fields(res)).toEqual(['learner_id']);
  });

  it('refuses an instructor with a learner_id (422)', async () => {
    const res = await postUser(createBody('instructor', { learner_id: `s-${uniq()}` }));
    expect(res.statusCode).toBe(422);
    expect(fields(res)).toEqual(['learner_id']);
  });

  it('refuses an instructor without an email (422)', async () => {
    const res = await postUser(createBody('instructor', { email: null }));
    expect(res.statusCode).toBe(422);
    expect(fields(res)).toEqual(['email']);
  });

  it('refuses a second account with the same email, in any case (409)', async () => {
    const first = createBody('instructor');
    expect((await postUser(first)).statusCode).toBe(201);
    for (const email of [first.email, first.email.toUpperCase()]) {
      const res = await postUser(createBody('learner', { email }));
      expect(res.statusCode, email).toBe(409);
      expect(res.json().error.code).toBe('conflict');
      expect(fields(res)).toEqual(['email']);
    }
  });

  it('refuses a second account with the same learner_id (409)', async () => {
    const first = createBody('learner');
    expect((await postUser(first)).statusCode).toBe(201);
    const res = await postUser(createBody('learner', { learner_id: first.learner_id }));
    expect(res.statusCode).toBe(409);
    expect(fields(res)).toEqual(['learner_id']);
  });

  it('refuses a password under 10 characters (422, naming password) and stores nothing', async () => {
    const body = createBody('instructor', { password: 'short1234' });
    const res = await postUser(body);
    expect(res.statusCode).toBe(422);
    expect(fields(res)).toEqual(['password']);
    const list = await t.app.inject(`/api/v1/users?q=${encodeURIComponent(body.email)}`);
    expect(list.json().users).toEqual([]);
  });

  it('refuses a malformed email with 400', async () => {
    for (const email of ['not-an-email', 'a@', '@b.example']) {
      const res = await postUser(createBody('instructor', { email }));
      expect(res.statusCode, email).toBe(400);
      expect(res.json().error.code).toBe('validation_failed');
      expect(fields(res)).toContain('email');
    }
  });

  it('refuses an unknown role with 400', async () => {
    const res = await postUser(createBody('superuser'));
    expect(res.statusCode).toBe(400);
    expect(fields(res)).toContain('role');
  });

  it('does not let a client set a password hash directly', async () => {
    const chosen = 'a password i picked myself';
    const body = createBody('instructor', {
      password: undefined,
      password_hash: await hashPassword(chosen),
    });
    const res = await postUser(body);
    // an unknown field is dropped (the app's schema setting) or refused, never stored
    expect([201, 400]).toContain(res.statusCode);
    if (res.statusCode === 201) expect(res.json().can_sign_in).toBe(false);
    expect((await login(body.email, chosen)).statusCode).toBe(401);
  });

  it('never sends a password or its hash', async () => {
    const created = await postUser(createBody('learner'));
    const id = created.json().id as string;
    const responses = [
      created,
      await t.app.inject(`/api/v1/users/${id}`),
      await t.app.inject('/api/v1/users'),
      await patchUser(id, { password: 'another long passphrase' }),
    ];
    for (const res of responses) {
      expect(res.statusCode).toBeLessThan(300);
      expect(res.body).not.toMatch(/password|argon2|totp_secret/i);
    }
  });

  it('is for administrators only', async () => {
    const instructor = await signedIn(t, 'instructor');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: instructor.headers,
      payload: createBody('learner'),
    });
    expect(res.statusCode).toBe(403);
    const list = await t.app.inject({ url: '/api/v1/users', headers: instructor.headers });
    expect(list.statusCode).toBe(403);
  });
});

describe(`GET /api/v1/users (${DIALECT})`, () => {
  // A separate app: the list is checked whole, with no users from other tests in it.
  let t2: TestApp;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t2 = await createTestApp();
    const people: [string, Record<string, unknown>][] = [
      ['ada', { role: 'admin', email: 'ada@school.example', name: 'Ada Admin' }],
      ['ian', { role: 'instructor', email: 'ian@school.example', name: 'Ian Teacher' }],
      [
        'lou',
        { role: 'learner', email: 'lou@school.example', name: 'Lou Pupil', learner_id: 's1' },
      ],
      ['max', { role: 'learner', email: null, name: 'Max Pupil', learner_id: 's2' }],
      [
        'mia',
        { role: 'learner', email: 'mia_o@school.example', name: 'Mia O’Neil', learner_id: 's3' },
      ],
    ];
    for (const [key, body] of people) {
      const res = await t2.app.inject({ method: 'POST', url: '/api/v1/users', payload: body });
      expect(res.statusCode, res.body).toBe(201);
      ids[key] = res.json().id;
    }
    const off = await t2.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${ids.max}`,
      payload: { active: false },
    });
    expect(off.statusCode).toBe(200);
  });
  afterAll(() => t2?.close());

  const list = async (query: string) => {
    const res = await t2.app.inject(`/api/v1/users${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().users as { id: string }[]).map((u) => u.id);
  };

  it('lists everyone in order of creation', async () => {
    expect(await list('')).toEqual([ids.ada, ids.ian, ids.lou, ids.max, ids.mia]);
  });

  it('filters by role', async () => {
    expect(await list('?role=learner')).toEqual([ids.lou, ids.max, ids.mia]);
    expect(await list('?role=instructor')).toEqual([ids.ian]);
    expect((await t2.app.inject('/api/v1/users?role=owner')).statusCode).toBe(400);
  });

  it('filters by active', async () => {
    expect(await list('?active=false')).toEqual([ids.max]);
    expect(await list('?active=true&role=learner')).toEqual([ids.lou, ids.mia]);
  });

  it('searches names and emails without case, and learner ids exactly', async () => {
    expect(await list('?q=PUPIL')).toEqual([ids.lou, ids.max]);
    expect(await list('?q=o’neil')).toEqual([ids.mia]);
    expect(await list('?q=ian@school')).toEqual([ids.ian]);
    expect(await list('?q=s2')).toEqual([ids.max]);
    expect(await list('?q=nobody')).toEqual([]);
  });

  it('searches for an email with an underscore literally', async () => {
    expect(await list('?q=mia_o')).toEqual([ids.mia]);
    // "_" is not a wildcard: "lou" has no "u_" in it
    expect(await list('?q=u_')).toEqual([]);
    expect(await list('?q=%25')).toEqual([]);
  });

  it('pages with limit and offset', async () => {
    expect(await list('?limit=2')).toEqual([ids.ada, ids.ian]);
    expect(await list('?limit=2&offset=2')).toEqual([ids.lou, ids.max]);
    expect(await list('?limit=2&offset=4')).toEqual([ids.mia]);
    expect(await list('?offset=5')).toEqual([]);
    expect((await t2.app.inject('/api/v1/users?limit=0')).statusCode).toBe(400);
  });
});

describe(`GET /api/v1/users/{id} (${DIALECT})`, () => {
  it('answers 404 for an unknown user', async () => {
    const res = await t.app.inject('/api/v1/users/00000000-0000-7000-8000-000000000000');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });
});

describe(`PATCH /api/v1/users/{id} (${DIALECT})`, () => {
  it('changes the role, and the new role is what the person can do', async () => {
    const u = await createUser(t, 'instructor');
    const before = await signIn(t, u);
    const users = await t.app.inject({
      url: '/api/v1/users',
      headers: bearer(before.access_token),
    });
    expect(users.statusCode).toBe(403);

    const res = await patchUser(u.id, { role: 'admin' });
    expect(res.statusCode).toBe(200);
    expect(res.json().role).toBe('admin');
    expect((await t.app.inject(`/api/v1/users/${u.id}`)).json().role).toBe('admin');
    const after = await t.app.inject({
      url: '/api/v1/users',
      headers: bearer(before.access_token),
    });
    expect(after.statusCode).toBe(200);
  });

  it('turns a learner into an instructor only when the learner id goes too', async () => {
    const u = await createUser(t, 'learner');
    const bad = await patchUser(u.id, { role: 'instructor' });
    expect(bad.statusCode).toBe(422);
    expect(fields(bad)).toEqual(['learner_id']);
    const ok = await patchUser(u.id, { role: 'instructor', learner_id: null });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ role: 'instructor', learner_id: null });
  });

  it('takes a user out of their classes when the role changes: a learner made instructor teaches nothing yet', async () => {
    const cls = `role-change-${uniq()}`;
    const u = await createUser(t, 'learner');
    const put = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/classes/${cls}/members/${u.id}`,
    });
    expect(put.json().role).toBe('learner');
    expect((await patchUser(u.id, { role: 'instructor', learner_id: null })).statusCode).toBe(200);
    expect(await members(cls)).toEqual([]);
    const back = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/classes/${cls}/members/${u.id}`,
    });
    expect(back.json().role).toBe('instructor');
  });

  it('refuses an email another account has (409)', async () => {
    const a = await createUser(t, 'instructor');
    const b = await createUser(t, 'instructor');
    const res = await patchUser(b.id, { email: a.email.toUpperCase() });
    expect(res.statusCode).toBe(409);
    expect(fields(res)).toEqual(['email']);
    // keeping one's own email is not a clash
    expect((await patchUser(a.id, { email: a.email, name: 'Renamed' })).statusCode).toBe(200);
  });

  it('deactivates: the user can no longer sign in, and their token stops working', async () => {
    const u = await createUser(t, 'instructor');
    const tokens = await signIn(t, u);
    const res = await patchUser(u.id, { active: false });
    expect(res.statusCode).toBe(200);
    expect(res.json().active).toBe(false);

    const again = await login(u.email, u.password);
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe('invalid_credentials');
    const me = await t.app.inject({ url: '/api/v1/auth/me', headers: bearer(tokens.access_token) });
    expect(me.statusCode).toBe(401);
    expect(me.json().error.code).toBe('account_inactive');

    expect((await patchUser(u.id, { active: true })).json().active).toBe(true);
    expect((await login(u.email, u.password)).statusCode).toBe(200);
    // reactivating does not bring back the session the account had before
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('resets the password: the new one works, the old one does not', async () => {
    const u = await createUser(t, 'learner');
    const fresh = 'a brand new passphrase';
    const res = await patchUser(u.id, { password: fresh });
    expect(res.statusCode).toBe(200);
    expect((await login(u.email, u.password)).statusCode).toBe(401);
    expect((await login(u.email, fresh)).statusCode).toBe(200);
  });

  it('ends the sessions the user had when an administrator resets the password', async () => {
    const u = await createUser(t, 'instructor');
    const tokens = await signIn(t, u);
    expect((await patchUser(u.id, { password: 'a brand new passphrase' })).statusCode).toBe(200);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('refuses a reset to a password under 10 characters (422) and keeps the old one', async () => {
    const u = await createUser(t, 'instructor');
    const res = await patchUser(u.id, { password: 'too short' });
    expect(res.statusCode).toBe(422);
    expect(fields(res)).toEqual(['password']);
    expect((await login(u.email, u.password)).statusCode).toBe(200);
  });

  it('does not let an administrator demote or deactivate themselves (422)', async () => {
    for (const patch of [{ role: 'instructor' }, { role: 'learner', learner_id: 'me' }]) {
      const res = await patchUser(admin.user.id, patch, admin.headers);
      expect(res.statusCode, JSON.stringify(patch)).toBe(422);
      expect(res.json().error.message).toMatch(/cannot demote or deactivate/);
    }
    const off = await patchUser(admin.user.id, { active: false }, admin.headers);
    expect(off.statusCode).toBe(422);
    const me = await t.app.inject({
      url: `/api/v1/users/${admin.user.id}`,
      headers: admin.headers,
    });
    expect(me.json()).toMatchObject({ role: 'admin', active: true });
    // their own name they may change
    const renamed = await patchUser(admin.user.id, { name: 'Head Admin' }, admin.headers);
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe('Head Admin');
  });

  it('lets one administrator demote another', async () => {
    const other = await createUser(t, 'admin');
    const res = await patchUser(other.id, { role: 'instructor' }, admin.headers);
    expect(res.statusCode).toBe(200);
    expect(res.json().role).toBe('instructor');
  });

  it('answers 404 for an unknown user and 400 for an empty patch', async () => {
    const res = await patchUser('00000000-0000-7000-8000-000000000000', { name: 'x' });
    expect(res.statusCode).toBe(404);
    const u = await createUser(t, 'instructor');
    expect((await patchUser(u.id, {})).statusCode).toBe(400);
  });
});

describe(`class members (${DIALECT})`, () => {
  const put = (cls: string, id: string) =>
    t.app.inject({
      method: 'PUT',
      url: `/api/v1/classes/${encodeURIComponent(cls)}/members/${id}`,
    });
  const del = (cls: string, id: string) =>
    t.app.inject({
      method: 'DELETE',
      url: `/api/v1/classes/${encodeURIComponent(cls)}/members/${id}`,
    });

  it('adds a member once: created true, then false on a repeat', async () => {
    const cls = `math ${uniq()}`;
    const u = await createUser(t, 'learner');
    const first = await put(cls, u.id);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ class_id: cls, user_id: u.id, role: 'learner', created: true });
    const second = await put(cls, u.id);
    expect(second.statusCode).toBe(200);
    expect(second.json().created).toBe(false);
    expect(await members(cls)).toHaveLength(1);
  });

  it('refuses an administrator as a member (422) and an unknown user (404)', async () => {
    const cls = `c-${uniq()}`;
    const a = await createUser(t, 'admin');
    const res = await put(cls, a.id);
    expect(res.statusCode).toBe(422);
    expect(fields(res)).toEqual(['user_id']);
    const unknown = await put(cls, '00000000-0000-7000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(await members(cls)).toEqual([]);
  });

  it('lists members with role, name and learner_id', async () => {
    const cls = `c-${uniq()}`;
    const teacher = await createUser(t, 'instructor', { name: 'Tess Teacher' });
    const pupil = await createUser(t, 'learner', { name: 'Pat Pupil' });
    await put(cls, pupil.id);
    await put(cls, teacher.id);
    const list = await members(cls);
    expect(list).toEqual([
      expect.objectContaining({
        user_id: teacher.id,
        role: 'instructor',
        name: 'Tess Teacher',
        email: teacher.email,
        learner_id: null,
        active: true,
      }),
      expect.objectContaining({
        user_id: pupil.id,
        role: 'learner',
        name: 'Pat Pupil',
        learner_id: pupil.learner_id,
        active: true,
      }),
    ]);
  });

  it('gives an instructor the class once added, and takes it away when removed', async () => {
    const cls = `c-${uniq()}`;
    const teacher = await signedIn(t, 'instructor');
    const url = `/api/v1/classes/${cls}/members`;
    expect((await t.app.inject({ url, headers: teacher.headers })).statusCode).toBe(403);
    await put(cls, teacher.user.id);
    // classes are resolved when the token is used, so the same token now works
    expect((await t.app.inject({ url, headers: teacher.headers })).statusCode).toBe(200);
    expect((await del(cls, teacher.user.id)).statusCode).toBe(204);
    expect((await t.app.inject({ url, headers: teacher.headers })).statusCode).toBe(403);
  });

  it('removes a member: 204, then 404', async () => {
    const cls = `c-${uniq()}`;
    const u = await createUser(t, 'learner');
    await put(cls, u.id);
    const first = await del(cls, u.id);
    expect(first.statusCode).toBe(204);
    expect(first.body).toBe('');
    expect(await members(cls)).toEqual([]);
    const second = await del(cls, u.id);
    expect(second.statusCode).toBe(404);
    expect(second.json().error.code).toBe('not_found');
  });

  it('lets only administrators change membership', async () => {
    const cls = `c-${uniq()}`;
    const teacher = await signedIn(t, 'instructor', { classes: [cls] });
    const pupil = await createUser(t, 'learner');
    const res = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/classes/${cls}/members/${pupil.id}`,
      headers: teacher.headers,
    });
    expect(res.statusCode).toBe(403);
    expect((await members(cls)).map((m) => m.user_id)).toEqual([teacher.user.id]);
  });
});

describe(`POST /api/v1/rosters/import (${DIALECT})`, () => {
  const HEADER = 'class_id,student_id,email,name,role';

  type Report = {
    rows: number;
    users_created: number;
    users_updated: number;
    memberships_added: number;
    rejected: { line: number; errors: { field: string; message: string }[] }[];
  };
  const run = async (csv: string): Promise<Report> => {
    const res = await importRoster(csv);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Report;
  };
  const userByLearnerId = async (learnerId: string) => {
    const res = await t.app.inject(`/api/v1/users?q=${encodeURIComponent(learnerId)}`);
    const users = res.json().users as { learner_id: string | null; email: string | null }[];
    return users.find((u) => u.learner_id === learnerId);
  };

  it('creates learners, instructors and memberships, and a second run changes nothing', async () => {
    const u = uniq();
    const cls = `algebra-${u}`;
    const csv = [
      HEADER,
      `${cls},r1-${u},,Rita Row,learner`,
      `${cls},r2-${u},r2-${u}@school.example,Rob Row,learner`,
      `${cls},,teach-${u}@school.example,Tina Teach,instructor`,
      `geometry-${u},r1-${u},,Rita Row,learner`,
      '',
    ].join('\n');
    const first = await run(csv);
    expect(first).toEqual({
      rows: 4,
      users_created: 3,
      users_updated: 0,
      memberships_added: 4,
      rejected: [],
    });

    const list = await members(cls);
    expect(list.map((m) => [m.role, m.name, m.learner_id, m.email])).toEqual([
      ['instructor', 'Tina Teach', null, `teach-${u}@school.example`],
      ['learner', 'Rita Row', `r1-${u}`, null],
      ['learner', 'Rob Row', `r2-${u}`, `r2-${u}@school.example`],
    ]);
    expect((await members(`geometry-${u}`)).map((m) => m.learner_id)).toEqual([`r1-${u}`]);
    const rita = await userByLearnerId(`r1-${u}`);
    expect(rita).toMatchObject({ role: 'learner', can_sign_in: false });

    const second = await run(csv);
    expect(second).toEqual({
      rows: 4,
      users_created: 0,
      users_updated: 0,
      memberships_added: 0,
      rejected: [],
    });
    expect(await members(cls)).toEqual(list);
  });

  it('updates a changed name and email', async () => {
    const u = uniq();
    const cls = `c-${u}`;
    await run(`${HEADER}\n${cls},n1-${u},,Old Name,learner\n`);
    const report = await run(`${HEADER}\n${cls},n1-${u},n1-${u}@School.example,New Name,learner\n`);
    expect(report).toMatchObject({ users_created: 0, users_updated: 1, memberships_added: 0 });
    expect(await userByLearnerId(`n1-${u}`)).toMatchObject({
      name: 'New Name',
      email: `n1-${u}@school.example`,
    });
    expect((await members(cls)).map((m) => m.name)).toEqual(['New Name']);
  });

  it('enrols an existing account found by email', async () => {
    const teacher = await createUser(t, 'instructor');
    const cls = `c-${uniq()}`;
    const report = await run(`${HEADER}\n${cls},,${teacher.email.toUpperCase()},,instructor\n`);
    expect(report).toMatchObject({ users_created: 0, memberships_added: 1, rejected: [] });
    expect((await members(cls)).map((m) => m.user_id)).toEqual([teacher.id]);
  });

  it('reports bad rows by line and field, and stores the good ones', async () => {
    const u = uniq();
    const cls = `c-${u}`;
    const existingTeacher = await createUser(t, 'instructor');
    const csv = [
      HEADER, //                                                       line 1
      `${cls},g1-${u},,Good One,learner`, //                            line 2
      `,g2-${u},,No Class,learner`, //                                  line 3
      `${cls},,,No Student Id,learner`, //                              line 4
      `${cls},,,No Email,instructor`, //                                line 5
      `${cls},g5-${u},not-an-email,Bad Email,learner`, //               line 6
      `${cls},g6-${u},,Odd Role,principal`, //                          line 7
      `${cls},g7-${u},${existingTeacher.email},Clash,learner`, //       line 8
      `${cls},,admin-row-${u}@school.example,Admin,admin`, //           line 9
      `${cls},g9-${u},,Good Two,learner`, //                            line 10
    ].join('\n');
    const report = await run(csv);
    expect(report.rows).toBe(9);
    expect(report.users_created).toBe(2);
    expect(report.memberships_added).toBe(2);
    const byLine = Object.fromEntries(
      report.rejected.map((r) => [r.line, r.errors.map((e) => e.field)]),
    );
    expect(byLine).toEqual({
      3: ['class_id'],
      4: ['student_id'],
      5: ['email'],
      6: ['email'],
      7: ['role'],
      8: ['role'],
      9: ['role'],
    });
    expect(report.rejected.find((r) => r.line === 8)!.errors[0]!.message).toContain(
      existingTeacher.email,
    );
    expect((await members(cls)).map((m) => m.learner_id)).toEqual([`g1-${u}`, `g9-${u}`]);
    expect(await userByLearnerId(`g2-${u}`)).toBeUndefined();
    expect(await userByLearnerId(`g7-${u}`)).toBeUndefined();
  });

  it('takes the ids intake takes: 128 characters counted as characters, no U+0000', async () => {
    const u = uniq();
    // 128 emoji: 256 UTF-16 units, as an event's class_id and user_id may be.
    const wide = `${'\u{1F600}'.repeat(128 - u.length - 1)}-${u}`;
    const report = await run(
      [
        HEADER,
        `${wide},${wide},,Wide,learner`,
        `nul-${u},s\u0000${u},,Nul,learner`,
        `${'x'.repeat(129)},s-${u},,Long,learner`,
        '',
      ].join('\n'),
    );
    expect(report.rows).toBe(3);
    expect(report.memberships_added).toBe(1);
    expect(report.rejected).toEqual([
      {
        line: 3,
        errors: [{ field: 'student_id', message: 'must not contain the NUL character (U+0000)' }],
      },
      { line: 4, errors: [{ field: 'class_id', message: 'must be at most 128 characters' }] },
    ]);
    expect((await members(wide)).map((m) => m.learner_id)).toEqual([wide]);
  });

  it('rejects an email already used by another account without touching either', async () => {
    const u = uniq();
    const other = await createUser(t, 'learner');
    await run(`${HEADER}\nc-${u},e1-${u},,Eve,learner\n`);
    const report = await run(`${HEADER}\nc-${u},e1-${u},${other.email},Eve,learner\n`);
    expect(report.rejected).toEqual([
      { line: 2, errors: [expect.objectContaining({ field: 'email' })] },
    ]);
    expect((await userByLearnerId(`e1-${u}`))?.email ?? null).toBeNull();
  });

  it('counts lines as the file has them, blank lines included', async () => {
    const u = uniq();
    const csv = `${HEADER}\n\nc-${u},b1-${u},,Ok,learner\n\n,b2-${u},,No Class,learner\n`;
    const report = await run(csv);
    expect(report.rejected).toEqual([
      { line: 5, errors: [expect.objectContaining({ field: 'class_id' })] },
    ]);
  });

  it('reads quoted fields with commas, quotes and CRLF line ends', async () => {
    const u = uniq();
    const cls = `Period 1, Room "B"-${u}`;
    const csv =
      `${HEADER}\r\n` +
      `"Period 1, Room ""B""-${u}",q1-${u},,"Lovelace, Ada",learner\r\n` +
      `"Period 1, Room ""B""-${u}",,"q2-${u}@school.example","Hopper, Grace",instructor\r\n`;
    const report = await run(csv);
    expect(report).toMatchObject({ rows: 2, users_created: 2, memberships_added: 2, rejected: [] });
    expect((await members(cls)).map((m) => m.name)).toEqual(['Hopper, Grace', 'Lovelace, Ada']);
  });

  it('reads a file saved by a spreadsheet: byte order mark, charset in the content type', async () => {
    const u = uniq();
    const res = await importRoster(`\uFEFF${HEADER}\r\nc-${u},x1-${u},,Zoë Ødegaard,learner\r\n`, {
      'content-type': 'text/csv; charset=utf-8',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ users_created: 1, memberships_added: 1, rejected: [] });
    expect((await members(`c-${u}`)).map((m) => m.name)).toEqual(['Zoë Ødegaard']);
  });

  it('accepts columns in another order and header names in any case', async () => {
    const u = uniq();
    const report = await run(`Name,Role,Email,Student_ID,Class_ID\nZed,learner,,z-${u},c-${u}\n`);
    expect(report).toMatchObject({ users_created: 1, memberships_added: 1, rejected: [] });
    expect((await members(`c-${u}`)).map((m) => m.name)).toEqual(['Zed']);
  });

  it('refuses a file without the needed header columns (400) and stores nothing', async () => {
    const u = uniq();
    for (const csv of [
      `name,role\nNo Class,learner\n`,
      `student_id,email,name,role\nx-${u},,No Class,learner\n`,
      `class_id,name,role\nc-${u},No Ids,learner\n`,
      '',
    ]) {
      const res = await importRoster(csv);
      expect(res.statusCode, csv).toBe(400);
      expect(res.json().error.code).toBe('invalid_csv');
    }
    expect(await userByLearnerId(`x-${u}`)).toBeUndefined();
  });

  it('refuses a JSON body with 415', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rosters/import',
      payload: { csv: `${HEADER}\nc,s,,n,learner\n` },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });

  it('is for administrators only (403 for an instructor)', async () => {
    const u = uniq();
    const teacher = await signedIn(t, 'instructor', { classes: [`c-${u}`] });
    const res = await importRoster(`${HEADER}\nc-${u},i1-${u},,Sneaky,learner\n`, teacher.headers);
    expect(res.statusCode).toBe(403);
    expect(await userByLearnerId(`i1-${u}`)).toBeUndefined();
  });
});
