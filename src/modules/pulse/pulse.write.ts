/**
 * Storing a flush of metrics records: the write task of group commit. It runs on the intake
 * writer (the SQLite writer thread, or in process), so its input is packed in columns, which
 * cross a thread boundary several times cheaper than one object per record.
 */
import type { WriteContext } from '../../db/writer.ts';
import * as store from './pulse.store.ts';
import type { ValidRecord } from './pulse.validation.ts';

/** The records of several requests, column by column; request j ends before `ends[j]`. */
export interface PackedRecords {
  ends: number[];
  class_id: string[];
  student_id: string[];
  ts: string[];
  event_id: (string | null)[];
  /** stuck | got_it << 1 | pause << 2 | example << 3 */
  flags: Uint8Array;
  confidence: Float64Array;
}

export interface JobResult {
  inserted: number;
  duplicates: number;
}

export interface WriteOutcome {
  results: JobResult[];
  /** records stored per class */
  perClass: Map<string, number>;
}

export function packRecords(jobs: ValidRecord[][]): PackedRecords {
  let n = 0;
  for (const job of jobs) n += job.length;
  const p: PackedRecords = {
    ends: [],
    class_id: new Array<string>(n),
    student_id: new Array<string>(n),
    ts: new Array<string>(n),
    event_id: new Array<string | null>(n),
    flags: new Uint8Array(n),
    confidence: new Float64Array(n),
  };
  let i = 0;
  for (const job of jobs) {
    for (const r of job) {
      p.class_id[i] = r.class_id;
      p.student_id[i] = r.student_id;
      p.ts[i] = r.ts;
      p.event_id[i] = r.event_id;
      p.flags[i] = r.stuck | (r.got_it << 1) | (r.pause << 2) | (r.example << 3);
      p.confidence[i] = r.confidence;
      i++;
    }
    p.ends.push(i);
  }
  return p;
}

/**
 * Stores the records of several requests in one transaction and adds them to the class
 * projections. A record whose event_id is stored already, or came earlier in this flush, is
 * a duplicate and is not stored again.
 */
export async function writeRecords(ctx: WriteContext, p: PackedRecords): Promise<WriteOutcome> {
  const results: JobResult[] = p.ends.map(() => ({ inserted: 0, duplicates: 0 }));
  const jobOf = new Int32Array(p.class_id.length);
  const candidates: number[] = [];
  const seen = new Set<string>();
  let j = 0;
  for (let i = 0; i < p.class_id.length; i++) {
    while (i >= p.ends[j]!) j++;
    jobOf[i] = j;
    const eventId = p.event_id[i]!;
    if (eventId !== null) {
      if (seen.has(eventId)) {
        results[j]!.duplicates++;
        continue;
      }
      seen.add(eventId);
    }
    candidates.push(i);
  }
  const now = new Date().toISOString();
  // Once a day (the first flush after midnight UTC) the days just ended are rolled up.
  await store.rollUpTo(ctx.db, ctx.dialect, now.slice(0, 10));
  const { stored, committed } = await ctx.db
    .transaction()
    .execute((trx) => store.storeRecords(trx, ctx, p, candidates, now));
  committed();
  const perClass = new Map<string, number>();
  candidates.forEach((i, k) => {
    const r = results[jobOf[i]!]!;
    if (stored[k] === 0) {
      r.duplicates++;
      return;
    }
    r.inserted++;
    const c = p.class_id[i]!;
    perClass.set(c, (perClass.get(c) ?? 0) + 1);
  });
  return { results, perClass };
}

/**
 * SQLite: adds every stored record still missing from the students' daily sums and the log's
 * runs (see settleHeld), for a reader of those tables; returns the log id they now hold the
 * records through (Infinity elsewhere: there they hold every record at once).
 */
export async function settleRecords(ctx: WriteContext, _input: null): Promise<number> {
  const { sqlite } = ctx;
  if (!sqlite) return Infinity;
  const { through, committed } = await ctx.db
    .transaction()
    .execute((trx) => store.settleHeld(trx, sqlite));
  committed();
  return through;
}
