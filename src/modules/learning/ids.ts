import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Time-ordered event ids (UUIDv7, RFC 9562) from the uuid library, with its random bytes drawn
 * from a pooled buffer: left to itself the library asks the system for 16 bytes per id, which
 * cost more than the rest of checking an event. Ids made in the same millisecond count up
 * (the library's own rule), so they sort in the order they were made.
 */
const pool = new Uint8Array(16 * 4096);
let used = pool.length;
let lastMs = -Infinity;
let seq = 0;

export function newEventId(): string {
  if (used + 16 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const random = pool.subarray(used, (used += 16));
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  return v7({ msecs: lastMs, seq, random });
}
