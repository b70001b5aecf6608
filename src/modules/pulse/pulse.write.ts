import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import { dayOf } from '../../models/time.ts';
import * as repo from './pulse.repository.ts';
import type { SignalSums } from './pulse.table.ts';
import type { ValidRecord } from './pulse.validation.ts';

export interface JobResult {
  inserted: number;
  duplicates: number;
}

export interface WriteOutcome {
  results: JobResult[];
  /** classes that received new records */
  /** records stored per class */
  perClass: Map<string, number>;
}

function emptySums(ts: string): SignalSums {
  return {
    n: 0,
    stuck: 0,
    got_it: 0,
    pause: 0,
    example: 0,
    confidence_sum: 0,
    first_ts: ts,
    last_ts: ts,
  };
}

function accumulate(s: SignalSums, r: ValidRecord): void {
  s.n++;
  s.stuck += r.stuck;
  s.got_it += r.got_it;
  s.pause += r.pause;
  s.example += r.example;
  s.confidence_sum += r.confidence;
  if (r.ts < s.first_ts) s.first_ts = r.ts;
  if (r.ts > s.last_ts) s.last_ts = r.ts;
}

/**
 * Stores the records of several requests in one transaction and adds them to the projections.
 * Runs in-process (PostgreSQL) or on the SQLite writer thread.
 */
export async function writeBatch(
  db: Kysely<Database>,
  dialect: Dialect,
  jobs: ValidRecord[][],
): Promise<WriteOutcome> {
  // A repeated event_id within the flush is a duplicate of its first occurrence.
  const seen = new Set<string>();
  const batchDup = jobs.map(() => 0);
  const toStore: ValidRecord[] = [];
  const owner: number[] = [];
  jobs.forEach((job, j) => {
    for (const r of job) {
      if (r.event_id !== null) {
        if (seen.has(r.event_id)) {
          batchDup[j]!++;
          continue;
        }
        seen.add(r.event_id);
      }
      toStore.push(r);
      owner.push(j);
    }
  });

  const results = jobs.map((_, j) => ({ inserted: 0, duplicates: batchDup[j]! }));
  const perClass = new Map<string, number>();
  await db.transaction().execute(async (trx) => {
    const receivedAt = new Date().toISOString();
    const newIds = await repo.insertRecords(trx, dialect, toStore, receivedAt);
    const perDay = new Map<
      string,
      SignalSums & { class_id: string; day: string; student_id: string }
    >();
    const perStudent = new Map<string, SignalSums & { class_id: string; student_id: string }>();
    toStore.forEach((r, i) => {
      const res = results[owner[i]!]!;
      if (r.event_id !== null && !newIds.has(r.event_id)) {
        res.duplicates++;
        return;
      }
      res.inserted++;
      perClass.set(r.class_id, (perClass.get(r.class_id) ?? 0) + 1);
      const day = dayOf(r.ts);
      const sk = `${r.class_id}\u0000${r.student_id}`;
      const dk = `${sk}\u0000${day}`;
      let d = perDay.get(dk);
      if (!d) {
        d = { class_id: r.class_id, day, student_id: r.student_id, ...emptySums(r.ts) };
        perDay.set(dk, d);
      }
      accumulate(d, r);
      let s = perStudent.get(sk);
      if (!s) {
        s = { class_id: r.class_id, student_id: r.student_id, ...emptySums(r.ts) };
        perStudent.set(sk, s);
      }
      accumulate(s, r);
    });
    await repo.addStudentDaySums(trx, dialect, [...perDay.values()]);
    await repo.addStudentSums(trx, dialect, [...perStudent.values()]);
  });
  return { results, perClass };
}
