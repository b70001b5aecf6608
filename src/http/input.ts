/** Checks shared by every intake: the ids that come from customers' systems. */

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ID_MAX_CHARS = 128;
/** U+0000 is refused in every text: PostgreSQL's text cannot hold it. */
export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
/** The longest path parameter the router takes (decoded); ids are far shorter. */
export const MAX_PATH_PARAM_CHARS = 1024;
/** In a /u pattern a surrogate pair is one code point, so only an unpaired half matches. */
const LONE_SURROGATE = /\p{Cs}/u;

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/** An external id: a string of 1–128 characters, or a number taken as its decimal string. */
export function externalId(value: unknown): string | string[] {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? String(value) : ['must be a finite number or a string'];
  }
  if (typeof value !== 'string') {
    return [value === undefined || value === null ? 'is required' : 'must be a string or a number'];
  }
  if (value.trim() === '') return ['must not be empty'];
  // PostgreSQL's text cannot hold it; refused on SQLite too, so both accept the same ids.
  if (value.includes('\u0000')) return [NUL_MESSAGE];
  // A lone UTF-16 surrogate ("\ud800" in JSON) has no UTF-8 form: the database would store a
  // replacement character, and the id read back would no longer match the one sent.
  if (LONE_SURROGATE.test(value))
    return ['must be valid Unicode text (it holds an unpaired surrogate)'];
  if (value.length > ID_MAX_CHARS && codePoints(value) > ID_MAX_CHARS) {
    return [`must be at most ${ID_MAX_CHARS} characters`];
  }
  return value;
}
