import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, type TestApp } from '../../helpers/app.ts';
import {
  bearer,
  createUser,
  enrol,
  PASSWORD,
  signedIn,
  signIn,
  type Tokens,
} from '../../helpers/auth.ts';

const LOGIN = '/api/v1/auth/login';
const ME = '/api/v1/auth/me';
const REFRESH = '/api/v1/auth/refresh';
const LOGOUT = '/api/v1/auth/logout';
const PASSWORD_URL = '/api/v1/auth/password';
const SETUP = '/api/v1/auth/setup';

/** No credentials at all: not even the suite's default key. */
const ANON = { 'x-api-key': undefined };
const WRONG_CREDENTIALS = { code: 'invalid_credentials', message: 'Wrong email or password' };
const INSTRUCTOR_SCOPES = ['metrics:write', 'events:write', 'analytics:read', 'export:read'];

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const send = (url: string, payload: unknown, headers: Record<string, string | undefined> = ANON) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers });
const login = (email: string, password: string) => send(LOGIN, { email, password });
const refresh = (token: string) => send(REFRESH, { refresh_token: token });
const me = (token: string) => t.app.inject({ url: ME, headers: bearer(token) });

async function deactivate(app: TestApp, userId: string): Promise<void> {
  const res = await app.app.inject({
    method: 'PATCH',
    url: `/api/v1/users/${userId}`,
    payload: { active: false },
  });
  expect(res.statusCode).toBe(200);
  expect(res.json().active).toBe(false);
}

async function serverKey(app: TestApp): Promise<Uint8Array> {
  const row = await app.database.db
    .selectFrom('auth_settings')
    .select('value')
    .where('key', '=', 'jwt_secret')
    .executeTakeFirstOrThrow();
  return new TextEncoder().encode(row.value);
}

/** A JWT as the server would make it, but with the claims and times chosen here. */
async function forge(
  key: Uint8Array,
  claims: { typ: string; sub: string; iss?: string },
  iat: number,
  exp: number,
): Promise<string> {
  return new SignJWT({ typ: claims.typ })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer(claims.iss ?? 'learntwin')
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe(`POST /api/v1/auth/login (${DIALECT})`, () => {
  it('gives a bearer access token for 15 minutes and a refresh token', async () => {
    const u = await createUser(t, 'instructor');
    const res = await login(u.email, PASSWORD);
    expect(res.statusCode).toBe(200);
    const body = res.json() as Tokens;
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'token_type',
    ]);
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(900);
    expect(body.access_token.split('.')).toHaveLength(3);
    expect(body.refresh_token.length).toBeGreaterThanOrEqual(32);
    expect(body.refresh_token).not.toBe(body.access_token);
    const who = await me(body.access_token);
    expect(who.statusCode).toBe(200);
    expect(who.json().user.id).toBe(u.id);
  });

  it('refuses a wrong password, an unknown email and a deactivated account alike', async () => {
    const u = await createUser(t, 'instructor');
    const gone = await createUser(t, 'instructor');
    await deactivate(t, gone.id);

    const wrongPassword = await login(u.email, `${PASSWORD}!`);
    const unknownEmail = await login('nobody@school.example', PASSWORD);
    const deactivated = await login(gone.email, PASSWORD);
    const deactivatedWrong = await login(gone.email, 'not the password');
    for (const res of [wrongPassword, unknownEmail, deactivated, deactivatedWrong]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: WRONG_CREDENTIALS });
      expect(res.json()).not.toHaveProperty('access_token');
    }
    // the right password still works for the active account
    expect((await login(u.email, PASSWORD)).statusCode).toBe(200);
  });

  it('does not let an account without a password sign in', async () => {
    const email = 'no-password@school.example';
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email, name: 'No Password', role: 'instructor' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().can_sign_in).toBe(false);
    for (const password of [PASSWORD, 'null', 'x']) {
      const res = await login(email, password);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: WRONG_CREDENTIALS });
    }
  });

  it('takes the email in any case and with stray spaces', async () => {
    const u = await createUser(t, 'admin', { email: 'Grace.Hopper@School.example' });
    for (const email of ['grace.hopper@school.example', 'GRACE.HOPPER@SCHOOL.EXAMPLE', u.email]) {
      const res = await login(email, PASSWORD);
      expect(res.statusCode, email).toBe(200);
      expect((await me(res.json().access_token)).json().user.email).toBe(
        'grace.hopper@school.example',
      );
    }
    expect((await login('  grace.hopper@school.example ', PASSWORD)).statusCode).toBe(200);
  });

  it('treats the password as case-sensitive', async () => {
    const u = await createUser(t, 'learner');
    const res = await login(u.email, PASSWORD.toUpperCase());
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_credentials');
  });
});

