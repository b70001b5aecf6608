import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Db } from '../../src/db/database.ts';
import * as learning from '../../src/modules/learning/learning.repository.ts';
import { rosterNumbers } from '../../src/modules/pulse/pulse.roster.ts';
import * as pulse from '../../src/modules/pulse/pulse.store.ts';
import { packRecords } from '../../src/modules/pulse/pulse.write.ts';
import type { ValidRecord } from '../../src/modules/pulse/pulse.validation.ts';
import { createTestApp, post, record, TEST_DATABASE_URL, type TestApp } from '../helpers/app.ts';

if (!TEST_DATABASE_URL) {
  console.warn(
    'postgres-locks.test.ts: skipped: no PostgreSQL at TEST_DATABASE_URL (on SQLite one write lock orders every writer)',
  );
}

/** Whether a promise is still pending after `ms`. */
async function pendingAfter(p: Promise<unknown>, ms: number): Promise<boolean> {
  const mark = Symbol('pending');
  return (await Promise.race([p, sleep(ms, mark)])) === mark;
}

/**
 * Another server process on the same PostgreSQL schema, in the middle of a transaction: the
 * writers of this one must wait for it rather than write over what it is changing.
 */
describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL: writers of other processes', () => {
  let t: TestApp;
  let other: Db;
  const attempt = (correct: boolean, at: string) => ({
    event_type: 'quiz_attempt',
    user_id: 'locked-learner',
    concept_id: 'k',
    correct,
    occurred_at: at,
  });

  beforeAll(async () => {
    t = await createTestApp();
    const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(t.database.db);
    other = createDatabase({ url: TEST_DATABASE_URL!, pgSchema: rows[0]!.s, pgPoolSize: 2 });
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  /** Runs `hold` in a transaction of the other process that stays open until released. */
  async function holding(hold: (trx: Db['db']) => Promise<unknown>) {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    const done = other.db.transaction().execute(async (trx) => {
      await hold(trx);
      held();
      await released;
    });
    await isHeld;
    return { release, done };
  }

  it('event intake waits for a mastery rebuild in progress, then applies its attempt on top', async () => {
    const first = await post(t.app, '/api/v1/events', attempt(true, '2026-02-01T09:00:00Z'));
    expect(first.statusCode).toBe(200);
    const rebuild = await holding((trx) => learning.lockMastery(trx, 'postgres'));
    const intake = post(t.app, '/api/v1/events', attempt(false, '2026-02-01T09:01:00Z'));
    expect(await pendingAfter(intake, 400)).toBe(true);
    rebuild.release();
    await rebuild.done;
    expect((await intake).statusCode).toBe(200);
    const m = (await t.app.inject('/api/v1/learners/locked-learner/mastery/k')).json();
    expect(m).toMatchObject({ attempts: 2, correct: 1 });
  });

  it('a class rebuild waits for records being stored, and record intake waits for a class rebuild', async () => {
    expect((await post(t.app, '/api/v1/metrics', record({ class_id: 'lk' }))).statusCode).toBe(200);

    const storing = await holding((trx) => pulse.rolledBefore(trx, 'postgres', 'share'));
    const rebuild = t.app.services.pulse.recompute();
    expect(await pendingAfter(rebuild, 400)).toBe(true);
    storing.release();
    await storing.done;
    await rebuild;

    const rebuilding = await holding((trx) => pulse.rebuildClass(trx, 'postgres', 'lk'));
    const intake = post(t.app, '/api/v1/metrics', record({ class_id: 'lk', student_id: 's2' }));
    expect(await pendingAfter(intake, 400)).toBe(true);
    rebuilding.release();
    await rebuilding.done;
    expect((await intake).json().inserted).toBe(1);
    const m = (await t.app.inject('/api/v1/classes/lk/mastery')).json();
    expect(m).toMatchObject({ count: 2, students: 2 });
  });

  it('numbers a class’s new students once, whichever process stores them', async () => {
    const day = '2026-02-03';
    const numbering = await holding((trx) =>
      rosterNumbers(trx, 'postgres', {}, ['race'], ['from-other']),
    );
    const intake = post(
      t.app,
      '/api/v1/metrics',
      record({ class_id: 'race', student_id: 'from-here', ts: `${day}T10:00:00Z` }),
    );
    expect(await pendingAfter(intake, 400)).toBe(true);
    numbering.release();
    await numbering.done;
    expect((await intake).json().inserted).toBe(1);
    const roster = () =>
      t.database.db
        .selectFrom('class_roster')
        .select(['student_id', 'ordinal'])
        .where('class_id', '=', 'race')
        .orderBy('ordinal')
        .execute();
    expect((await roster()).map((r) => [r.student_id, Number(r.ordinal)])).toEqual([
      ['from-other', 0],
      ['from-here', 1],
    ]);

    // both processes at once, each bringing new students
    const rec = (student_id: string): ValidRecord => ({
      class_id: 'race',
      student_id,
      stuck: 0,
      got_it: 1,
      pause: 0,
      example: 1,
      confidence: 7,
      ts: `${day}T11:00:00.000Z`,
      event_id: null,
    });
    for (let round = 0; round < 8; round++) {
      const mine = Array.from({ length: 5 }, (_, i) => `here-${round}-${i}`);
      const theirs = Array.from({ length: 5 }, (_, i) => `there-${round}-${i}`);
      const [res] = await Promise.all([
        post(
          t.app,
          '/api/v1/metrics',
          mine.map((s) => rec(s)),
        ),
        other.writer.run('pulse.records', packRecords([theirs.map(rec)])),
      ]);
      expect(res.statusCode).toBe(200);
    }
    const numbers = (await roster()).map((r) => Number(r.ordinal));
    expect(numbers).toEqual(Array.from({ length: 82 }, (_, i) => i));
    const m = (await t.app.inject(`/api/v1/classes/race/mastery?from=${day}&to=${day}`)).json();
    expect(m).toMatchObject({ count: 81, students: 81 });
  });
  it('stores the same retried records from two processes at once, in opposite orders, once', async () => {
    const day = '2026-02-04';
    const rec = (n: number, round: number): ValidRecord => ({
      class_id: `retry-${n % 4}`,
      student_id: `s${Math.floor(n / 4) % 10}`,
      stuck: n % 2 === 0 ? 0 : 1,
      got_it: 1,
      pause: 0,
      example: 0,
      confidence: 5,
      ts: `${day}T12:00:${String(n % 60).padStart(2, '0')}.000Z`,
      event_id: `00000000-0000-4000-8000-${String(round * 1000 + n).padStart(12, '0')}`,
    });
    const perRound = 200;
    for (let round = 0; round < 6; round++) {
      const records = Array.from({ length: perRound }, (_, n) => rec(n, round));
      const [res, theirs] = await Promise.all([
        post(t.app, '/api/v1/metrics', records),
        other.writer.run('pulse.records', packRecords([[...records].reverse()])),
      ]);
      expect(res.statusCode).toBe(200);
      const mine = res.json() as { inserted: number; duplicates: number };
      const [their] = theirs.results;
      expect(mine.inserted + their!.inserted).toBe(perRound);
      expect(mine.duplicates + their!.duplicates).toBe(perRound);
    }
    for (let c = 0; c < 4; c++) {
      const m = (await t.app.inject(`/api/v1/classes/retry-${c}/mastery`)).json();
      expect(m).toMatchObject({ count: (6 * perRound) / 4, students: 10 });
    }
  });

  it('stores different records of the same students from two processes in opposite orders', async () => {
    const day = '2026-02-05';
    // Both flushes touch the same (class, day, student) rows, first met in opposite orders.
    const rec = (n: number, second: number): ValidRecord => ({
      class_id: `shared-${n % 40}`,
      student_id: `s${Math.floor(n / 40) % 25}`,
      stuck: 0,
      got_it: 1,
      pause: n % 3 === 0 ? 1 : 0,
      example: 0,
      confidence: 6,
      ts: `${day}T13:${String(n % 60).padStart(2, '0')}:${String(second).padStart(2, '0')}.000Z`,
      event_id: null,
    });
    const perRound = 2000;
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const mine = Array.from({ length: perRound }, (_, n) => rec(n, 2 * round));
      const theirs = Array.from({ length: perRound }, (_, n) => rec(n, 2 * round + 1)).reverse();
      const [res, other_] = await Promise.all([
        post(t.app, '/api/v1/metrics', mine),
        other.writer.run('pulse.records', packRecords([theirs])),
      ]);
      expect(res.statusCode).toBe(200);
      expect(res.json().inserted + other_.results[0]!.inserted).toBe(2 * perRound);
    }
    for (let c = 0; c < 40; c++) {
      const m = (await t.app.inject(`/api/v1/classes/shared-${c}/mastery?by=student`)).json();
      expect(m).toMatchObject({ count: (2 * rounds * perRound) / 40, students: 25 });
    }
  });
});
