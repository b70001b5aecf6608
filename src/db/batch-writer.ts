/**
 * Group commit: writes submitted while a transaction is running are collected and committed
 * together in the next one. Each caller's promise resolves only after its items are committed,
 * so a 2xx still means durable, while the cost of a commit (an fsync on SQLite, a round trip on
 * PostgreSQL) is shared by every request that arrived meanwhile.
 */
export interface BatchWriterOptions<T, R> {
  /** Writes every job of one flush in a single transaction and returns one result per job. */
  write(jobs: T[]): Promise<R[]>;
  /** Size of a job (records), to cap how much goes into one transaction. */
  sizeOf(job: T): number;
  /** Upper bound on the summed size of one flush. */
  maxBatchSize: number;
}

interface Pending<T, R> {
  job: T;
  resolve(result: R): void;
  reject(err: unknown): void;
}

export class BatchWriter<T, R> {
  private queue: Pending<T, R>[] = [];
  private running = false;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: BatchWriterOptions<T, R>) {}

  submit(job: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything submitted so far has been written. */
  async drain(): Promise<void> {
    if (!this.running && this.queue.length === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // Let the requests already parsed in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private take(): Pending<T, R>[] {
    let size = 0;
    let i = 0;
    while (i < this.queue.length) {
      size += this.opts.sizeOf(this.queue[i]!.job);
      if (i > 0 && size > this.opts.maxBatchSize) break;
      i++;
    }
    return this.queue.splice(0, i);
  }

  private async flush(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        try {
          const results = await this.opts.write(batch.map((p) => p.job));
          batch.forEach((p, i) => p.resolve(results[i]!));
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          // One bad job must not fail its neighbours: retry each on its own.
          for (const p of batch) {
            try {
              const [result] = await this.opts.write([p.job]);
              p.resolve(result!);
            } catch (e) {
              p.reject(e);
            }
          }
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters.splice(0);
      waiters.forEach((w) => w());
    }
  }
}
