import { SignJWT } from 'jose';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, type TestApp } from '../../helpers/app.ts';
import { bearer, PASSWORD, signedIn, type TestUser, type Tokens } from '../../helpers/auth.ts';

const SETUP = '/api/v1/auth/2fa/setup';
const ENABLE = '/api/v1/auth/2fa/enable';
const DISABLE = '/api/v1/auth/2fa/disable';
const LOGIN = '/api/v1/auth/login';
const LOGIN_MFA = '/api/v1/auth/login/mfa';
const ME = '/api/v1/auth/me';
const ANON = { 'x-api-key': undefined };
const BACKUP_CODE = /^[a-z2-9]{5}-[a-z2-9]{5}$/;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const post = (url: string, payload: unknown, headers: Record<string, string | undefined> = ANON) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The code an authenticator shows now, or `ahead` 30-second steps from now. */
const totp = (secret: string, ahead = 0) => generate({ secret, epoch: nowSeconds() + 30 * ahead });

/** A 6-digit code that is not the given one. */
const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

const me = async (headers: Record<string, string>) => {
  const res = await t.app.inject({ url: ME, headers });
  expect(res.statusCode).toBe(200);
  return res.json() as {
    user: { two_factor_enabled: boolean };
    backup_codes_left: number | null;
  };
};

const login = (u: { email: string; password: string }) =>
  post(LOGIN, { email: u.email, password: u.password });

/** The first sign-in step of an account with two-factor on: its mfa_token. */
async function mfaToken(u: { email: string; password: string }): Promise<string> {
  const res = await login(u);
  expect(res.statusCode).toBe(200);
  expect(res.json().mfa_required).toBe(true);
  return res.json().mfa_token as string;
}

/** A signed-in person with two-factor on; `secret` makes codes, `backupCodes` are theirs. */
async function withTwoFactor(role: TestUser['role'] = 'instructor') {
  const s = await signedIn(t, role);
  const setup = await post(SETUP, { password: PASSWORD }, s.headers);
  expect(setup.statusCode).toBe(200);
  const secret = setup.json().secret as string;
  const enable = await post(ENABLE, { code: await totp(secret) }, s.headers);
  expect(enable.statusCode).toBe(200);
  return { ...s, secret, backupCodes: enable.json().backup_codes as string[] };
}