describe(`GET /api/v1/auth/me (${DIALECT})`, () => {
  it('shows an instructor, their role, scopes and classes', async () => {
    const { user, headers } = await signedIn(t, 'instructor', { classes: ['me-b', 'me-a'] });
    const res = await t.app.inject({ url: ME, headers });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.type).toBe('user');
    expect(body.api_key).toBeNull();
    expect(body.user).toMatchObject({
      id: user.id,
      email: user.email,
      role: 'instructor',
      active: true,
      two_factor_enabled: false,
      can_sign_in: true,
    });
    expect(body.user).not.toHaveProperty('password_hash');
    expect(body.user).not.toHaveProperty('totp_secret');
    expect([...body.scopes].sort()).toEqual([...INSTRUCTOR_SCOPES].sort());
    expect(body.class_ids).toEqual(['me-a', 'me-b']);
    expect(body.backup_codes_left).toBeNull();
  });

  it('shows a learner without export or admin scopes, and an admin with every class', async () => {
    const learner = await signedIn(t, 'learner', { classes: ['me-c'] });
    const l = (await t.app.inject({ url: ME, headers: learner.headers })).json();
    expect(l.user.role).toBe('learner');
    expect(l.user.learner_id).toBe(learner.user.learner_id);
    expect([...l.scopes].sort()).toEqual(['analytics:read', 'events:write', 'metrics:write']);
    expect(l.class_ids).toEqual(['me-c']);

    const admin = await signedIn(t, 'admin');
    const a = (await t.app.inject({ url: ME, headers: admin.headers })).json();
    expect(a.user.role).toBe('admin');
    expect(a.scopes).toContain('admin');
    expect(a.class_ids).toBeNull();
  });

  it('reflects a class membership added after sign-in', async () => {
    const { user, headers } = await signedIn(t, 'instructor');
    expect((await t.app.inject({ url: ME, headers })).json().class_ids).toEqual([]);
    await enrol(t, 'me-late', user.id);
    expect((await t.app.inject({ url: ME, headers })).json().class_ids).toEqual(['me-late']);
  });

  it('names an API key as a key, not a person', async () => {
    const res = await t.app.inject({ url: ME });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ type: 'api_key', user: null, class_ids: null });
    expect(res.json().scopes).toContain('admin');
  });

  it('wants credentials', async () => {
    const res = await t.app.inject({ url: ME, headers: ANON });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthorized');
  });
});

