import { ApiError } from './api.ts';

/** Any failure, told in words for people: never raw JSON or a stack trace. */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) {
    return 'Something went wrong in the page. Reload it and try again.';
  }
  switch (err.code) {
    case 'network':
      return 'Cannot reach the server. Check your connection and try again.';
    case 'invalid_credentials':
      return 'Wrong email or password.';
    case 'invalid_code':
      return 'That code is wrong, expired or already used. Try the current code from your app, or a backup code.';
    case 'account_inactive':
      return 'This account is not active. Ask an administrator.';
    case 'rate_limited':
      return err.retryAfter
        ? `Too many attempts. Try again in ${err.retryAfter} second${err.retryAfter === 1 ? '' : 's'}.`
        : 'Too many attempts. Wait a moment and try again.';
    case 'session_ended':
    case 'token_reused':
      return 'Your session has ended. Please sign in again.';
  }
  if (err.status === 429) return `Too many requests. Try again in ${err.retryAfter ?? 60} seconds.`;
  if (err.status === 403) return 'You do not have access to this. Ask an administrator.';
  if (err.status >= 500) {
    return `The server had a problem (${err.status}). Try again in a moment.`;
  }
  return err.message.endsWith('.') ? err.message : `${err.message}.`;
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiError && err.status === 404;
