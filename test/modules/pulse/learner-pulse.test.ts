import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, type TestApp } from '../../helpers/app.ts';
import { signedIn } from '../../helpers/auth.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  const rows = [
    record({
      class_id: 'p1',
      student_id: 'kim',
      stuck: 1,
      got_it: 0,
      confidence: 3,
      ts: '2026-03-02T09:00:00Z',
    }),
    record({
      class_id: 'p1',
      student_id: 'kim',
      stuck: 0,
      got_it: 1,
      confidence: 7,
      ts: '2026-03-02T10:00:00Z',
    }),
    record({
      class_id: 'p2',
      student_id: 'kim',
      stuck: 0,
      got_it: 1,
      confidence: 8,
      ts: '2026-03-02T23:59:59Z',
    }),
    record({
      class_id: 'p2',
      student_id: 'kim',
      stuck: 0,
      got_it: 1,
      confidence: 9,
      ts: '2026-03-04T08:00:00Z',
    }),
    record({
      class_id: 'p1',
      student_id: 'lou',
      stuck: 1,
      got_it: 0,
      confidence: 2,
      ts: '2026-03-02T09:00:00Z',
    }),
  ];
  expect((await post(t.app, '/api/v1/metrics', rows)).json().inserted).toBe(5);
});
afterAll(() => t.close());

const pulse = (user: string, q = '', headers?: Record<string, string>) =>
  t.app.inject({ url: `/api/v1/learners/${user}/pulse${q}`, headers });

describe(`GET /api/v1/learners/{user_id}/pulse (${DIALECT})`, () => {
  it("gives one student's signals per day across classes, and only theirs", async () => {
    const res = await pulse('kim');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.count).toBe(4);
    expect(body.averages).toEqual({
      stuck: 0.25,
      got_it: 0.75,
      pause: 0,
      example: 1,
      confidence: 6.75,
    });
    expect(body.series.map((d: { day: string; count: number }) => [d.day, d.count])).toEqual([
      ['2026-03-02', 3],
      ['2026-03-04', 1],
    ]);
    expect(body.series[0].averages.confidence).toBe(6);
  });

  it('counts whole UTC days inside the window', async () => {
    const res = await pulse('kim', '?from=2026-03-03&to=2026-03-04');
    expect(res.json()).toMatchObject({
      count: 1,
      from: '2026-03-03T00:00:00.000Z',
      to: '2026-03-05T00:00:00.000Z',
    });
    const touched = await pulse('kim', '?from=2026-03-02T12:00:00Z&to=2026-03-02T13:00:00Z');
    expect(touched.json().count).toBe(3);
    const quiet = await pulse('kim', '?from=2026-04-01');
    expect(quiet.statusCode).toBe(200);
    expect(quiet.json()).toMatchObject({ count: 0, series: [], averages: { stuck: null } });
  });

  it('answers 404 for a learner without signals and 400 for a bad window', async () => {
    expect((await pulse('nobody')).statusCode).toBe(404);
    const bad = await pulse('kim', '?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe('from');
  });

  it('lets the learner see their own pulse and nobody else’s', async () => {
    const kim = await signedIn(t, 'learner', { learner_id: 'kim', classes: ['p2'] });
    expect((await pulse('kim', '', kim.headers)).statusCode).toBe(200);
    expect((await pulse('lou', '', kim.headers)).statusCode).toBe(403);
    // Teachers reach the learners on their class's roster; lou has data in p1 but is on no roster.
    const teacher = await signedIn(t, 'instructor', { classes: ['p2', 'p1'] });
    expect((await pulse('kim', '', teacher.headers)).statusCode).toBe(200);
    expect((await pulse('lou', '', teacher.headers)).statusCode).toBe(403);
  });
});
