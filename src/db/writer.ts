/**
 * The intake writer: runs the high-volume write tasks (metrics records, learning events) that
 * group commit collects. On a SQLite file it runs them on a thread of its own with its own
 * connection, so that while one batch is being stored the request thread already parses and
 * checks the next requests; elsewhere (PostgreSQL, `:memory:`) it runs them in process.
 *
 * A task is a function of this process's code, named in write-tasks.ts: the thread imports
 * the same module, so only the task's name and its (structured-clone) input cross over.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Dialect } from './dialect.ts';
import type { Database } from './schema.ts';
import { BUSY_TIMEOUT_MS, type SqliteHandle, type Synchronous } from './sqlite.ts';
import { WRITE_TASKS, type WriteTasks } from './write-tasks.ts';

/** What a write task gets: the database, and on SQLite its raw handle for hot statements. */
export interface WriteContext {
  db: Kysely<Database>;
  dialect: Dialect;
  sqlite: SqliteHandle | undefined;
}

export type TaskName = keyof WriteTasks;
export type TaskInput<K extends TaskName> = Parameters<WriteTasks[K]>[1];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<WriteTasks[K]>>;

export interface Writer {
  /**
   * Runs a task; resolves once its transaction is committed and durable. `stored`, if given,
   * is called as soon as the transaction has committed, possibly before it is durable.
   */
  run<K extends TaskName>(
    task: K,
    input: TaskInput<K>,
    stored?: () => void,
  ): Promise<TaskOutput<K>>;
  /** Resolves once the writer takes work (its thread, if any, has started). */
  ready(): Promise<void>;
  /** Finishes the tasks already given, then stops. */
  close(): Promise<void>;
}

type AnyTask = (ctx: WriteContext, input: unknown) => Promise<unknown>;

export function runTask(ctx: WriteContext, task: string, input: unknown): Promise<unknown> {
  const fn = (WRITE_TASKS as Record<string, AnyTask>)[task];
  if (!fn) return Promise.reject(new Error(`unknown write task "${task}"`));
  return fn(ctx, input);
}

/** Runs tasks on the caller's own connection. */
export function inProcessWriter(ctx: WriteContext): Writer {
  return {
    run: (task, input) => runTask(ctx, task, input) as never,
    ready: async () => undefined,
    close: async () => undefined,
  };
}

