/**
 * The database writer thread: its own SQLite connection, the write tasks of write-tasks.ts,
 * one task at a time in the order they were posted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kysely } from 'kysely';
import { Checkpointer } from './checkpointer.ts';
import type { Database } from './schema.ts';
import { openSqlite, sqliteDialect, type Synchronous } from './sqlite.ts';
import {
  type FromWorker,
  runTask,
  type ToWorker,
  toThreadError,
  type WriteContext,
} from './writer.ts';

const port = parentPort!;
const { file, synchronous, busyTimeoutMs } = workerData as {
  file: string;
  synchronous: Synchronous;
  busyTimeoutMs: number;
};
const sqlite = openSqlite(file, synchronous, busyTimeoutMs);
// With FULL, the commits of this thread are made durable by the other side's sync of the WAL
// (see ThreadWriter): here they need not wait for the disk. Without a WAL (a file system that
// refuses it) this connection syncs its own commits as configured.
const wal = sqlite.pragma('journal_mode', { simple: true }) === 'wal';
const walSync = synchronous === 'FULL' && wal;
if (walSync) sqlite.pragma('synchronous = NORMAL');
const checkpointer = wal ? new Checkpointer(sqlite, file) : undefined;
const db = new Kysely<Database>({ dialect: sqliteDialect(sqlite) });
const ctx: WriteContext = { db, dialect: 'sqlite', sqlite };
const post = (m: FromWorker) => port.postMessage(m);

let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  if (m.type === 'close') {
    queue = queue.then(async () => {
      await checkpointer?.close();
      await db.destroy();
      port.close();
    });
    return;
  }
  queue = queue.then(async () => {
    try {
      post({ type: 'done', id: m.id, result: await runTask(ctx, m.task, m.input) });
      checkpointer?.poke();
    } catch (err) {
      post({ type: 'failed', id: m.id, error: toThreadError(err) });
    }
  });
});
post({ type: 'ready', walSync });
