/**
 * The migration that brings class_day_stats fills it from the daily student sums of a
 * database that already holds records: whole-day windows answer as they did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const MIGRATION = '2026_12_02_090000_class_day_stats';

describe(`migration ${MIGRATION} (${DIALECT})`, () => {
  it('fills the daily class rows and the rosters from the records already stored', async () => {
    const days = ['2026-03-02', '2026-03-03', '2026-03-04'];
    const rows = [];
    for (let k = 0; k < 12; k++) {
      for (let d = 0; d < days.length; d++) {
        if ((k * 7 + d) % 4 === 0) continue;
        rows.push(
          record({ class_id: `m${k % 2}`, student_id: `p${k}`, ts: `${days[d]}T09:${10 + k}:00Z` }),
        );
      }
    }
    expect((await post(t.app, '/api/v1/metrics', rows)).json().inserted).toBe(rows.length);
    const answers = async () => {
      const out = [];
      for (const c of ['m0', 'm1']) {
        for (const [from, to] of [
          [days[0], days[0]],
          [days[0], days[2]],
          [days[1], days[2]],
        ]) {
          const res = await t.app.inject(`/api/v1/classes/${c}/mastery?from=${from}&to=${to}`);
          out.push(res.json());
        }
        const series = await t.app.inject(
          `/api/v1/classes/${c}/mastery?bucket=day&from=${days[0]}`,
        );
        out.push(series.json());
      }
      return out;
    };
    const before = await answers();

    const db = t.database.db;
    const migrator = await testMigrator(db);
    const down = await migrator.migrateTo('2026_12_01_100000_learning_keys');
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => [r.migrationName, r.direction])).toEqual([
      ['2026_12_04_090000_runs_line', 'Down'],
      ['2026_12_03_140000_student_days_line', 'Down'],
      ['2026_12_03_090000_metric_record_runs', 'Down'],
      [MIGRATION, 'Down'],
    ]);
    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();

    expect(await answers()).toEqual(before);
    const roster = await db
      .selectFrom('class_roster')
      .select(['class_id', 'ordinal'])
      .where('class_id', 'in', ['m0', 'm1'])
      .orderBy('class_id')
      .orderBy('ordinal')
      .execute();
    // each class numbers its 6 students 0..5
    expect(roster.map((r) => [r.class_id, Number(r.ordinal)])).toEqual(
      ['m0', 'm1'].flatMap((c) => [0, 1, 2, 3, 4, 5].map((o) => [c, o])),
    );
  });
});
