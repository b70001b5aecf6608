import type { Kysely } from 'kysely';
import { BatchWriter } from '../../db/batch-writer.ts';
import type { Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../http/errors.ts';
import { dayOf } from '../../models/time.ts';
import * as repo from './pulse.repository.ts';
import type { SignalSums } from './pulse.table.ts';
import { type FieldError, type ValidRecord, validateRecord } from './pulse.validation.ts';

export interface IngestResult {
  inserted: number;
  duplicates: number;
  rejected: { index: number; errors: FieldError[] }[];
}

/** The records of a request body: one record, an array, or {"records": [...]}. */
export function recordsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (typeof body === 'object' && body !== null && 'records' in body) {
    const records = (body as { records: unknown }).records;
    if (!Array.isArray(records)) {
      throw new AppError(400, 'invalid_request', 'records must be an array', [
        { field: 'records', message: 'must be an array' },
      ]);
    }
    return records;
  }
  if (typeof body === 'object' && body !== null) return [body];
  throw new AppError(
    400,
    'invalid_request',
    'The body must be a record, an array or {"records": [...]}',
    [{ field: 'body', message: 'must be a JSON object or array' }],
  );
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

/** Stores records and keeps the class projections current, committing many requests at once. */
export class PulseIngest {
  private readonly writer: BatchWriter<ValidRecord[], { inserted: number; duplicates: number }>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly maxRecords: number,
    private readonly onCommitted?: (classIds: Set<string>) => void,
  ) {
    this.writer = new BatchWriter({
      write: (jobs) => this.write(jobs),
      sizeOf: (job) => job.length,
      maxBatchSize: 50_000,
    });
  }

  async ingest(body: unknown): Promise<IngestResult> {
    const items = recordsOf(body);
    if (items.length === 0) {
      throw new AppError(422, 'no_records', 'The request holds no records');
    }
    if (items.length > this.maxRecords) {
      throw new AppError(
        413,
        'too_many_records',
        `At most ${this.maxRecords} records per request; this one has ${items.length}`,
      );
    }
    const now = new Date().toISOString();
    const valid: ValidRecord[] = [];
    const rejected: IngestResult['rejected'] = [];
    items.forEach((item, index) => {
      const v = validateRecord(item, now);
      if (v.ok) valid.push(v.record);
      else rejected.push({ index, errors: v.errors });
    });
    if (valid.length === 0) {
      throw new AppError(422, 'all_records_rejected', 'No record was valid; nothing was stored', {
        inserted: 0,
        duplicates: 0,
        rejected,
      });
    }
    const { inserted, duplicates } = await this.writer.submit(valid);
    return { inserted, duplicates, rejected };
  }

  /** Waits for every pending write (for shutdown). */
  drain(): Promise<void> {
    return this.writer.drain();
  }

  private async write(jobs: ValidRecord[][]): Promise<{ inserted: number; duplicates: number }[]> {
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
    const classIds = new Set<string>();
    await this.db.transaction().execute(async (trx) => {
      const receivedAt = new Date().toISOString();
      const newIds = await repo.insertRecords(trx, this.dialect, toStore, receivedAt);
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
        classIds.add(r.class_id);
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
      await repo.addStudentDaySums(trx, this.dialect, [...perDay.values()]);
      await repo.addStudentSums(trx, this.dialect, [...perStudent.values()]);
    });
    if (classIds.size > 0) this.onCommitted?.(classIds);
    return results;
  }
}
