// Numbers and dates for people. All dates are UTC, as the API counts them.

const DAY_MS = 86_400_000;

export const pct = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : `${Math.round(v * 100)}%`;

export const num = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined ? '—' : v.toFixed(digits);

export const count = (v: number): string => v.toLocaleString('en-GB');

/** Today's date in UTC, YYYY-MM-DD. */
export const todayUtc = (): string => new Date().toISOString().slice(0, 10);

/** A YYYY-MM-DD day moved by `n` days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});
const dateOnly = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  timeZone: 'UTC',
});
const shortDay = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  timeZone: 'UTC',
});

export const formatDateTime = (iso: string): string => `${dateTime.format(new Date(iso))} UTC`;
export const formatDay = (day: string): string => dateOnly.format(new Date(`${day}T00:00:00Z`));
export const formatShortDay = (day: string): string =>
  shortDay.format(new Date(`${day}T00:00:00Z`));

const relative = new Intl.RelativeTimeFormat('en-GB', { numeric: 'auto' });

/** "3 hours ago", "yesterday", "5 days ago". */
export function timeAgo(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 30 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  if (abs < 365 * 86_400) return relative.format(Math.round(seconds / (30 * 86_400)), 'month');
  return relative.format(Math.round(seconds / (365 * 86_400)), 'year');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}
