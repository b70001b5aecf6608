// The WAL checkpointer thread (see checkpointer.ts): its own connection to the database file,
// one PASSIVE checkpoint per poke, at most one per interval. Plain JavaScript: it needs no
// TypeScript loader, only better-sqlite3.
import { clearTimeout, setTimeout } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const { file, intervalMs } = workerData;
const db = new SQLite(file, { fileMustExist: true });
// A passive checkpoint never waits for writers or readers; when another connection holds the
// checkpoint lock (the writer's own fallback checkpoint), this round is skipped, not waited for.
db.pragma('busy_timeout = 0');
// Either level syncs the WAL before copying it and the database file after.
db.pragma('synchronous = NORMAL');

let timer;

function checkpoint() {
  timer = undefined;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    if (err?.code === 'SQLITE_BUSY' || err?.code === 'SQLITE_LOCKED') return;
    // Anything else (a disk error): stop, and let the writer go back to checkpointing itself.
    db.close();
    throw err;
  }
}

parentPort.on('message', (m) => {
  if (m === 'close') {
    if (timer) clearTimeout(timer);
    db.close();
    parentPort.close();
    return;
  }
  // A poke: the writer committed. Pokes that come while one is pending share it.
  timer ??= setTimeout(checkpoint, intervalMs);
});