describe(`two-factor setup and enabling (${DIALECT})`, () => {
  it('gives a secret, an otpauth URI naming Learntwin, and a PNG QR code', async () => {
    const { user, headers } = await signedIn(t, 'instructor', { email: 'ada.qr@school.example' });
    const res = await post(SETUP, { password: PASSWORD }, headers);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { secret: string; otpauth_uri: string; qr_code: string };
    expect(Object.keys(body).sort()).toEqual(['otpauth_uri', 'qr_code', 'secret']);
    expect(body.secret).toMatch(/^[A-Z2-7]{16,}=*$/);

    expect(body.otpauth_uri.startsWith('otpauth://totp/')).toBe(true);
    const uri = new URL(body.otpauth_uri);
    expect(uri.searchParams.get('issuer')).toBe('Learntwin');
    expect(uri.searchParams.get('secret')).toBe(body.secret);
    expect(decodeURIComponent(uri.pathname)).toContain(user.email);

    expect(body.qr_code).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    const png = Buffer.from(body.qr_code.slice('data:image/png;base64,'.length), 'base64');
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );

    // setting up alone does not turn it on
    expect((await me(headers)).user.two_factor_enabled).toBe(false);
    const one = await login(user);
    expect(one.json()).toHaveProperty('access_token');
  });

  it('gives a new secret each time setup is started', async () => {
    const { headers } = await signedIn(t, 'instructor');
    const a = (await post(SETUP, { password: PASSWORD }, headers)).json().secret;
    const b = (await post(SETUP, { password: PASSWORD }, headers)).json().secret;
    expect(a).not.toBe(b);
  });

  it('refuses a wrong code and stays off', async () => {
    const { user, headers } = await signedIn(t, 'instructor');
    const secret = (await post(SETUP, { password: PASSWORD }, headers)).json().secret as string;
    const wrong = otherCode(await totp(secret));
    for (const code of [wrong, 'abcdef', '12345']) {
      const res = await post(ENABLE, { code }, headers);
      expect(res.statusCode, code).toBe(401);
      expect(res.json().error.code).toBe('invalid_code');
    }
    // a code of another secret is wrong too
    const stranger = (
      await post(SETUP, { password: PASSWORD }, (await signedIn(t, 'learner')).headers)
    ).json().secret as string;
    expect((await post(ENABLE, { code: await totp(stranger) }, headers)).statusCode).toBe(401);

    const state = await me(headers);
    expect(state.user.two_factor_enabled).toBe(false);
    expect(state.backup_codes_left).toBeNull();
    expect((await login(user)).json()).toHaveProperty('access_token');
  });

  it('needs setup first', async () => {
    const { headers } = await signedIn(t, 'instructor');
    const res = await post(ENABLE, { code: '123456' }, headers);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('two_factor_not_set_up');
  });

  it('turns on with a valid code and gives 10 distinct backup codes', async () => {
    const { user, headers } = await signedIn(t, 'instructor');
    const secret = (await post(SETUP, { password: PASSWORD }, headers)).json().secret as string;
    const res = await post(ENABLE, { code: await totp(secret) }, headers);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { enabled: boolean; backup_codes: string[] };
    expect(body.enabled).toBe(true);
    expect(body.backup_codes).toHaveLength(10);
    expect(new Set(body.backup_codes).size).toBe(10);
    for (const c of body.backup_codes) expect(c).toMatch(BACKUP_CODE);

    const state = await me(headers);
    expect(state.user.two_factor_enabled).toBe(true);
    expect(state.backup_codes_left).toBe(10);
    const one = await login(user);
    expect(one.json()).not.toHaveProperty('access_token');
  });

  it('refuses setup and enabling again while it is on', async () => {
    const { user, headers, secret } = await withTwoFactor();
    const again = await post(SETUP, { password: PASSWORD }, headers);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('two_factor_enabled');
    const enable = await post(ENABLE, { code: await totp(secret, 1) }, headers);
    expect(enable.statusCode).toBe(409);
    // the secret was not replaced: its codes still sign in
    const token = await mfaToken(user);
    expect(
      (await post(LOGIN_MFA, { mfa_token: token, code: await totp(secret, 1) })).statusCode,
    ).toBe(200);
  });

  it('needs the account password to start setup: a stolen token alone is not enough', async () => {
    const { headers } = await signedIn(t, 'instructor');
    const wrong = await post(SETUP, { password: 'not the password at all' }, headers);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('invalid_credentials');
    const missing = await post(SETUP, {}, headers);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details[0].field).toBe('password');
  });

  it('is for people, not API keys', async () => {
    const calls: [string, object | undefined][] = [
      [SETUP, { password: PASSWORD }],
      [ENABLE, { code: '123456' }],
      [DISABLE, { password: PASSWORD, code: '123456' }],
    ];
    for (const [url, payload] of calls) {
      const res = await t.app.inject({ method: 'POST', url, payload }); // the suite's API key
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code).toBe('forbidden');
    }
  });

  it('refuses bad bodies with 400 naming the field', async () => {
    const { headers } = await signedIn(t, 'instructor');
    const cases: [string, unknown, string][] = [
      [ENABLE, {}, 'code'],
      [ENABLE, { code: { a: 1 } }, 'code'],
      [DISABLE, { code: '123456' }, 'password'],
      [DISABLE, { password: PASSWORD }, 'code'],
      [LOGIN_MFA, { code: '123456' }, 'mfa_token'],
    ];
    for (const [url, payload, field] of cases) {
      const res = await post(url, payload, url === LOGIN_MFA ? ANON : headers);
      expect(res.statusCode, `${url} ${field}`).toBe(400);
      const details = res.json().error.details as { field: string }[];
      expect(details.map((d) => d.field)).toContain(field);
    }
  });
});

