import type { TestApp } from './app.ts';

export const PASSWORD = 'a long enough passphrase';

export interface TestUser {
  id: string;
  email: string;
  role: 'admin' | 'instructor' | 'learner';
  learner_id: string | null;
  password: string;
}

let seq = 0;

/** Creates a user through the admin API (with the suite's full-scope key). */
export async function createUser(
  t: TestApp,
  role: TestUser['role'],
  opts: { email?: string; learner_id?: string; password?: string; name?: string } = {},
): Promise<TestUser> {
  const n = ++seq;
  const email = opts.email ?? `${role}${n}@school.example`;
  const password = opts.password ?? PASSWORD;
  const learner_id = role === 'learner' ? (opts.learner_id ?? `learner-${n}`) : null;
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/users',
    payload: { email, name: opts.name ?? `${role} ${n}`, password, role, learner_id },
  });
  if (res.statusCode !== 201) throw new Error(`createUser: ${res.statusCode} ${res.body}`);
  const u = res.json() as { id: string };
  return { id: u.id, email, role, learner_id, password };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

/** Signs in (password only) and returns the token pair; throws on anything else. */
export async function signIn(
  t: TestApp,
  user: { email: string; password: string },
): Promise<Tokens> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: user.email, password: user.password },
  });
  if (res.statusCode !== 200) throw new Error(`signIn: ${res.statusCode} ${res.body}`);
  return res.json() as Tokens;
}

/** Headers that authenticate as this access token (and not as the suite's key). */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Puts a user into a class through the admin API. */
export async function enrol(t: TestApp, classId: string, userId: string): Promise<void> {
  const res = await t.app.inject({
    method: 'PUT',
    url: `/api/v1/classes/${encodeURIComponent(classId)}/members/${userId}`,
  });
  if (res.statusCode !== 200) throw new Error(`enrol: ${res.statusCode} ${res.body}`);
}

/** A signed-in user in one step: created, optionally enrolled, and its access headers. */
export async function signedIn(
  t: TestApp,
  role: TestUser['role'],
  opts: { classes?: string[]; learner_id?: string; email?: string } = {},
) {
  const user = await createUser(t, role, opts);
  for (const c of opts.classes ?? []) await enrol(t, c, user.id);
  const tokens = await signIn(t, user);
  return { user, tokens, headers: bearer(tokens.access_token) };
}
