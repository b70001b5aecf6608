/**
 * Timestamps and time windows. Every instant is stored as ISO-8601 UTC text with milliseconds
 * (`2026-01-05T09:30:00.000Z`), so that text order is time order and the first ten characters
 * are the UTC day, identically on SQLite and PostgreSQL.
 *
 * The parser is strict and hand-written on purpose: it runs once per ingested record (hundreds
 * of thousands a second), and the accepted forms are exactly those the API documents.
 */

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

const MIN_MS = Date.UTC(1970, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export interface ParsedInstant {
  ms: number;
  /** true when the input was a bare date (YYYY-MM-DD) */
  dateOnly: boolean;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);

/**
 * The stored form itself (`2026-01-05T09:30:00.000Z`) is what most clients send; checking it
 * field by field is several times cheaper than building a Date and formatting it back.
 */
export function canonicalInstant(s: string): string | undefined {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 /* Z */) return undefined;
  for (let i = 0; i < 23; i++) {
    const c = s.charCodeAt(i);
    const sep =
      i === 4 || i === 7 ? 45 : i === 10 ? 84 : i === 13 || i === 16 ? 58 : i === 19 ? 46 : 0;
    if (sep ? c !== sep : c < 48 || c > 57) return undefined;
  }
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!)
    return undefined;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) {
    return undefined;
  }
  if (two(s, 11) > 23 || two(s, 14) > 59 || two(s, 17) > 59) return undefined;
  return s;
}

/** Parses ISO-8601; no zone means UTC. Returns undefined for anything malformed or impossible. */
export function parseInstant(input: string): ParsedInstant | undefined {
  const m = ISO_RE.exec(input);
  if (!m) return undefined;
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  const dateOnly = m[4] === undefined;
  const hour = dateOnly ? 0 : +m[4]!;
  const minute = dateOnly ? 0 : +m[5]!;
  const second = m[6] === undefined ? 0 : +m[6];
  const ms = m[7] === undefined ? 0 : Math.floor(+`0.${m[7]}` * 1000);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const base = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 30 February over into March; reject instead.
  const check = new Date(base);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = +m[10]!;
    const om = +m[11]!;
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const result = base - offsetMin * 60_000;
  if (result < MIN_MS || result > MAX_MS) return undefined;
  return { ms: result, dateOnly };
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export const DAY_MS = 86_400_000;

/**
 * How far past the server's clock an instant sent to intake may lie. A device's clock that is
 * a day fast is wrong, and its events would stand after every true one in each learner's
 * sequence, as the newest, until that day came.
 */
const MAX_AHEAD_MS = DAY_MS;
let aheadOf = '';
let aheadLimit = '';

/** The latest instant intake takes at server time `nowIso` (both in the stored form). */
function latestAccepted(nowIso: string): string {
  if (nowIso !== aheadOf) {
    aheadOf = nowIso;
    aheadLimit = toIso(Date.parse(nowIso) + MAX_AHEAD_MS);
  }
  return aheadLimit;
}

export const AHEAD_MESSAGE = "must not be more than 24 hours after the server's clock";

/**
 * An instant a client sent to intake (`ts`, `occurred_at`), in the stored form; or `'invalid'`
 * when it is no ISO-8601 date-time from 1970 to 9999, `'ahead'` when it lies more than
 * MAX_AHEAD_MS after the server time `nowIso`.
 */
export function sentInstant(v: unknown, nowIso: string): string | 'invalid' | 'ahead' {
  if (typeof v !== 'string') return 'invalid';
  let iso = canonicalInstant(v);
  if (iso === undefined) {
    const parsed = parseInstant(v);
    if (!parsed) return 'invalid';
    iso = toIso(parsed.ms);
  }
  return iso > latestAccepted(nowIso) ? 'ahead' : iso;
}

/** The UTC day (YYYY-MM-DD) of a stored timestamp. */
export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/** Start of the UTC day after the given day (both as stored ISO text). */
export function nextDay(day: string): string {
  return toIso(Date.parse(`${day}T00:00:00.000Z`) + DAY_MS).slice(0, 10);
}

export interface TimeWindow {
  /** inclusive lower bound, ISO text, or null for unbounded */
  from: string | null;
  /** exclusive upper bound, ISO text, or null for unbounded */
  to: string | null;
}

export type WindowResult =
  { ok: true; window: TimeWindow } | { ok: false; field: 'from' | 'to'; message: string };

/**
 * Builds a half-open window [from, to). A date-only `from` starts at that day's 00:00 UTC; a
 * date-only `to` includes the whole day (the bound becomes the next day's 00:00); a date-time
 * `to` is exclusive.
 */
export function parseWindow(from: string | undefined, to: string | undefined): WindowResult {
  let fromMs: number | null = null;
  let toMs: number | null = null;
  if (from !== undefined && from !== '') {
    const p = parseInstant(from.trim());
    if (!p) return { ok: false, field: 'from', message: 'must be an ISO-8601 date or date-time' };
    fromMs = p.ms;
  }
  if (to !== undefined && to !== '') {
    const p = parseInstant(to.trim());
    if (!p) return { ok: false, field: 'to', message: 'must be an ISO-8601 date or date-time' };
    toMs = p.dateOnly ? p.ms + DAY_MS : p.ms;
  }
  if (fromMs !== null && toMs !== null && toMs <= fromMs) {
    return { ok: false, field: 'to', message: 'must be after from' };
  }
  return {
    ok: true,
    window: {
      from: fromMs === null ? null : toIso(fromMs),
      to: toMs === null ? null : toIso(toMs),
    },
  };
}

/** True when the ISO instant falls exactly on a UTC midnight. */
export function isMidnight(iso: string): boolean {
  return iso.endsWith('T00:00:00.000Z');
}

export interface WindowPlan {
  /** whole UTC days [dayFrom, dayTo) answered from the daily projection; null = open */
  dayFrom: string | null;
  dayTo: string | null;
  /** true when no whole day lies inside the window */
  noWholeDays: boolean;
  /** partial days at the window's edges, answered from the log: [from, to) */
  edges: { from: string; to: string }[];
}

/**
 * Splits a window into whole UTC days (read from per-day sums, O(days)) and at most two
 * partial days at its edges (read from the log), so that any window costs O(days) reads.
 */
export function planWindow(w: TimeWindow): WindowPlan {
  const edges: { from: string; to: string }[] = [];
  let dayFrom: string | null = null;
  let dayTo: string | null = null;
  if (w.from !== null) {
    if (isMidnight(w.from)) dayFrom = dayOf(w.from);
    else {
      dayFrom = nextDay(dayOf(w.from));
      const end = `${dayFrom}T00:00:00.000Z`;
      edges.push({ from: w.from, to: w.to !== null && w.to < end ? w.to : end });
    }
  }
  if (w.to !== null) {
    dayTo = dayOf(w.to);
    const headCoversTail = w.from !== null && !isMidnight(w.from) && dayOf(w.from) === dayTo;
    if (!isMidnight(w.to) && !headCoversTail) {
      const start = `${dayTo}T00:00:00.000Z`;
      edges.push({ from: w.from !== null && w.from > start ? w.from : start, to: w.to });
    }
  }
  const noWholeDays = dayFrom !== null && dayTo !== null && dayFrom >= dayTo;
  return { dayFrom, dayTo, noWholeDays, edges };
}
