import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import { createDatabase, type Db } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { ThreadWriter } from '../../src/db/writer.ts';
import { packRecords } from '../../src/modules/pulse/pulse.write.ts';
import type { ValidRecord } from '../../src/modules/pulse/pulse.validation.ts';

const rec = (over: Partial<ValidRecord> = {}): ValidRecord => ({
  class_id: 'c1',
  student_id: 's1',
  stuck: 0,
  got_it: 1,
  pause: 0,
  example: 1,
  confidence: 7,
  ts: '2026-01-05T10:00:00.000Z',
  event_id: null,
  ...over,
});

/** The writer thread of a SQLite file: its own connection, the same tasks as in process. */
describe('the SQLite writer thread', () => {
  let dir: string;
  let database: Db;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'learntwin-writer-'));
    database = createDatabase({ url: join(dir, 'w.db'), sqliteSynchronous: 'NORMAL' });
    await migrateToLatest(database.db);
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores on its own connection what the request connection then reads', async () => {
    expect(database.writer).toBeInstanceOf(ThreadWriter);
    const out = await database.writer.run(
      'pulse.records',
      packRecords([[rec(), rec({ student_id: 's2' })], [rec({ event_id: 'e-1' })]]),
    );
    expect(out.results).toEqual([
      { inserted: 2, duplicates: 0 },
      { inserted: 1, duplicates: 0 },
    ]);
    expect(out.perClass).toEqual(new Map([['c1', 3]]));
    const rows = await database.db.selectFrom('metric_records').select('student_id').execute();
    expect(rows.map((r) => r.student_id).sort()).toEqual(['s1', 's1', 's2']);
  });

  it('runs tasks in the order they were given', async () => {
    const runs = [1, 2, 3].map((n) =>
      database.writer.run(
        'pulse.records',
        packRecords([[rec({ event_id: 'same', confidence: n })]]),
      ),
    );
    const results = await Promise.all(runs);
    expect(results.map((r) => r.results[0])).toEqual([
      { inserted: 1, duplicates: 0 },
      { inserted: 0, duplicates: 1 },
      { inserted: 0, duplicates: 1 },
    ]);
    const row = await database.db
      .selectFrom('metric_records')
      .select('confidence')
      .executeTakeFirstOrThrow();
    expect(row.confidence).toBe(1);
  });

  it('hands a failed task back as an error with its SQLite code', async () => {
    await database.db.schema.dropTable('class_student_day_stats').execute();
    const err = await database.writer
      .run('pulse.records', packRecords([[rec()]]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/class_student_day_stats/);
    expect((err as { code?: string }).code).toMatch(/^SQLITE_/);
    // The failed transaction left nothing behind.
    expect(await database.db.selectFrom('metric_records').selectAll().execute()).toEqual([]);
  });

  it('fails the tasks of a thread that cannot start, and starts a new thread for the next', async () => {
    // The thread cannot open a directory as its database: it dies at start.
    const file = join(dir, 'later.db');
    mkdirSync(file);
    const writer = new ThreadWriter({ file, synchronous: 'NORMAL' });
    const err = await writer.run('pulse.records', packRecords([[rec()]])).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/writer thread (failed|stopped)/);
    rmSync(file, { recursive: true });
    const ready = createDatabase({ url: file });
    await migrateToLatest(ready.db);
    await ready.close();
    const out = await writer.run('pulse.records', packRecords([[rec({ student_id: 'after' })]]));
    expect(out.results).toEqual([{ inserted: 1, duplicates: 0 }]);
    await writer.close();
  });

  it('finishes the tasks it was given before it closes', async () => {
    const runs = Array.from({ length: 5 }, (_, i) =>
      database.writer.run('pulse.records', packRecords([[rec({ student_id: `s${i}` })]])),
    );
    await database.writer.close();
    expect((await Promise.all(runs)).every((r) => r.results[0]!.inserted === 1)).toBe(true);
    await expect(database.writer.run('pulse.records', packRecords([[rec()]]))).rejects.toThrow(
      /closed/,
    );
  });

  it('copies its commits into the database file soon, far below the WAL threshold', async () => {
    // Commits in quick succession: the checkpointer is woken at most once per interval, and
    // the checkpoint after the last of them must still come.
    for (let k = 0; k < 5; k++) {
      await database.writer.run(
        'pulse.records',
        packRecords([Array.from({ length: 10 }, (_, i) => rec({ student_id: `f${k}-${i}` }))]),
      );
    }
    // The database file alone, without its WAL, as a file-level copy of it would see it.
    const fileAlone = async (): Promise<number> => {
      const copy = join(dir, `copy-${Date.now()}.db`);
      copyFileSync(join(dir, 'w.db'), copy);
      try {
        const s = new SQLite(copy, { readonly: true });
        try {
          return (s.prepare('select count(*) as n from metric_records').get() as { n: number }).n;
        } finally {
          s.close();
        }
      } catch {
        return -1; // copied halfway through a checkpoint: look again
      } finally {
        rmSync(copy, { force: true });
      }
    };
    let seen = await fileAlone();
    for (let i = 0; i < 60 && seen !== 50; i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await fileAlone();
    }
    expect(seen).toBe(50);
  });

  it('with synchronous FULL, reports the commit first and answers once the WAL is synced', async () => {
    const file = join(dir, 'full.db');
    const full = createDatabase({ url: file, sqliteSynchronous: 'FULL' });
    await migrateToLatest(full.db);
    try {
      const order: string[] = [];
      const out = await full.writer.run('pulse.records', packRecords([[rec()]]), () =>
        order.push('stored'),
      );
      order.push('answered');
      expect(order).toEqual(['stored', 'answered']);
      expect(out.results).toEqual([{ inserted: 1, duplicates: 0 }]);
      // Many runs at once share syncs and all answer.
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          full.writer.run('pulse.records', packRecords([[rec({ student_id: `m${i}` })]])),
        ),
      );
      expect(many.every((r) => r.results[0]!.inserted === 1)).toBe(true);
      const n = await full.db
        .selectFrom('metric_records')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(21);
    } finally {
      await full.close();
    }
  });
});