describe(`access tokens (${DIALECT})`, () => {
  it('accepts a token signed with the server key and refuses it once expired', async () => {
    const u = await createUser(t, 'instructor');
    const key = await serverKey(t);
    const now = nowSeconds();

    // control: the same construction, current, is accepted (so the key is the right one)
    const fresh = await forge(key, { typ: 'access', sub: u.id }, now, now + 900);
    const ok = await me(fresh);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user.id).toBe(u.id);

    const iat = now - 16 * 60;
    const expired = await forge(key, { typ: 'access', sub: u.id }, iat, iat + 900);
    const res = await me(expired);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('token_expired');
  });

  it('refuses a token whose claims were changed after signing', async () => {
    const victim = await createUser(t, 'admin');
    const { tokens } = await signedIn(t, 'learner');
    const [header, payload, signature] = tokens.access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    expect(claims.typ).toBe('access');
    const changed = Buffer.from(JSON.stringify({ ...claims, sub: victim.id })).toString(
      'base64url',
    );
    const forged = `${header}.${changed}.${signature}`;
    const res = await me(forged);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_token');
    // and the genuine token still works
    expect((await me(tokens.access_token)).statusCode).toBe(200);
  });

  it('refuses a token signed with another key, an unsigned one and one of another issuer', async () => {
    const u = await createUser(t, 'admin');
    const now = nowSeconds();
    const otherKey = new TextEncoder().encode('y'.repeat(64));
    const wrongKey = await forge(otherKey, { typ: 'access', sub: u.id }, now, now + 900);
    const body = Buffer.from(
      JSON.stringify({ typ: 'access', sub: u.id, iss: 'learntwin', iat: now, exp: now + 900 }),
    ).toString('base64url');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    const otherIssuer = await forge(
      await serverKey(t),
      { typ: 'access', sub: u.id, iss: 'someone-else' },
      now,
      now + 900,
    );
    for (const token of [wrongKey, unsigned, otherIssuer]) {
      const res = await t.app.inject({ url: ME, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_token');
    }
  });

  it('does not accept an mfa-purpose token as an access token', async () => {
    const u = await createUser(t, 'admin');
    const now = nowSeconds();
    const mfa = await forge(await serverKey(t), { typ: 'mfa', sub: u.id }, now, now + 300);
    const res = await me(mfa);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_token');
    const write = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(mfa),
      payload: { email: 'sneaky@school.example', name: 'Sneaky', role: 'admin' },
    });
    expect(write.statusCode).toBe(401);
  });

  it('stops working when the account is deactivated', async () => {
    const { user, headers } = await signedIn(t, 'instructor');
    expect((await t.app.inject({ url: ME, headers })).statusCode).toBe(200);
    await deactivate(t, user.id);
    const res = await t.app.inject({ url: ME, headers });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('account_inactive');
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const { tokens } = await signedIn(t, 'instructor');
    for (const authorization of [`Token ${tokens.access_token}`, 'Bearer', 'Basic dXNlcjpwYXNz']) {
      const res = await t.app.inject({ url: ME, headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.headers['content-type']).toContain('application/json');
    }
  });
});