describe(`signing in with two-factor (${DIALECT})`, () => {
  it('asks for a second step, then gives tokens for a valid code, once', async () => {
    const { user, secret } = await withTwoFactor();
    const first = await login(user);
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body).toEqual({ mfa_required: true, mfa_token: expect.any(String) });

    // the mfa token is no access token
    const asAccess = await t.app.inject({ url: ME, headers: bearer(body.mfa_token) });
    expect(asAccess.statusCode).toBe(401);

    // the enable step used up the current step: the next one is fresh
    const code = await totp(secret, 1);
    const res = await post(LOGIN_MFA, { mfa_token: body.mfa_token, code });
    expect(res.statusCode).toBe(200);
    const tokens = res.json() as Tokens;
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(900);
    const who = await t.app.inject({ url: ME, headers: bearer(tokens.access_token) });
    expect(who.json().user.id).toBe(user.id);

    // the same code again, even with a new first step, is a replay
    const replay = await post(LOGIN_MFA, { mfa_token: await mfaToken(user), code });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('invalid_code');
    expect(replay.json()).not.toHaveProperty('access_token');
  });

  it('refuses the code that turned two-factor on', async () => {
    const s = await signedIn(t, 'instructor');
    const secret = (await post(SETUP, { password: PASSWORD }, s.headers)).json().secret as string;
    const code = await totp(secret);
    expect((await post(ENABLE, { code }, s.headers)).statusCode).toBe(200);
    const res = await post(LOGIN_MFA, { mfa_token: await mfaToken(s.user), code });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_code');
  });

  it('refuses a wrong code', async () => {
    const { user, secret } = await withTwoFactor();
    const token = await mfaToken(user);
    const wrong = otherCode(await totp(secret, 1));
    const res = await post(LOGIN_MFA, { mfa_token: token, code: wrong });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_code');
    for (const code of ['not-a-code', '00000-00000']) {
      expect((await post(LOGIN_MFA, { mfa_token: token, code })).statusCode).toBe(401);
    }
  });

  it('takes each backup code once, typed in any case, with or without the dash', async () => {
    const { user, headers, backupCodes } = await withTwoFactor();
    const [a, b, c, d] = backupCodes as [string, string, string, string];
    expect((await me(headers)).backup_codes_left).toBe(10);

    const first = await post(LOGIN_MFA, { mfa_token: await mfaToken(user), code: a });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toHaveProperty('refresh_token');
    expect((await me(headers)).backup_codes_left).toBe(9);

    const again = await post(LOGIN_MFA, { mfa_token: await mfaToken(user), code: a });
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe('invalid_code');
    expect((await me(headers)).backup_codes_left).toBe(9);

    const variants = [
      b.toUpperCase(),
      c.replace('-', ''),
      ` ${d.toUpperCase().replace('-', ' ')} `,
    ];
    let left = 9;
    for (const code of variants) {
      const res = await post(LOGIN_MFA, { mfa_token: await mfaToken(user), code });
      expect(res.statusCode, code).toBe(200);
      expect((await me(headers)).backup_codes_left).toBe(--left);
    }
    // the uppercase one is used up as well
    const upperAgain = await post(LOGIN_MFA, {
      mfa_token: await mfaToken(user),
      code: b.replace('-', ''),
    });
    expect(upperAgain.statusCode).toBe(401);
  });

  it('accepts a code only once when sent twice at the same moment', async () => {
    const { user, secret, backupCodes } = await withTwoFactor();
    const code = await totp(secret, 1);
    const [t1, t2] = [await mfaToken(user), await mfaToken(user)];
    const totpResults = await Promise.all([
      post(LOGIN_MFA, { mfa_token: t1, code }),
      post(LOGIN_MFA, { mfa_token: t2, code }),
    ]);
    expect(totpResults.map((r) => r.statusCode).sort()).toEqual([200, 401]);

    const [t3, t4] = [await mfaToken(user), await mfaToken(user)];
    const backupResults = await Promise.all([
      post(LOGIN_MFA, { mfa_token: t3, code: backupCodes[0] }),
      post(LOGIN_MFA, { mfa_token: t4, code: backupCodes[0] }),
    ]);
    expect(backupResults.map((r) => r.statusCode).sort()).toEqual([200, 401]);
  });

  it("does not take another account's backup code", async () => {
    const alice = await withTwoFactor();
    const bob = await withTwoFactor();
    const res = await post(LOGIN_MFA, {
      mfa_token: await mfaToken(alice.user),
      code: bob.backupCodes[0],
    });
    expect(res.statusCode).toBe(401);
    expect((await me(bob.headers)).backup_codes_left).toBe(10);
  });

  it('refuses an expired, forged or garbage mfa_token', async () => {
    const { user, secret } = await withTwoFactor();
    const row = await t.database.db
      .selectFrom('auth_settings')
      .select('value')
      .where('key', '=', 'jwt_secret')
      .executeTakeFirstOrThrow();
    const key = new TextEncoder().encode(row.value);
    const mint = (typ: string, iat: number, exp: number) =>
      new SignJWT({ typ })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user.id)
        .setIssuer('learntwin')
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);
    const now = nowSeconds();
    const code = await totp(secret, 1);

    const expired = await post(LOGIN_MFA, {
      mfa_token: await mint('mfa', now - 6 * 60, now - 60),
      code,
    });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('token_expired');

    const access = await mint('access', now, now + 900);
    for (const mfa_token of ['garbage', 'a.b.c', access]) {
      const res = await post(LOGIN_MFA, { mfa_token, code });
      expect(res.statusCode, mfa_token).toBe(401);
      expect(res.json().error.code).toBe('invalid_token');
    }

    // none of these used the code up: with a genuine mfa token it still works
    const ok = await post(LOGIN_MFA, { mfa_token: await mint('mfa', now, now + 300), code });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses the second step for an account deactivated in between', async () => {
    const { user, secret } = await withTwoFactor();
    const token = await mfaToken(user);
    const off = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      payload: { active: false },
    });
    expect(off.statusCode).toBe(200);
    const res = await post(LOGIN_MFA, { mfa_token: token, code: await totp(secret, 1) });
    expect(res.statusCode).toBe(401);
    expect(res.json()).not.toHaveProperty('access_token');
  });
});

