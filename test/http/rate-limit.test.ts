import { randomUUID } from 'node:crypto';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, TEST_KEY, type TestApp } from '../helpers/app.ts';
import { bearer, createUser, PASSWORD } from '../helpers/auth.ts';

const TEST_REDIS_URL = process.env.TEST_REDIS_URL || undefined;

type Inject = { statusCode: number; headers: Record<string, unknown>; json(): unknown };

/** a client address of its own for every use, so that only the counter under test fills up */
let lastOctets = 0;
const freshAddress = () => {
  lastOctets++;
  return `10.${(lastOctets >> 8) & 255}.${lastOctets & 255}.${Math.floor(Math.random() * 250) + 1}`;
};

const login = (t: TestApp, email: string, password: string, remoteAddress = freshAddress()) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    remoteAddress,
  });

/** A 429 as a client sees it: Retry-After in whole seconds and a JSON error. */
function expectLimited(res: Inject) {
  expect(res.statusCode).toBe(429);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  const body = res.json() as { error: { code: string; message: string; details: unknown } };
  expect(body.error.code).toBe('rate_limited');
  expect(body.error.message).toMatch(/try again in \d+ s/);
  expect(body.error.details).toEqual({ retry_after: retryAfter });
}

describe(`sign-in limits, RATE_LIMIT_AUTH_PER_MINUTE=10 (${DIALECT})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_AUTH_PER_MINUTE: '10' });
  });
  afterAll(() => t?.close());

  it('refuses the 11th attempt for one email within a minute, from any address', async () => {
    const u = await createUser(t, 'instructor');
    for (let i = 1; i <= 10; i++) {
      const res = await login(t, u.email, `wrong password ${i}`);
      expect(res.statusCode, `attempt ${i}`).toBe(401);
    }
    const eleventh = await login(t, u.email, 'wrong password 11');
    expectLimited(eleventh);
    // the right password does not get through either: guessing has stopped, not just failed
    expectLimited(await login(t, u.email, u.password));
    // the email counts in any case and with spaces around it
    expectLimited(await login(t, ` ${u.email.toUpperCase()} `, u.password));
    // another account is not held up
    const other = await createUser(t, 'instructor');
    expect((await login(t, other.email, other.password)).statusCode).toBe(200);
  });

  it('refuses the 11th sign-in from one address, whatever the emails', async () => {
    const address = freshAddress();
    for (let i = 1; i <= 10; i++) {
      const res = await login(
        t,
        `guess${i}-${randomUUID()}@school.example`,
        'some password',
        address,
      );
      expect(res.statusCode, `attempt ${i}`).toBe(401);
    }
    const u = await createUser(t, 'instructor');
    expectLimited(await login(t, u.email, u.password, address));
    expect((await login(t, u.email, u.password)).statusCode).toBe(200);
  });

  it('ends a brute force on the second factor (POST /auth/login/mfa) with 429', async () => {
    const u = await createUser(t, 'instructor');
    const first = await login(t, u.email, u.password);
    expect(first.statusCode).toBe(200);
    const h = bearer((first.json() as { access_token: string }).access_token);
    const setup = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/setup',
      payload: { password: u.password },
      headers: h,
      remoteAddress: freshAddress(),
    });
    expect(setup.statusCode).toBe(200);
    const secret = (setup.json() as { secret: string }).secret;
    const enable = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/enable',
      headers: h,
      payload: { code: await generate({ secret }) },
      remoteAddress: freshAddress(),
    });
    expect(enable.statusCode, enable.body).toBe(200);

    const step = await login(t, u.email, u.password);
    expect(step.json()).toMatchObject({ mfa_required: true });
    const mfaToken = (step.json() as { mfa_token: string }).mfa_token;

    // codes that are surely wrong: none of those valid around now
    const now = Math.floor(Date.now() / 1000);
    const valid = new Set(
      await Promise.all([-60, -30, 0, 30, 60].map((d) => generate({ secret, epoch: now + d }))),
    );
    const wrong = Array.from({ length: 20 }, (_, i) => String(100000 + i * 7919)).filter(
      (c) => !valid.has(c),
    );
    const attacker = freshAddress();
    const mfa = (code: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login/mfa',
        payload: { mfa_token: mfaToken, code },
        remoteAddress: attacker,
      });
    for (let i = 0; i < 10; i++) {
      const res = await mfa(wrong[i]!);
      expect(res.statusCode, `guess ${i + 1}`).toBe(401);
      expect((res.json() as { error: { code: string } }).error.code).toBe('invalid_code');
    }
    expectLimited(await mfa(wrong[10]!));
    // even the right code is refused from there until the window passes
    expectLimited(await mfa(await generate({ secret })));
  });

  it('limits password changes per person, across addresses', async () => {
    const u = await createUser(t, 'learner');
    const tokens = (await login(t, u.email, u.password)).json() as { access_token: string };
    const change = (current: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: bearer(tokens.access_token),
        payload: { current_password: current, new_password: 'a different passphrase' },
        remoteAddress: freshAddress(),
      });
    for (let i = 1; i <= 10; i++) {
      expect((await change(`wrong guess ${i}`)).statusCode, `attempt ${i}`).toBe(422);
    }
    expectLimited(await change(PASSWORD));
    // the password was not changed by the refused attempt
    expect((await login(t, u.email, PASSWORD)).statusCode).toBe(200);
  });

  it('keeps counters per app when there is no Redis: another server starts afresh', async () => {
    const other = await createTestApp({ RATE_LIMIT_AUTH_PER_MINUTE: '10' });
    try {
      const email = `shared-${randomUUID()}@school.example`;
      for (let i = 0; i < 10; i++)
        expect((await login(t, email, 'wrong one')).statusCode).toBe(401);
      expectLimited(await login(t, email, 'wrong one'));
      expect((await login(other, email, 'wrong one')).statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe(`request limits, RATE_LIMIT_PER_MINUTE=5 (${DIALECT})`, () => {
  let t: TestApp;
  /** makes API keys through the service, so that setting up spends no request budget */
  const newKey = async (name: string) => {
    const principal = await t.app.services.apiKeys.resolve(TEST_KEY);
    const k = await t.app.services.apiKeys.create(
      { name, scopes: ['analytics:read'] },
      { principal, ip: null },
    );
    return { 'x-api-key': k.key };
  };
  const classes = (headers: Record<string, string>, remoteAddress = freshAddress()) =>
    t.app.inject({ url: '/api/v1/classes', headers, remoteAddress });

  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(() => t?.close());

  it("refuses a principal's 6th data request within a minute, from any address", async () => {
    const key = await newKey('busy');
    for (let i = 1; i <= 5; i++) expect((await classes(key)).statusCode, `request ${i}`).toBe(200);
    expectLimited(await classes(key));
    // another key is counted on its own
    expect((await classes(await newKey('calm'))).statusCode).toBe(200);
  });

  it('counts a signed-in person as a principal of their own', async () => {
    const u = await createUser(t, 'admin');
    const tokens = (await login(t, u.email, u.password)).json() as { access_token: string };
    for (let i = 1; i <= 5; i++) {
      expect((await classes(bearer(tokens.access_token))).statusCode, `request ${i}`).toBe(200);
    }
    expectLimited(await classes(bearer(tokens.access_token)));
  });

  it('counts an address on its own, whoever asks from it', async () => {
    const address = freshAddress();
    for (let i = 1; i <= 5; i++) {
      const res = await classes(await newKey(`k${i}`), address);
      expect(res.statusCode, `request ${i}`).toBe(200);
    }
    const fresh = await newKey('fresh');
    expectLimited(await classes(fresh, address));
    // the same key from elsewhere is fine: it has used nothing
    expect((await classes(fresh)).statusCode).toBe(200);
  });

  it('counts requests with bad credentials against the address, before authentication', async () => {
    const address = freshAddress();
    for (let i = 1; i <= 5; i++) {
      const res = await classes({ 'x-api-key': `lt_not-a-key-${i}` }, address);
      expect(res.statusCode, `request ${i}`).toBe(401);
    }
    expectLimited(await classes({ 'x-api-key': 'lt_not-a-key-6' }, address));
  });

  it('never limits /health', async () => {
    const address = freshAddress();
    for (let i = 1; i <= 20; i++) {
      const res = await t.app.inject({ url: '/health', remoteAddress: address });
      expect(res.statusCode, `request ${i}`).toBe(200);
    }
    // while that address is still free to use its budget elsewhere
    expect((await classes(await newKey('after health'), address)).statusCode).toBe(200);
  });
});

if (!TEST_REDIS_URL) {
  console.log('rate-limit.test.ts: Redis tests skipped: no Redis at TEST_REDIS_URL');
}

describe.skipIf(!TEST_REDIS_URL)(
  `shared counters in Redis (${TEST_REDIS_URL ?? 'skipped: no Redis at TEST_REDIS_URL'})`,
  () => {
    let a: TestApp;
    let b: TestApp;

    /** Waits for an app's Redis connection: until then it limits on its own, by design. */
    async function connected(t: TestApp) {
      const limits = t.app.services.limits as unknown as { redis?: { status: string } };
      expect(limits.redis, 'the app uses Redis').toBeDefined();
      for (let i = 0; i < 100 && limits.redis!.status !== 'ready'; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(limits.redis!.status).toBe('ready');
    }

    beforeAll(async () => {
      const env = { RATE_LIMIT_AUTH_PER_MINUTE: '10', REDIS_URL: TEST_REDIS_URL! };
      a = await createTestApp(env);
      b = await createTestApp(env);
      await connected(a);
      await connected(b);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('counts sign-in attempts for one email on every server', async () => {
      // a new email every run: the counters outlive the apps by up to a minute
      const email = `redis-${randomUUID()}@school.example`;
      for (let i = 1; i <= 10; i++) {
        const app = i % 2 ? a : b;
        expect((await login(app, email, 'wrong password')).statusCode, `attempt ${i}`).toBe(401);
      }
      expectLimited(await login(a, email, 'wrong password'));
      expectLimited(await login(b, email, 'wrong password'));
    });

    it('counts attempts from one address on every server', async () => {
      const address = `10.250.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      for (let i = 1; i <= 10; i++) {
        const app = i <= 5 ? a : b;
        const res = await login(app, `r${i}-${randomUUID()}@school.example`, 'pw wrong', address);
        expect(res.statusCode, `attempt ${i}`).toBe(401);
      }
      expectLimited(await login(b, `last-${randomUUID()}@school.example`, 'pw wrong', address));
    });
  },
);
