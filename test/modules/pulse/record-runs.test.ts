/**
 * Reading a class's records back when one request mixes classes, days and retried records:
 * every record is found under its own class and day, once. On SQLite the writer stores a flush
 * grouped by (class, day) and finds records through their runs of consecutive ids
 * (metric_record_runs); the migration that brought the runs derives them from the records
 * already stored.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildProjections, rederiveRuns } from '../../../src/modules/pulse/pulse.store.ts';
import {
  createTestApp,
  DIALECT,
  post,
  record,
  type TestApp,
  testMigrator,
} from '../../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const CLASSES = ['r0', 'r1', 'r2'];
const DAYS = ['2026-05-04', '2026-05-05'];

/** Records of three classes over two days, interleaved, some of them sent twice. */
function mixed(seed: number) {
  const rows: Record<string, unknown>[] = [];
  for (let k = 0; k < 60; k++) {
    const c = CLASSES[(k * 7 + seed) % 3]!;
    const day = DAYS[(k + seed) % 2]!;
    const minute = String(k % 60).padStart(2, '0');
    rows.push(
      record({
        class_id: c,
        student_id: `${c}-s${k % 5}`,
        stuck: k % 3 === 0 ? 1 : 0,
        confidence: 1 + (k % 10),
        ts: `${day}T10:${minute}:0${seed}Z`,
        event_id: k % 4 === 0 ? randomUUID() : undefined,
      }),
    );
  }
  // retried copies of some keyed records, in the middle of the batch
  const retries = rows.filter((r) => r.event_id !== undefined).slice(0, 5);
  rows.splice(30, 0, ...retries);
  return { rows, retries: retries.length };
}

