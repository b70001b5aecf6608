import { Worker } from 'node:worker_threads';
import { type SqliteHandle, WAL_AUTOCHECKPOINT } from './sqlite.ts';

/**
 * While the checkpointer runs, the writer checkpoints only past this many WAL pages (~120 MB):
 * a backstop that copies what the checkpointer has not yet, so that the WAL can start over.
 */
const BACKSTOP_AUTOCHECKPOINT = 30_000;
/** At most one checkpoint per this many milliseconds. */
const INTERVAL_MS = 50;

/**
 * Copies the WAL back into the database file on a thread of its own, so that the intake
 * writer does not: measured, a writer that checkpointed itself spent about a sixth of its
 * time on it (reading the WAL, writing the pages, two fsyncs) while storing nothing.
 *
 * The writer pokes it after each commit; it runs a PASSIVE checkpoint, which never blocks
 * the writer. A passive checkpoint cannot copy the frames committed while it runs, so the WAL
 * would never be wholly copied and could never start over (it would grow without end): the
 * writer's own checkpoint stays on, past a higher threshold, and copies the small remainder.
 * If the thread stops (a disk error), the writer goes back to its usual threshold.
 */
export class Checkpointer {
  private worker: Worker | undefined;

  constructor(sqlite: SqliteHandle, file: string) {
    const worker = new Worker(new URL('./checkpointer.worker.mjs', import.meta.url), {
      workerData: { file, intervalMs: INTERVAL_MS },
    });
    worker.unref();
    // The exit that follows says what matters: the writer checkpoints by itself again.
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT}`);
    });
    sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT}`);
    this.worker = worker;
  }

  /** The writer committed: checkpoint soon. */
  poke(): void {
    this.worker?.postMessage('poke');
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    worker.postMessage('close');
    await exited;
  }
}
