import { BatchWriter } from '../../db/batch-writer.ts';
import type { Writer } from '../../db/writer.ts';
import type { WritePermit } from '../../http/access.ts';
import { AppError } from '../../http/errors.ts';
import { type FieldError, type ValidRecord, validateRecord } from './pulse.validation.ts';
import { packRecords } from './pulse.write.ts';

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

/**
 * How long intake must have been quiet before the writer is asked to write out the students'
 * sums and the log's runs it holds (on SQLite it holds them for about a second, see
 * pulse.store.ts), so that the tables are whole for whoever reads the file without asking the
 * writer first.
 */
const QUIET_MS = 1_000;

/** Stores records and keeps the class projections current, committing many requests at once. */
export class PulseIngest {
  private readonly writer: BatchWriter<ValidRecord[], { inserted: number; duplicates: number }>;
  private lastCommitAt = 0;
  private quiet: NodeJS.Timeout | undefined;

  constructor(
    private readonly dbWriter: Writer,
    private readonly maxRecords: number,
    /** told, after each commit, how many records each class got */
    opts: { onCommitted?: (perClass: Map<string, number>) => void } = {},
  ) {
    this.writer = new BatchWriter({
      write: async (jobs, stored) => {
        const { results, perClass } = await dbWriter.run(
          'pulse.records',
          packRecords(jobs),
          stored,
        );
        if (perClass.size > 0) opts.onCommitted?.(perClass);
        this.lastCommitAt = performance.now();
        this.armQuiet(QUIET_MS);
        return results;
      },
      sizeOf: (job) => job.length,
      maxBatchSize: 50_000,
    });
  }

  /**
   * `permit` says whether the caller may write a record about this student in this class; a
   * record it refuses is reported by index like an invalid one.
   */
  async ingest(body: unknown, permit?: WritePermit): Promise<IngestResult> {
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
      if (!v.ok) return void rejected.push({ index, errors: v.errors });
      const denial = permit?.(v.record.class_id, v.record.student_id);
      if (denial) rejected.push({ index, errors: [denial] });
      else valid.push(v.record);
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

  /** Once intake has been quiet for QUIET_MS, has the writer write out what it holds. */
  private armQuiet(delayMs: number): void {
    if (this.quiet) return;
    this.quiet = setTimeout(() => {
      this.quiet = undefined;
      const quietFor = performance.now() - this.lastCommitAt;
      if (quietFor < QUIET_MS) return this.armQuiet(QUIET_MS - quietFor);
      // Not needed for correctness (readers ask for it themselves): a failure is left alone.
      this.dbWriter.run('pulse.settle', null).catch(() => undefined);
    }, delayMs);
    this.quiet.unref();
  }

  /**
   * Finishes every pending write (for shutdown), and leaves the students' daily sums and the
   * log's runs whole (on SQLite the writer holds the newest for a while): a program reading
   * the file next need not add them.
   */
  async close(): Promise<void> {
    await this.writer.drain();
    clearTimeout(this.quiet);
    this.quiet = undefined;
    // Not needed for correctness (the next reader adds them from the log): a failure here
    // must not fail the shutdown.
    await this.dbWriter.run('pulse.settle', null).catch(() => undefined);
  }
}
