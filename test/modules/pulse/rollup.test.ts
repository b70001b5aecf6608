import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollUpTo } from '../../../src/modules/pulse/pulse.store.ts';
import { createTestApp, DIALECT, post, record, type TestApp } from '../../helpers/app.ts';

/**
 * class_students holds the days before the roll-up line and reads of all time add the daily
 * sums from the line on. Whatever the line, every answer must stay what the log says.
 */
let t: TestApp;
const today = new Date().toISOString().slice(0, 10);
const dayAfter = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

const history = [
  record({ class_id: 'r1', student_id: 'a', ts: '2026-01-05T08:00:00Z', stuck: 1, confidence: 2 }),
  record({ class_id: 'r1', student_id: 'b', ts: '2026-01-06T09:00:00Z', got_it: 0, confidence: 4 }),
  record({ class_id: 'r2', student_id: 'a', ts: '2026-01-06T10:00:00Z', pause: 1, confidence: 9 }),
];
// Records of today (no ts: the server's time) are in the daily sums only, until the next roll-up.
const live = [
  record({ class_id: 'r1', student_id: 'a', confidence: 7 }),
  record({ class_id: 'r1', student_id: 'c', stuck: 1, confidence: 3 }),
];

async function snapshot() {
  const get = async (url: string) => (await t.app.inject(url)).json();
  return {
    all: await get('/api/v1/classes/r1/mastery?by=student'),
    totals: await get('/api/v1/classes/r1/mastery'),
    window: await get(`/api/v1/classes/r1/mastery?from=2026-01-06&to=${today}`),
    series: await get('/api/v1/classes/r1/mastery?bucket=day'),
    classes: await get('/api/v1/classes'),
    recommend: await get('/api/v1/classes/r1/recommendations'),
  };
}

beforeAll(async () => {
  t = await createTestApp();
  expect((await post(t.app, '/api/v1/metrics', history)).json().inserted).toBe(3);
  expect((await post(t.app, '/api/v1/metrics', live)).json().inserted).toBe(2);
});
afterAll(() => t.close());

describe(`roll-up of finished days into class_students (${DIALECT})`, () => {
  it('counts today’s records in all-time answers before any roll-up', async () => {
    const s = await snapshot();
    expect(s.totals).toMatchObject({ count: 4, students: 3 });
    expect(s.all.by_student.map((x: { student_id: string }) => x.student_id)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(s.all.by_student[0]).toMatchObject({ student_id: 'a', count: 2 });
    expect(s.all.averages.confidence).toBeCloseTo((2 + 4 + 7 + 3) / 4, 4);
    expect(s.classes.classes).toEqual([
      expect.objectContaining({ class_id: 'r1', records: 4, students: 3 }),
      expect.objectContaining({ class_id: 'r2', records: 1, students: 1 }),
    ]);
  });

  it('gives the same answers once the days are rolled up, and when nothing is left to roll', async () => {
    const before = await snapshot();
    const { db, dialect } = t.database;
    await rollUpTo(db, dialect, dayAfter(today, 1));
    expect(await snapshot()).toEqual(before);
    await rollUpTo(db, dialect, dayAfter(today, 1));
    await rollUpTo(db, dialect, today); // never moves back
    expect(await snapshot()).toEqual(before);
  });

  it('adds a late record of a rolled-up day to both projections, exactly once', async () => {
    const late = record({ class_id: 'r1', student_id: 'b', ts: '2026-01-05T23:00:00Z' });
    expect((await post(t.app, '/api/v1/metrics', late)).json().inserted).toBe(1);
    const s = await snapshot();
    expect(s.totals).toMatchObject({ count: 5, students: 3 });
    expect(s.all.by_student[1]).toMatchObject({ student_id: 'b', count: 2 });
    const day = s.series.series.find((d: { day: string }) => d.day === '2026-01-05');
    expect(day).toMatchObject({ count: 2, students: 2 });
  });

  it('counts a record of a day after the line (a clock ahead) in all-time answers', async () => {
    // Tomorrow's first instant: intake takes up to 24 hours ahead, so it is taken at any hour.
    const ahead = record({
      class_id: 'r1',
      student_id: 'd',
      ts: `${dayAfter(today, 1)}T00:00:00Z`,
    });
    expect((await post(t.app, '/api/v1/metrics', ahead)).json().inserted).toBe(1);
    expect((await snapshot()).totals).toMatchObject({ count: 6, students: 4 });
  });

  it('rebuilds the same projections from the log (learntwin recompute)', async () => {
    const before = await snapshot();
    await t.app.services.pulse.recompute();
    expect(await snapshot()).toEqual(before);
  });
});
