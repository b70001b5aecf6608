import { createHash } from 'node:crypto';

/** A seeded PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** 32-bit FNV-1a of the parts, to seed one PRNG per (class, student, day) independently. */
export function hash32(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  const s = parts.join('\u0000');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A PRNG keyed by the parts, so that a day's data does not depend on what was drawn before. */
export function rngFor(...parts: (string | number)[]): () => number {
  return mulberry32(hash32(...parts));
}

/**
 * A name-based UUID (RFC 9562 version 8, SHA-256 of the parts): the same record always gets the
 * same event_id, which is what makes re-loading the demo report duplicates instead of new rows.
 */
export function uuidFor(...parts: (string | number)[]): string {
  const b = createHash('sha256').update(parts.join('\u0000')).digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Approximately normal (mean 0, sd 1) from four uniforms; enough for a demo's spread. */
export function gaussian(rand: () => number): number {
  return (rand() + rand() + rand() + rand() - 2) * Math.sqrt(3);
}

export const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
