import { describe, expect, it } from 'vitest';
import { BatchWriter, MAX_IN_FLIGHT } from '../../src/db/batch-writer.ts';

describe('BatchWriter (group commit)', () => {
  it('commits jobs submitted together in one write, each caller getting its own result', async () => {
    const batches: number[][] = [];
    const w = new BatchWriter<number, number>({
      write: async (jobs) => {
        batches.push(jobs);
        return jobs.map((j) => j * 10);
      },
      sizeOf: () => 1,
      maxBatchSize: 100,
    });
    const results = await Promise.all([1, 2, 3].map((j) => w.submit(j)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('collects jobs that arrive during a write into the next one', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = new BatchWriter<number, number>({
      write: async (jobs) => {
        batches.push(jobs);
        if (batches.length === 1) await gate;
        return jobs;
      },
      sizeOf: () => 1,
      maxBatchSize: 100,
    });
    const first = w.submit(1);
    await new Promise((r) => setImmediate(r));
    const later = [w.submit(2), w.submit(3)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('caps the size of a batch', async () => {
    const batches: number[][] = [];
    const w = new BatchWriter<number, number>({
      write: async (jobs) => (batches.push(jobs), jobs),
      sizeOf: (j) => j,
      maxBatchSize: 10,
    });
    await Promise.all([6, 4, 5, 20].map((j) => w.submit(j)));
    expect(batches).toEqual([[6, 4], [5], [20]]);
  });

  it('fails only the job that cannot be written', async () => {
    const w = new BatchWriter<number, number>({
      write: async (jobs) => {
        if (jobs.includes(13)) throw new Error('unlucky');
        return jobs;
      },
      sizeOf: () => 1,
      maxBatchSize: 100,
    });
    const settled = await Promise.allSettled([12, 13, 14].map((j) => w.submit(j)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('drains pending writes', async () => {
    let written = 0;
    const w = new BatchWriter<number, number>({
      write: async (jobs) => {
        await new Promise((r) => setTimeout(r, 5));
        written += jobs.length;
        return jobs;
      },
      sizeOf: () => 1,
      maxBatchSize: 100,
    });
    void w.submit(1);
    void w.submit(2);
    await new Promise((r) => setImmediate(r));
    await w.drain();
    expect(written).toBe(2);
  });

  it('starts the next flush once a write has committed, while the last ones are made durable', async () => {
    const started: number[][] = [];
    const gates: (() => void)[] = [];
    const w = new BatchWriter<number, number>({
      write: async (jobs, stored) => {
        started.push(jobs);
        stored(); // committed; durability still pending
        await new Promise<void>((r) => gates.push(r));
        return jobs;
      },
      sizeOf: () => 1,
      maxBatchSize: 100,
    });
    const tick = () => new Promise((r) => setImmediate(r));
    const jobs = Array.from({ length: MAX_IN_FLIGHT + 1 }, (_, i) => i + 1);
    const results: Promise<number>[] = [];
    for (const j of jobs) {
      results.push(w.submit(j));
      await tick();
    }
    // MAX_IN_FLIGHT flushes are in flight; the next one waits for one of them to settle.
    expect(started).toEqual(jobs.slice(0, MAX_IN_FLIGHT).map((j) => [j]));
    let firstDone = false;
    void results[0]!.then(() => (firstDone = true));
    await tick();
    expect(firstDone).toBe(false);
    gates.shift()!();
    expect(await results[0]).toBe(1);
    await tick();
    expect(started).toEqual(jobs.map((j) => [j]));
    gates.splice(0).forEach((g) => g());
    expect(await Promise.all(results)).toEqual(jobs);
    await w.drain();
  });

  it('retries a failed batch job by job, but not when the database itself failed', async () => {
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const calls: number[][] = [];
    const w = new BatchWriter<number, number>({
      write: async (jobs) => {
        calls.push(jobs);
        if (jobs.includes(2)) throw new Error('job 2 is bad');
        if (jobs.includes(9)) throw busy;
        return jobs;
      },
      sizeOf: () => 1,
      maxBatchSize: 100,
    });
    const mixed = await Promise.allSettled([1, 2, 3].map((j) => w.submit(j)));
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).toEqual([[1, 2, 3], [1], [2], [3]]);
    calls.length = 0;
    const locked = await Promise.allSettled([7, 8, 9].map((j) => w.submit(j)));
    expect(locked.every((r) => r.status === 'rejected' && r.reason === busy)).toBe(true);
    expect(calls).toEqual([[7, 8, 9]]);
  });
});