async function exportOf(classId: string, query = ''): Promise<Record<string, unknown>[]> {
  const res = await t.app.inject(`/api/v1/classes/${classId}/export?format=ndjson${query}`);
  expect(res.statusCode).toBe(200);
  return res.body
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** SQLite: every record lies in exactly one run, and that run names its class and day. */
async function expectExactRuns() {
  const r = (
    await sql<{ pairs: number; ids: number; matching: number; n: number }>`select
      count(*) as pairs, count(distinct m.id) as ids,
      sum(m.class_id = r.class_id and substr(m.ts, 1, 10) = r.day) as matching,
      (select count(*) from metric_records) as n
    from metric_record_runs r join metric_records m on m.id between r.first_id and r.last_id`.execute(
      t.database.db,
    )
  ).rows[0]!;
  expect(r).toEqual({ pairs: r.n, ids: r.n, matching: r.n, n: r.n });
  expect(r.n).toBeGreaterThan(0);
}

async function answers() {
  const out: unknown[] = [];
  for (const c of CLASSES) {
    out.push(await exportOf(c));
    // a window with partial days at both edges: read from the log, not the daily sums
    for (const q of [
      `from=${DAYS[0]}T10:20:00Z&to=${DAYS[1]}T10:40:00Z`,
      `from=${DAYS[1]}T10:05:00Z&to=${DAYS[1]}T10:50:00Z`,
    ]) {
      out.push((await t.app.inject(`/api/v1/classes/${c}/mastery?${q}&by=student`)).json());
      out.push(await exportOf(c, `&${q}`));
    }
  }
  return out;
}

describe(`records of a class read back (${DIALECT})`, () => {
  const sent: Record<string, unknown>[] = [];

  it('finds each record under its class and day once, in time order', async () => {
    for (const seed of [1, 2]) {
      const { rows, retries } = mixed(seed);
      const res = await post(t.app, '/api/v1/metrics', rows);
      expect(res.json()).toMatchObject({ inserted: rows.length - retries, duplicates: retries });
      sent.push(...rows.slice(0, 30), ...rows.slice(30 + retries));
    }
    // records stored by an earlier request, sent again amid new records of their classes
    const stored = sent.filter((r) => r.event_id !== undefined).slice(0, 6);
    const { rows: fresh, retries } = mixed(4);
    const third = [...fresh.slice(0, 20), ...stored, ...fresh.slice(20)];
    expect((await post(t.app, '/api/v1/metrics', third)).json()).toMatchObject({
      inserted: fresh.length - retries,
      duplicates: stored.length + retries,
    });
    sent.push(...fresh.slice(0, 30), ...fresh.slice(30 + retries));
    for (const c of CLASSES) {
      const got = await exportOf(c);
      const want = sent.filter((r) => r.class_id === c);
      expect(got).toHaveLength(want.length);
      expect(got.every((r) => r.class_id === c)).toBe(true);
      const key = (r: Record<string, unknown>) =>
        `${new Date(String(r.ts)).toISOString()} ${String(r.student_id)}`;
      expect(got.map(key).sort()).toEqual(want.map(key).sort());
      const order = got.map((r) => `${String(r.ts)} ${String(r.id).padStart(9, '0')}`);
      expect(order).toEqual([...order].sort());
    }
    // a window holding part of a day counts exactly the records inside it
    const from = `${DAYS[1]}T10:05:00Z`;
    const to = `${DAYS[1]}T10:50:00Z`;
    for (const c of CLASSES) {
      const res = await t.app.inject(`/api/v1/classes/${c}/mastery?from=${from}&to=${to}`);
      const inside = sent.filter(
        (r) => r.class_id === c && String(r.ts) >= from && String(r.ts) < to,
      );
      expect(res.json().count).toBe(inside.length);
      expect(inside.length).toBeGreaterThan(0);
    }
  });

  it('stores long stretches of records without an event_id, each once under its class', async () => {
    // Three keyed records break the stretches of the (class, day) groups.
    const rows = Array.from({ length: 173 }, (_, k) =>
      record({
        class_id: `b${k % 2}`,
        student_id: `b-s${k % 7}`,
        confidence: 1 + (k % 10),
        ts: `${DAYS[k % 3 === 0 ? 0 : 1]}T09:${String(k % 60).padStart(2, '0')}:0${k % 10}Z`,
        event_id: k === 40 || k === 41 || k === 150 ? randomUUID() : undefined,
      }),
    );
    expect((await post(t.app, '/api/v1/metrics', rows)).json()).toMatchObject({
      inserted: rows.length,
      duplicates: 0,
    });
    const key = (r: Record<string, unknown>) =>
      `${new Date(String(r.ts)).toISOString()} ${String(r.student_id)} ${String(r.confidence)}`;
    for (const c of ['b0', 'b1']) {
      const got = await exportOf(c);
      expect(got.map(key).sort()).toEqual(
        rows
          .filter((r) => r.class_id === c)
          .map(key)
          .sort(),
      );
    }
    if (DIALECT === 'sqlite') await expectExactRuns();
  });

  it.skipIf(DIALECT !== 'sqlite')(
    'SQLite: a flush stores each (class, day) as one run of ids',
    async () => {
      const db = t.database.db;
      const before = await db.selectFrom('metric_record_runs').select('first_id').execute();
      const { rows, retries } = mixed(3);
      expect((await post(t.app, '/api/v1/metrics', rows)).json().inserted).toBe(
        rows.length - retries,
      );
      // The writer holds the newest runs for up to a second; a read of the log has it write
      // them out first.
      await exportOf('r0');
      const runs = await db
        .selectFrom('metric_record_runs')
        .selectAll()
        .where('first_id', 'not in', before.length ? before.map((r) => r.first_id) : [-1])
        .execute();
      // 3 classes × 2 days, each group's records at consecutive ids
      expect(runs).toHaveLength(6);
      expect(runs.reduce((n, r) => n + r.last_id - r.first_id + 1, 0)).toBe(rows.length - retries);
      await expectExactRuns();
      for (const r of runs) {
        const ids = await db
          .selectFrom('metric_records')
          .select('id')
          .where('class_id', '=', r.class_id)
          .where(sql<string>`substr(ts, 1, 10)`, '=', r.day)
          .where('id', '>=', r.first_id)
          .orderBy('id')
          .execute();
        const inRun = ids.map((x) => Number(x.id)).filter((id) => id <= r.last_id);
        expect(inRun).toEqual(
          Array.from({ length: r.last_id - r.first_id + 1 }, (_, k) => r.first_id + k),
        );
      }
    },
  );
  if (DIALECT !== 'sqlite') {
    console.warn('record-runs.test.ts: the run layout test is skipped: PostgreSQL has no runs');
  }

  it('answers the same after the migration to runs is taken down and up again', async () => {
    const before = await answers();
    const db = t.database.db;
    const migrator = await testMigrator(db);
    const down = await migrator.migrateTo('2026_12_02_090000_class_day_stats');
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => r.migrationName)).toEqual([
      '2026_12_04_090000_runs_line',
      '2026_12_03_140000_student_days_line',
      '2026_12_03_090000_metric_record_runs',
    ]);
    // Records laid out as an older version stored them: two classes' records alternating.
    const old = Array.from({ length: 10 }, (_, k) => ({
      class_id: `old${k % 2}`,
      student_id: `o${k % 3}`,
      stuck: 0,
      got_it: 1,
      pause: 0,
      example: k % 2,
      confidence: 5,
      ts: `${DAYS[k % 2 === 0 ? 0 : 1]}T11:0${k}:00.000Z`,
      event_id: null,
      received_at: `${DAYS[1]}T12:00:00.000Z`,
    }));
    await db.insertInto('metric_records').values(old).execute();
    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();
    expect(await answers()).toEqual(before);
    if (DIALECT === 'sqlite') {
      // the derived runs cover every record exactly once; the alternating ones one run each
      await expectExactRuns();
      const oldRuns = await db
        .selectFrom('metric_record_runs')
        .select('first_id')
        .where('class_id', 'in', ['old0', 'old1'])
        .execute();
      expect(oldRuns).toHaveLength(10);
    }
    // the projections rebuilt from the log find the old records under their classes
    await rebuildProjections(db, DIALECT);
    for (const c of ['old0', 'old1']) {
      const got = await exportOf(c);
      expect(got.map((r) => r.ts)).toEqual(old.filter((r) => r.class_id === c).map((r) => r.ts));
    }
    expect(await answers()).toEqual(before);
  });

  it('finds records that another program stored without runs once recompute has run', async () => {
    const db = t.database.db;
    const before = await answers();
    // as an older server sharing the file would store them: log rows only
    const outside = [0, 1, 2].map((k) => ({
      class_id: 'r1',
      student_id: `outside${k}`,
      stuck: 1,
      got_it: 0,
      pause: 0,
      example: 0,
      confidence: 3,
      ts: `${DAYS[1]}T10:4${k}:30.000Z`,
      event_id: null,
      received_at: `${DAYS[1]}T12:00:00.000Z`,
    }));
    await db.insertInto('metric_records').values(outside).execute();
    // the next records of the class come through the server, at higher ids
    const after = record({ class_id: 'r1', student_id: 'next', ts: `${DAYS[1]}T10:48:00Z` });
    expect((await post(t.app, '/api/v1/metrics', [after])).json().inserted).toBe(1);
    await rebuildProjections(db, DIALECT);
    if (DIALECT === 'sqlite') await expectExactRuns();
    const got = (await exportOf('r1')).map((r) => r.student_id);
    for (const s of ['outside0', 'outside1', 'outside2', 'next']) expect(got).toContain(s);
    expect(await answers()).not.toEqual(before);
    const res = await t.app.inject(
      `/api/v1/classes/r1/mastery?from=${DAYS[1]}T10:40:00Z&to=${DAYS[1]}T10:50:00Z&by=student`,
    );
    const students = (res.json().by_student as { student_id: string }[]).map((x) => x.student_id);
    for (const s of ['outside0', 'outside1', 'outside2', 'next']) expect(students).toContain(s);
  });

  it.skipIf(DIALECT !== 'sqlite')(
    'SQLite: runs derived again in small id ranges still cover each record once',
    async () => {
      const before = await answers();
      // ranges of 7 ids cut many runs at their edges
      await rederiveRuns(t.database.db, 7);
      await expectExactRuns();
      expect(await answers()).toEqual(before);
      await rederiveRuns(t.database.db);
      await expectExactRuns();
      expect(await answers()).toEqual(before);
    },
  );
});
