/**
 * Errors that say the database cannot take a write now, whatever was written: SQLite's write
 * lock held by another process longer than the busy timeout, or PostgreSQL refusing or losing
 * connections. Nothing of the failed transaction was stored; the same request can be retried.
 */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED)/;
const PG_UNAVAILABLE = new Set([
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  'ECONNREFUSED',
  'ECONNRESET',
]);

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (SQLITE_UNAVAILABLE.test(code) || PG_UNAVAILABLE.has(code))) {
    return true;
  }
  // pg's pool, when no connection frees up in time.
  return err.message.startsWith('timeout exceeded when trying to connect');
}