/** An error as it crosses the thread boundary: what the error handler and logs need. */
export interface ThreadError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export function toThreadError(err: unknown): ThreadError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(err.stack ? { stack: err.stack } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

function fromThreadError(e: ThreadError): Error {
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  if (e.stack) err.stack = e.stack;
  return err;
}

export type ToWorker =
  { type: 'run'; id: number; task: string; input: unknown } | { type: 'close' };
export type FromWorker =
  | { type: 'ready'; walSync: boolean }
  | { type: 'done'; id: number; result: unknown }
  | { type: 'failed'; id: number; error: ThreadError };

export interface ThreadWriterOptions {
  file: string;
  synchronous: Synchronous;
  busyTimeoutMs?: number;
}

const BOOTSTRAP = new URL('./writer.bootstrap.mjs', import.meta.url);
const ENTRY = new URL('./writer.worker.ts', import.meta.url);

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  stored: (() => void) | undefined;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Runs tasks on a worker thread. The thread starts on first use; if it dies, the tasks it held
 * fail with the reason and the next task starts a new one. The thread keeps the process alive
 * only while it has work, so a command that forgets to close it still exits.
 *
 * With synchronous = FULL the thread commits without waiting for the disk, and this side
 * makes each commit durable with an fdatasync of the WAL (on libuv's pool) before answering:
 * the thread stores the next batch meanwhile, and one sync covers every commit before it.
 */
export class ThreadWriter implements Writer {
  private worker: Worker | undefined;
  private isReady = false;
  private started: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | undefined;
  private walFd: number | undefined;
  /** true when the thread leaves the WAL sync of its commits to this side */
  private walSync = false;
  /** the sync running now, and the one to run next (for commits made after it started) */
  private syncRunning = false;
  private nextSync: Deferred | undefined;

  constructor(private readonly opts: ThreadWriterOptions) {}

  /** Resolves once a WAL sync that started after this call has completed. */
  private durable(): Promise<void> {
    if (!this.walSync) return Promise.resolve();
    this.nextSync ??= deferred();
    const { promise } = this.nextSync;
    if (!this.syncRunning) this.startSync();
    return promise;
  }

  private startSync(): void {
    const d = this.nextSync;
    if (!d) return;
    this.nextSync = undefined;
    this.syncRunning = true;
    try {
      this.walFd ??= openSync(`${this.opts.file}-wal`, 'r');
    } catch (err) {
      this.syncRunning = false;
      d.reject(err);
      return;
    }
    fdatasync(this.walFd, (err) => {
      this.syncRunning = false;
      if (err) d.reject(err);
      else d.resolve();
      if (this.nextSync) this.startSync();
    });
  }

  ready(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the writer is closed'));
    return (this.started ??= this.spawn());
  }

  private spawn(): Promise<void> {
    const worker = new Worker(BOOTSTRAP, {
      workerData: {
        entry: ENTRY.href,
        file: this.opts.file,
        synchronous: this.opts.synchronous,
        busyTimeoutMs: this.opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS,
      },
    });
    this.worker = worker;
    worker.unref();
    return new Promise<void>((resolve, reject) => {
      let isReady = false;
      const forget = () => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.started = undefined;
        this.isReady = false;
      };
      const fail = (err: Error) => {
        forget();
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        if (!isReady) reject(err);
      };
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          isReady = true;
          this.isReady = true;
          this.walSync = m.walSync;
          resolve();
        } else if (m.type === 'done' || m.type === 'failed') {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          if (this.pending.size === 0) worker.unref();
          p.stored?.();
          if (m.type === 'failed') p.reject(fromThreadError(m.error));
          else this.durable().then(() => p.resolve(m.result), p.reject);
        }
      });
      worker.on('error', (err) =>
        fail(new Error(`the database writer thread failed: ${err.message}`, { cause: err })),
      );
      worker.on('exit', (code) => {
        if (this.pending.size > 0 || !isReady) {
          fail(new Error(`the database writer thread stopped (exit code ${code})`));
        } else forget();
      });
    });
  }

  run<K extends TaskName>(
    task: K,
    input: TaskInput<K>,
    stored?: () => void,
  ): Promise<TaskOutput<K>> {
    // Posted at once when the thread is up: the next batch should reach the thread before this
    // turn goes on to answer the requests of the last one.
    if (this.worker && this.isReady) return this.post(task, input, stored);
    return this.ready().then(() => this.post(task, input, stored));
  }

  private post<K extends TaskName>(
    task: K,
    input: TaskInput<K>,
    stored: (() => void) | undefined,
  ): Promise<TaskOutput<K>> {
    const worker = this.worker!;
    const id = this.nextId++;
    return new Promise<TaskOutput<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, stored });
      worker.ref();
      worker.postMessage({ type: 'run', id, task, input } satisfies ToWorker);
    });
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      const worker = this.worker;
      if (!worker) return;
      await this.started?.catch(() => undefined);
      if (!this.worker) return;
      worker.ref();
      const exited = new Promise<void>((r) => worker.once('exit', () => r()));
      // Tasks already posted run before the close message: the thread handles them in order.
      worker.postMessage({ type: 'close' } satisfies ToWorker);
      await exited;
      // A sync queued behind any still running: the descriptor closes only once they are done.
      await this.durable().catch(() => undefined);
      if (this.walFd !== undefined) closeSync(this.walFd);
      this.walFd = undefined;
    })());
  }
}