describe(`a configured JWT_SECRET (${DIALECT})`, () => {
  let c: TestApp;
  const SECRET = 'x'.repeat(40);
  beforeAll(async () => {
    c = await createTestApp({ JWT_SECRET: SECRET });
  });
  afterAll(() => c.close());

  it('signs the tokens that the server then accepts', async () => {
    const { user, headers } = await signedIn(c, 'instructor');
    const res = await c.app.inject({ url: ME, headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().user.id).toBe(user.id);

    // the configured secret is the key: a token made with it is accepted...
    const now = nowSeconds();
    const key = new TextEncoder().encode(SECRET);
    const own = await forge(key, { typ: 'access', sub: user.id }, now, now + 900);
    expect((await c.app.inject({ url: ME, headers: bearer(own) })).statusCode).toBe(200);
    // ...and no key was made up and stored instead
    const stored = await c.database.db
      .selectFrom('auth_settings')
      .select('value')
      .where('key', '=', 'jwt_secret')
      .executeTakeFirst();
    expect(stored).toBeUndefined();
    // and a token of the other server (with its own key) means nothing here
    const foreign = await signedIn(t, 'instructor');
    const res2 = await c.app.inject({ url: ME, headers: foreign.headers });
    expect(res2.statusCode).toBe(401);
    expect(res2.json().error.code).toBe('invalid_token');
  });
});

describe(`POST /api/v1/auth/refresh and /logout (${DIALECT})`, () => {
  it('rotates: new tokens, a different refresh token, both usable', async () => {
    const u = await createUser(t, 'instructor');
    const first = await signIn(t, u);
    const res = await refresh(first.refresh_token);
    expect(res.statusCode).toBe(200);
    const next = res.json() as Tokens;
    expect(next.token_type).toBe('bearer');
    expect(next.expires_in).toBe(900);
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect((await me(next.access_token)).json().user.id).toBe(u.id);
    const again = await refresh(next.refresh_token);
    expect(again.statusCode).toBe(200);
  });

  it('ends the whole sign-in when a used refresh token comes back', async () => {
    const u = await createUser(t, 'instructor');
    const a = await signIn(t, u);
    const other = await signIn(t, u); // another device: a separate sign-in
    const b = (await refresh(a.refresh_token)).json() as Tokens;
    const c = (await refresh(b.refresh_token)).json() as Tokens;

    const reuse = await refresh(a.refresh_token);
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().error.code).toBe('token_reused');

    // the newest token of that family is dead too
    const newest = await refresh(c.refresh_token);
    expect(newest.statusCode).toBe(401);
    expect(newest.json().error.code).toBe('invalid_token');
    expect((await refresh(b.refresh_token)).statusCode).toBe(401);

    // the other sign-in is untouched
    expect((await refresh(other.refresh_token)).statusCode).toBe(200);
  });

  it('ends the sign-in when one token is refreshed twice at once, whatever the interleaving', async () => {
    for (let round = 0; round < 5; round++) {
      const u = await createUser(t, 'instructor');
      const a = await signIn(t, u);
      const results = await Promise.all([refresh(a.refresh_token), refresh(a.refresh_token)]);
      const ok = results.filter((r) => r.statusCode === 200);
      const refused = results.filter((r) => r.statusCode === 401);
      // At most one gets new tokens, at least one is told of the reuse ...
      expect(ok.length).toBeLessThanOrEqual(1);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused[0]!.json().error.code).toBe('token_reused');
      // ... and whatever was handed out no longer works.
      for (const r of ok) expect((await refresh(r.json().refresh_token)).statusCode).toBe(401);
    }
  });

  it('refuses an unknown refresh token', async () => {
    for (const token of ['rt_nonsense', 'x'.repeat(100)]) {
      const res = await refresh(token);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_token');
    }
  });

  it('refuses an access token used as a refresh token', async () => {
    const { tokens } = await signedIn(t, 'instructor');
    const res = await refresh(tokens.access_token);
    expect(res.statusCode).toBe(401);
  });

  it('refuses an expired refresh token', async () => {
    const u = await createUser(t, 'instructor');
    const tokens = await signIn(t, u);
    await t.database.db
      .updateTable('refresh_tokens')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('user_id', '=', u.id)
      .execute();
    const res = await refresh(tokens.refresh_token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('token_expired');
  });

  it('gives no new tokens to a deactivated account', async () => {
    const u = await createUser(t, 'learner');
    const tokens = await signIn(t, u);
    await deactivate(t, u.id);
    const res = await refresh(tokens.refresh_token);
    expect(res.statusCode).toBe(401);
    expect(res.json()).not.toHaveProperty('access_token');
    expect(res.json().error.code).toMatch(/^(invalid_token|account_inactive)$/);
  });

  it('checks the account is active at refresh, even if its tokens were not revoked', async () => {
    const u = await createUser(t, 'learner');
    const tokens = await signIn(t, u);
    // deactivated behind the API's back (e.g. straight in the database)
    await t.database.db.updateTable('users').set({ active: 0 }).where('id', '=', u.id).execute();
    const res = await refresh(tokens.refresh_token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('account_inactive');
  });

  it('logs out: 204, and the refresh token no longer works', async () => {
    const u = await createUser(t, 'instructor');
    const a = await signIn(t, u);
    const b = (await refresh(a.refresh_token)).json() as Tokens;
    const out = await send(LOGOUT, { refresh_token: b.refresh_token });
    expect(out.statusCode).toBe(204);
    expect(out.body).toBe('');
    const res = await refresh(b.refresh_token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_token');
    // logging out again, or with a token nobody knows, reveals nothing
    expect((await send(LOGOUT, { refresh_token: b.refresh_token })).statusCode).toBe(204);
    expect((await send(LOGOUT, { refresh_token: 'rt_unknown' })).statusCode).toBe(204);
  });
});

describe(`POST /api/v1/auth/password (${DIALECT})`, () => {
  const NEW = 'a brand new passphrase';

  it('refuses a wrong current password, naming current_password, and changes nothing', async () => {
    const { user, headers } = await signedIn(t, 'instructor');
    const res = await send(
      PASSWORD_URL,
      { current_password: 'not it at all', new_password: NEW },
      headers,
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details).toEqual([
      { field: 'current_password', message: expect.any(String) },
    ]);
    expect((await login(user.email, PASSWORD)).statusCode).toBe(200);
    expect((await login(user.email, NEW)).statusCode).toBe(401);
  });

  it('refuses a new password under 10 characters, naming it', async () => {
    const { user, headers } = await signedIn(t, 'instructor');
    const res = await send(
      PASSWORD_URL,
      { current_password: PASSWORD, new_password: 'short' },
      headers,
    );
    expect(res.statusCode).toBe(422);
    const details = res.json().error.details as { field: string; message: string }[];
    expect(details).toHaveLength(1);
    expect(details[0]!.field).toBe('new_password');
    expect(details[0]!.message).toContain('10 characters');
    expect((await login(user.email, PASSWORD)).statusCode).toBe(200);
    expect((await login(user.email, 'short')).statusCode).toBe(401);
  });

  it('changes the password, ends earlier sessions, and gives this one new tokens', async () => {
    const { user, tokens, headers } = await signedIn(t, 'instructor');
    const elsewhere = await signIn(t, user);
    const res = await send(
      PASSWORD_URL,
      { current_password: PASSWORD, new_password: NEW },
      headers,
    );
    expect(res.statusCode).toBe(200);
    expect((await refresh(res.json().refresh_token)).statusCode).toBe(200);

    const old = await login(user.email, PASSWORD);
    expect(old.statusCode).toBe(401);
    expect(old.json().error.code).toBe('invalid_credentials');
    const fresh = await login(user.email, NEW);
    expect(fresh.statusCode).toBe(200);

    for (const r of [tokens.refresh_token, elsewhere.refresh_token]) {
      const again = await refresh(r);
      expect(again.statusCode).toBe(401);
      expect(again.json().error.code).toBe('invalid_token');
    }
    // the sign-in made with the new password is fine
    expect((await refresh(fresh.json().refresh_token)).statusCode).toBe(200);
  });

  it('needs a signed-in person: an API key is refused', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: PASSWORD_URL,
      payload: { current_password: PASSWORD, new_password: NEW },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden');
    const none = await send(PASSWORD_URL, { current_password: PASSWORD, new_password: NEW });
    expect(none.statusCode).toBe(401);
  });
});

describe(`first-run setup (${DIALECT})`, () => {
  let s: TestApp;
  beforeAll(async () => {
    s = await createTestApp();
  });
  afterAll(() => s.close());

  const status = async () =>
    (await s.app.inject({ url: SETUP, headers: ANON })).json().setup_needed as boolean;
  const setup = (payload: Record<string, unknown>) =>
    s.app.inject({ method: 'POST', url: SETUP, payload, headers: ANON });
  const admin = { email: 'First.Admin@School.example', name: 'First Admin', password: PASSWORD };

  it('is needed on a database without users, and refuses a wrong token', async () => {
    const res = await s.app.inject({ url: SETUP, headers: ANON });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ setup_needed: true });

    const wrong = await setup({ ...admin, setup_token: 'not-the-token' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('invalid_setup_token');
    expect(await status()).toBe(true);
    expect((await login(admin.email, PASSWORD)).statusCode).toBe(401);
  });

  it('refuses a short password and stays open', async () => {
    const res = await setup({
      ...admin,
      password: 'short',
      setup_token: s.app.services.auth.setupToken,
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details[0].field).toBe('password');
    expect(await status()).toBe(true);
  });

  it('creates the first administrator with the setup token, once', async () => {
    const res = await setup({ ...admin, setup_token: s.app.services.auth.setupToken });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      email: 'first.admin@school.example',
      name: 'First Admin',
      role: 'admin',
      active: true,
    });
    expect(await status()).toBe(false);

    const signin = await s.app.inject({
      method: 'POST',
      url: LOGIN,
      headers: ANON,
      payload: { email: admin.email, password: PASSWORD },
    });
    expect(signin.statusCode).toBe(200);
    const who = await s.app.inject({ url: ME, headers: bearer(signin.json().access_token) });
    expect(who.json().user.role).toBe('admin');
    expect(who.json().scopes).toContain('admin');

    const again = await setup({
      email: 'second@school.example',
      password: PASSWORD,
      setup_token: s.app.services.auth.setupToken,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('already_set_up');
    const users = await s.app.inject({ url: '/api/v1/users' });
    expect(users.json().users).toHaveLength(1);
  });
});

describe(`first-run setup sent twice at once (${DIALECT})`, () => {
  let s: TestApp;
  beforeAll(async () => {
    s = await createTestApp();
  });
  afterAll(() => s.close());

  it('creates one administrator, not two', async () => {
    const token = s.app.services.auth.setupToken;
    const results = await Promise.all(
      ['one@school.example', 'two@school.example'].map((email) =>
        s.app.inject({
          method: 'POST',
          url: SETUP,
          headers: ANON,
          payload: { setup_token: token, email, password: PASSWORD },
        }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const users = await s.app.inject({ url: '/api/v1/users' });
    expect(users.json().users).toHaveLength(1);
  });
});

describe(`bad request bodies (${DIALECT})`, () => {
  const fields = (res: { json(): unknown }) =>
    (res.json() as { error: { details: { field: string }[] } }).error.details.map((d) => d.field);

  const cases: [string, string, unknown, string][] = [
    ['login: missing password', LOGIN, { email: 'a@b.example' }, 'password'],
    ['login: missing email', LOGIN, { password: PASSWORD }, 'email'],
    ['login: extra field', LOGIN, { email: 'a@b.example', password: PASSWORD, role: 'x' }, 'role'],
    ['login: object email', LOGIN, { email: { $ne: null }, password: PASSWORD }, 'email'],
    ['login: object password', LOGIN, { email: 'a@b.example', password: { a: 1 } }, 'password'],
    ['login: empty password', LOGIN, { email: 'a@b.example', password: '' }, 'password'],
    ['login mfa: missing code', '/api/v1/auth/login/mfa', { mfa_token: 'x.y.z' }, 'code'],
    ['refresh: missing token', REFRESH, {}, 'refresh_token'],
    ['refresh: object token', REFRESH, { refresh_token: { a: 1 } }, 'refresh_token'],
    ['logout: missing token', LOGOUT, {}, 'refresh_token'],
    ['logout: extra field', LOGOUT, { refresh_token: 'rt_x', everywhere: true }, 'everywhere'],
    ['setup: missing email', SETUP, { setup_token: 'x', password: PASSWORD }, 'email'],
    [
      'setup: not an email',
      SETUP,
      { setup_token: 'x', email: 'not an email', password: PASSWORD },
      'email',
    ],
  ];

  it.each(cases)('%s → 400 naming the field', async (_name, url, payload, field) => {
    const res = await send(url, payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/json');
    const error = res.json().error;
    expect(error.code).toBe('validation_failed');
    expect(fields(res)).toContain(field);
    expect(error.message).toContain(field);
  });

  it('password change: missing, extra and wrong-typed fields → 400 naming them', async () => {
    const { user, headers } = await signedIn(t, 'instructor');
    const bodies: [unknown, string][] = [
      [{ current_password: PASSWORD }, 'new_password'],
      [{ new_password: 'long enough new one' }, 'current_password'],
      [{ current_password: PASSWORD, new_password: 'long enough new one', x: 1 }, 'x'],
      [{ current_password: PASSWORD, new_password: { a: 1 } }, 'new_password'],
    ];
    for (const [payload, field] of bodies) {
      const res = await send(PASSWORD_URL, payload, headers);
      expect(res.statusCode, field).toBe(400);
      expect(fields(res)).toContain(field);
    }
    expect((await login(user.email, PASSWORD)).statusCode).toBe(200);
  });

  it('refuses a body that is not JSON or is missing, with a JSON error', async () => {
    const broken = await t.app.inject({
      method: 'POST',
      url: LOGIN,
      headers: { ...ANON, 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('invalid_json');
    const missing = await t.app.inject({ method: 'POST', url: REFRESH, headers: ANON });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toMatch(/invalid_json|validation_failed/);
  });

  // Scalars of the wrong type. KNOWN BUG (src/app.ts, not auth): Fastify's default Ajv option
  // coerceTypes: 'array' turns numbers and booleans into strings, so these bodies are served
  // instead of refused. They never give a 500 (checked below); drop `.fails` once the body
  // validator stops coercing.
  const strictCases: [string, string, unknown, string][] = [
    ['login: number email', LOGIN, { email: 123, password: PASSWORD }, 'email'],
    ['login: boolean password', LOGIN, { email: 'a@b.example', password: true }, 'password'],
    ['refresh: number token', REFRESH, { refresh_token: 42 }, 'refresh_token'],
  ];

  it.each(strictCases)('%s never gives a 500', async (_name, url, payload) => {
    const res = await send(url, payload);
    expect(res.statusCode).toBeLessThan(500);
    if (res.statusCode >= 400) expect(res.json().error.code).toEqual(expect.any(String));
  });

  it.each(strictCases)('%s → 400 naming the field', async (_name, url, payload, field) => {
    const res = await send(url, payload);
    expect(res.statusCode).toBe(400);
    expect(fields(res)).toContain(field);
  });
});