describe(`turning two-factor off (${DIALECT})`, () => {
  it('needs the password and a code; then sign-in is one step again', async () => {
    const { user, headers, secret, backupCodes } = await withTwoFactor();
    const code = await totp(secret, 1);

    const wrongPassword = await post(DISABLE, { password: 'not my password', code }, headers);
    expect(wrongPassword.statusCode).toBe(401);
    expect(wrongPassword.json().error.code).toBe('invalid_credentials');
    expect((await me(headers)).user.two_factor_enabled).toBe(true);

    const wrongCode = await post(DISABLE, { password: PASSWORD, code: otherCode(code) }, headers);
    expect(wrongCode.statusCode).toBe(401);
    expect((await me(headers)).user.two_factor_enabled).toBe(true);
    expect((await login(user)).json()).toEqual({
      mfa_required: true,
      mfa_token: expect.any(String),
    });

    // a mistyped password did not burn the code
    const res = await post(DISABLE, { password: PASSWORD, code }, headers);
    expect(res.statusCode).toBe(200);
    expect(res.json().enabled).toBe(false);

    const state = await me(headers);
    expect(state.user.two_factor_enabled).toBe(false);
    expect(state.backup_codes_left).toBeNull();
    const one = await login(user);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toHaveProperty('access_token');
    expect(one.json()).not.toHaveProperty('mfa_required');

    // off twice is a conflict
    const twice = await post(DISABLE, { password: PASSWORD, code: backupCodes[0] }, headers);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('two_factor_disabled');
  });

  it('takes a backup code instead of a TOTP code', async () => {
    const { user, headers, backupCodes } = await withTwoFactor();
    const res = await post(DISABLE, { password: PASSWORD, code: backupCodes[3] }, headers);
    expect(res.statusCode).toBe(200);
    expect((await login(user)).json()).toHaveProperty('access_token');
  });

  it('can be turned on again with a new secret; the old secret and codes are void', async () => {
    const { user, headers, secret, backupCodes } = await withTwoFactor();
    expect(
      (await post(DISABLE, { password: PASSWORD, code: backupCodes[0] }, headers)).statusCode,
    ).toBe(200);
    const fresh = (await post(SETUP, { password: PASSWORD }, headers)).json().secret as string;
    expect(fresh).not.toBe(secret);
    expect((await post(ENABLE, { code: await totp(secret, 1) }, headers)).statusCode).toBe(401);
    const on = await post(ENABLE, { code: await totp(fresh) }, headers);
    expect(on.statusCode).toBe(200);
    const newCodes = on.json().backup_codes as string[];
    expect(newCodes.some((c) => backupCodes.includes(c))).toBe(false);

    const old = await post(LOGIN_MFA, { mfa_token: await mfaToken(user), code: backupCodes[1] });
    expect(old.statusCode).toBe(401);
    const ok = await post(LOGIN_MFA, { mfa_token: await mfaToken(user), code: newCodes[0] });
    expect(ok.statusCode).toBe(200);
  });
});

describe(`a second step left pending (${DIALECT})`, () => {
  it('leads nowhere once two-factor was turned off in between', async () => {
    const { user, headers, backupCodes } = await withTwoFactor();
    const token = await mfaToken(user);
    const off = await post(DISABLE, { password: PASSWORD, code: backupCodes[0] }, headers);
    expect(off.statusCode).toBe(200);
    const res = await post(LOGIN_MFA, { mfa_token: token, code: backupCodes[1] });
    expect(res.statusCode).toBe(401);
    expect(res.json()).not.toHaveProperty('access_token');
  });
});
