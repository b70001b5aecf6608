import type {
  ClassConcepts,
  ClassInfo,
  ClassMastery,
  EventPage,
  LearnerMastery,
  LearnerPulse,
  LoginAnswer,
  Me,
  Member,
  Range,
  Recommendations,
  TokenPair,
} from './types.ts';

/** An API failure: the status, the server's error code and its message (in words). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// The access token lives in memory only; the refresh token in sessionStorage, so that a reload
// keeps the session but other tabs and windows do not share it.
const REFRESH_KEY = 'learntwin.refresh_token';
let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const signedOutListeners = new Set<() => void>();

function readRefresh(): string | null {
  try {
    return sessionStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

export function hasSession(): boolean {
  return accessToken !== null || readRefresh() !== null;
}

export function storeTokens(pair: TokenPair): void {
  accessToken = pair.access_token;
  try {
    sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
  } catch {
    // Storage refused (private mode): the session lasts until the page is closed.
  }
}

export function clearTokens(): void {
  accessToken = null;
  try {
    sessionStorage.removeItem(REFRESH_KEY);
  } catch {
    // nothing stored
  }
}

/** Called when the session cannot be renewed: the app then goes to the sign-in page. */
export function onSignedOut(fn: () => void): () => void {
  signedOutListeners.add(fn);
  return () => signedOutListeners.delete(fn);
}

function endSession(): void {
  clearTokens();
  for (const fn of signedOutListeners) fn();
}

async function errorFrom(res: Response): Promise<ApiError> {
  const header = Number(res.headers.get('retry-after'));
  let code = `http_${res.status}`;
  let message = res.statusText || `The server answered ${res.status}`;
  let retryAfter = Number.isFinite(header) && header > 0 ? header : null;
  try {
    const body = (await res.json()) as {
      error?: { code?: string; message?: string; details?: { retry_after?: number } };
    };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    retryAfter ??= body.error?.details?.retry_after ?? null;
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, code, message, retryAfter);
}

async function send(path: string, init: RequestInit, token: string | null): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  try {
    return await fetch(path, { ...init, headers });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the server');
  }
}

/**
 * Trades the refresh token for a new pair. One at a time: the refresh token is used up by the
 * call, and sending it twice would end the session. Resolves true when renewed, false when the
 * session is over (no token, or the server refused it); rejects on a passing failure (network,
 * rate limit, server error), which leaves the session as it is.
 */
function refreshTokens(): Promise<boolean> {
  refreshing ??= (async () => {
    const token = readRefresh();
    if (!token) return false;
    const res = await send(
      '/api/v1/auth/refresh',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      },
      null,
    );
    if (res.ok) {
      storeTokens((await res.json()) as TokenPair);
      return true;
    }
    if (res.status === 401 || res.status === 400 || res.status === 422) return false;
    throw await errorFrom(res);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

const sessionEnded = () =>
  new ApiError(401, 'session_ended', 'Your session has ended; please sign in again');

async function renew(): Promise<void> {
  if (!(await refreshTokens())) {
    endSession();
    throw sessionEnded();
  }
}

/**
 * fetch() with the access token. On 401 token_expired the tokens are refreshed once and the
 * request repeated; when that fails, the session ends. Returns the Response, whatever its status.
 */
export async function authFetch(path: string, init: RequestInit = {}): Promise<Response> {
  if (refreshing) await refreshing.catch(() => undefined);
  if (!accessToken) await renew();
  const used = accessToken;
  let res = await send(path, init, used);
  if (res.status !== 401) return res;
  const err = await errorFrom(res.clone());
  if (err.code !== 'token_expired') {
    endSession();
    throw err;
  }
  // Another request may have refreshed meanwhile; only refresh if the token is still the old one.
  if (accessToken === used) await renew();
  res = await send(path, init, accessToken);
  if (res.status === 401) {
    endSession();
    throw await errorFrom(res);
  }
  return res;
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await authFetch(path, { signal });
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as T;
}

async function postPublic<T>(path: string, body: unknown): Promise<T> {
  const res = await send(
    path,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    null,
  );
  if (!res.ok) throw await errorFrom(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, `${v}`);
  const s = q.toString();
  return s ? `?${s}` : '';
}

const cls = (id: string) => `/api/v1/classes/${encodeURIComponent(id)}`;
const learner = (id: string) => `/api/v1/learners/${encodeURIComponent(id)}`;

export const api = {
  login: (email: string, password: string) =>
    postPublic<LoginAnswer>('/api/v1/auth/login', { email, password }),
  loginMfa: (mfa_token: string, code: string) =>
    postPublic<TokenPair>('/api/v1/auth/login/mfa', { mfa_token, code }),
  async logout(): Promise<void> {
    const token = readRefresh();
    clearTokens();
    if (token) await postPublic<void>('/api/v1/auth/logout', { refresh_token: token });
  },
  me: (signal?: AbortSignal) => getJson<Me>('/api/v1/auth/me', signal),

  classes: (signal?: AbortSignal) =>
    getJson<{ classes: ClassInfo[] }>('/api/v1/classes', signal).then((r) => r.classes),
  mastery: (
    classId: string,
    range: Range,
    extra: { by?: 'student'; bucket?: 'day' } = {},
    signal?: AbortSignal,
  ) => getJson<ClassMastery>(`${cls(classId)}/mastery${query({ ...range, ...extra })}`, signal),
  recommendations: (classId: string, range: Range, signal?: AbortSignal) =>
    getJson<Recommendations>(`${cls(classId)}/recommendations${query({ ...range })}`, signal),
  concepts: (classId: string, signal?: AbortSignal) =>
    getJson<ClassConcepts>(`${cls(classId)}/concepts/mastery`, signal),
  members: (classId: string, signal?: AbortSignal) =>
    getJson<{ members: Member[] }>(`${cls(classId)}/members`, signal).then((r) => r.members),

  learnerMastery: (userId: string, signal?: AbortSignal) =>
    getJson<LearnerMastery>(`${learner(userId)}/mastery`, signal),
  learnerEvents: (userId: string, cursor: string | null, signal?: AbortSignal) =>
    getJson<EventPage>(
      `${learner(userId)}/events${query({ order: 'desc', limit: 25, cursor: cursor ?? undefined })}`,
      signal,
    ),
  learnerPulse: (userId: string, range: Range, signal?: AbortSignal) =>
    getJson<LearnerPulse>(`${learner(userId)}/pulse${query({ ...range })}`, signal),

  /** The class export as a file: its content and the name the server suggests. */
  async exportCsv(classId: string, range: Range): Promise<{ blob: Blob; filename: string }> {
    const res = await authFetch(`${cls(classId)}/export${query({ ...range, format: 'csv' })}`, {
      headers: { accept: 'text/csv' },
    });
    if (!res.ok) throw await errorFrom(res);
    const filename = filenameFrom(res.headers.get('content-disposition')) ?? `${classId}.csv`;
    return { blob: await res.blob(), filename };
  },

  liveUrl: (classId: string) => `${cls(classId)}/live`,
  errorFrom,
};

/** The file name of a Content-Disposition header: filename* (RFC 5987) first, then filename. */
export function filenameFrom(header: string | null): string | null {
  if (!header) return null;
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (star?.[2]) {
    try {
      return decodeURIComponent(star[2].trim());
    } catch {
      // badly encoded: fall back to the plain name
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/i.exec(header);
  const name = (plain?.[1] ?? plain?.[2])?.trim();
  return name || null;
}
