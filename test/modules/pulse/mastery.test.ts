import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, type TestApp } from '../../helpers/app.ts';

let t: TestApp;

// Two days of records around midnight, for window boundaries.
const rows = [
  record({ student_id: 'a', ts: '2026-01-05T00:00:00Z', stuck: 1, got_it: 0, confidence: 2 }),
  record({ student_id: 'a', ts: '2026-01-05T12:00:00Z', stuck: 0, got_it: 1, confidence: 6 }),
  record({
    student_id: 'b',
    ts: '2026-01-05T23:59:59.999Z',
    stuck: 1,
    got_it: 0,
    confidence: 4,
    example: 0,
  }),
  record({
    student_id: 'b',
    ts: '2026-01-06T00:00:00Z',
    stuck: 0,
    got_it: 1,
    confidence: 8,
    pause: 1,
  }),
  record({ student_id: 'c', ts: '2026-01-06T10:30:00+02:00', stuck: 0, got_it: 1, confidence: 10 }),
  record({ student_id: 'c', ts: '2026-01-07T09:00:00Z', stuck: 0, got_it: 1, confidence: 9 }),
];

beforeAll(async () => {
  t = await createTestApp();
  const res = await post(t.app, '/api/v1/metrics', rows);
  expect(res.json().inserted).toBe(rows.length);
});
afterAll(() => t.close());

const get = async (url: string) => t.app.inject(url);
const mastery = async (q = '') => (await get(`/api/v1/classes/c1/mastery${q}`)).json();

describe(`GET /api/v1/classes/{class_id}/mastery (${DIALECT})`, () => {
  it('averages the whole history', async () => {
    const m = await mastery();
    expect(m).toMatchObject({
      class_id: 'c1',
      count: 6,
      students: 3,
      from: null,
      to: null,
      first_ts: '2026-01-05T00:00:00.000Z',
      last_ts: '2026-01-07T09:00:00.000Z',
    });
    expect(m.averages.stuck).toBeCloseTo(2 / 6, 4);
    expect(m.averages.got_it).toBeCloseTo(4 / 6, 4);
    expect(m.averages.pause).toBeCloseTo(1 / 6, 4);
    expect(m.averages.example).toBeCloseTo(5 / 6, 4);
    expect(m.averages.confidence).toBeCloseTo(39 / 6, 4);
    expect(m.by_student).toBeUndefined();
    expect(m.series).toBeUndefined();
  });

  it('includes the whole UTC day of a date-only `to` and starts `from` at 00:00', async () => {
    const m = await mastery('?from=2026-01-05&to=2026-01-05');
    expect(m.count).toBe(3);
    expect(m.from).toBe('2026-01-05T00:00:00.000Z');
    expect(m.to).toBe('2026-01-06T00:00:00.000Z');
    expect((await mastery('?from=2026-01-06')).count).toBe(3);
  });

  it('keeps a date-time `to` exclusive and `from` inclusive', async () => {
    expect((await mastery('?to=2026-01-06T00:00:00Z')).count).toBe(3);
    expect((await mastery('?to=2026-01-06T00:00:00.001Z')).count).toBe(4);
    expect((await mastery('?from=2026-01-05T23:59:59.999Z&to=2026-01-06T08:30:00Z')).count).toBe(2);
    expect((await mastery('?from=2026-01-05T12:00:00Z&to=2026-01-05T12:00:00.001Z')).count).toBe(1);
  });

  it('reads ragged windows across several days the same as the log says', async () => {
    const m = await mastery('?from=2026-01-05T06:00:00Z&to=2026-01-07T08:00:00Z');
    expect(m.count).toBe(4);
    expect(m.students).toBe(3);
    expect(m.first_ts).toBe('2026-01-05T12:00:00.000Z');
    expect(m.last_ts).toBe('2026-01-06T08:30:00.000Z');
    expect(m.averages.confidence).toBeCloseTo((6 + 4 + 8 + 10) / 4, 4);
  });

  it('answers a known class with an empty window with count 0 and null averages', async () => {
    const m = await mastery('?from=2027-01-01');
    expect(m).toMatchObject({
      count: 0,
      students: 0,
      first_ts: null,
      last_ts: null,
      averages: { stuck: null, got_it: null, pause: null, example: null, confidence: null },
    });
  });

  it('breaks down by student', async () => {
    const m = await mastery('?by=student&from=2026-01-05&to=2026-01-05');
    expect(
      m.by_student.map((s: { student_id: string; count: number }) => [s.student_id, s.count]),
    ).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(m.by_student[0].averages).toMatchObject({ stuck: 0.5, confidence: 4 });
  });

  it('adds a daily series', async () => {
    const m = await mastery('?bucket=day&from=2026-01-05T12:00:00Z');
    expect(
      m.series.map((d: { day: string; count: number; students: number }) => [
        d.day,
        d.count,
        d.students,
      ]),
    ).toEqual([
      ['2026-01-05', 2, 2],
      ['2026-01-06', 2, 2],
      ['2026-01-07', 1, 1],
    ]);
    expect(m.series[1].averages.confidence).toBe(9);
  });

  it('is also served at the seed path /mastery/{class_id}', async () => {
    const res = await get('/mastery/c1?from=2026-01-06');
    expect(res.statusCode).toBe(200);
    expect(res.json().count).toBe(3);
  });

  it('answers 404 for a class without records', async () => {
    const res = await get('/api/v1/classes/nobody/mastery');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });

  it('answers 400 naming the field for bad windows and options', async () => {
    for (const [q, field] of [
      ['?from=yesterday', 'from'],
      ['?to=2026-02-30', 'to'],
      ['?from=2026-01-07&to=2026-01-06', 'to'],
      ['?by=teacher', 'by'],
      ['?bucket=hour', 'bucket'],
    ]) {
      const res = await get(`/api/v1/classes/c1/mastery${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.details[0].field, q).toBe(field);
    }
  });

  it('sees a record right after it was written', async () => {
    await post(t.app, '/api/v1/metrics', record({ class_id: 'fresh', confidence: 3 }));
    expect((await get('/api/v1/classes/fresh/mastery')).json().averages.confidence).toBe(3);
  });
});

describe(`whole-day windows count each student once (${DIALECT})`, () => {
  // 20 students over 5 days, each present on a pattern of days: sets span several bytes.
  const DAYS = ['2026-02-01', '2026-02-02', '2026-02-03', '2026-02-04', '2026-02-05'];
  const present = (k: number, d: number) => (k + d) % 3 === 0 || k === d * 4;
  const recordsOf = (k: number) => 1 + (k % 2);
  const expected = (a: number, b: number) => {
    const students = new Set<number>();
    let count = 0;
    for (let d = a; d <= b; d++) {
      for (let k = 0; k < 20; k++) {
        if (!present(k, d)) continue;
        students.add(k);
        count += recordsOf(k);
      }
    }
    return { count, students: students.size };
  };
  const window = async (a: number, b: number) =>
    (await get(`/api/v1/classes/many/mastery?from=${DAYS[a]}&to=${DAYS[b]}`)).json();
  const everyWindow = async () => {
    const out: unknown[] = [];
    for (let a = 0; a < DAYS.length; a++) {
      for (let b = a; b < DAYS.length; b++) {
        const m = await window(a, b);
        out.push([a, b, m.count, m.students, m.averages.confidence]);
      }
    }
    return out;
  };

  beforeAll(async () => {
    const all: Record<string, unknown>[] = [];
    for (let d = 0; d < DAYS.length; d++) {
      for (let k = 0; k < 20; k++) {
        if (!present(k, d)) continue;
        for (let r = 0; r < recordsOf(k); r++) {
          all.push(
            record({
              class_id: 'many',
              student_id: `m${k}`,
              ts: `${DAYS[d]}T${String(8 + r).padStart(2, '0')}:00:00Z`,
              confidence: 1 + ((k + r) % 10),
            }),
          );
        }
      }
    }
    // newest day first, in three requests: students join the roster over several flushes
    all.reverse();
    const third = Math.ceil(all.length / 3);
    for (let i = 0; i < all.length; i += third) {
      const res = await post(t.app, '/api/v1/metrics', all.slice(i, i + third));
      expect(res.statusCode).toBe(200);
    }
  });

  it('answers every window of whole days with its distinct students', async () => {
    for (let a = 0; a < DAYS.length; a++) {
      for (let b = a; b < DAYS.length; b++) {
        const m = await window(a, b);
        expect({ count: m.count, students: m.students }, `${DAYS[a]}..${DAYS[b]}`).toEqual(
          expected(a, b),
        );
        // the per-student breakdown (another path) agrees
        const by = (
          await get(`/api/v1/classes/many/mastery?from=${DAYS[a]}&to=${DAYS[b]}&by=student`)
        ).json();
        expect(by.by_student.length).toBe(m.students);
      }
    }
    const series = (
      await get(`/api/v1/classes/many/mastery?from=${DAYS[0]}&to=${DAYS[4]}&bucket=day`)
    ).json().series;
    expect(series.map((d: { day: string; students: number }) => [d.day, d.students])).toEqual(
      DAYS.map((day, d) => [day, expected(d, d).students]),
    );
  });

  it('adds a late record and a new student to the day they belong to', async () => {
    await post(t.app, '/api/v1/metrics', [
      record({ class_id: 'many', student_id: 'm1', ts: `${DAYS[0]}T20:00:00Z` }),
      record({ class_id: 'many', student_id: 'newcomer', ts: `${DAYS[0]}T21:00:00Z` }),
    ]);
    const first = expected(0, 0);
    const present1 = present(1, 0) ? 0 : 1;
    expect(await window(0, 0)).toMatchObject({
      count: first.count + 2,
      students: first.students + 1 + present1,
    });
    const all = expected(0, 4);
    expect((await window(0, 4)).students).toBe(all.students + 1);
  });

  it('is rebuilt from the log when the daily class rows are wrong', async () => {
    const before = await everyWindow();
    await t.database.db
      .updateTable('class_day_stats')
      .set({ n: 99 })
      .where('class_id', '=', 'many')
      .execute();
    await t.database.db
      .deleteFrom('class_day_stats')
      .where('class_id', '=', 'many')
      .where('day', '=', DAYS[2]!)
      .execute();
    expect(await everyWindow()).not.toEqual(before);
    await t.app.services.pulse.recompute();
    expect(await everyWindow()).toEqual(before);
  });
});

describe(`GET /api/v1/classes (${DIALECT})`, () => {
  it('lists classes with record counts, students and last activity', async () => {
    const res = await get('/api/v1/classes');
    expect(res.statusCode).toBe(200);
    const c1 = res.json().classes.find((c: { class_id: string }) => c.class_id === 'c1');
    expect(c1).toEqual({
      class_id: 'c1',
      records: 6,
      students: 3,
      first_ts: '2026-01-05T00:00:00.000Z',
      last_ts: '2026-01-07T09:00:00.000Z',
    });
  });
});

describe(`recompute (${DIALECT})`, () => {
  it('rebuilds the projections from the log to exactly the incremental state', async () => {
    const before = await Promise.all(
      ['', '?by=student&bucket=day', '?from=2026-01-05T06:00:00Z&to=2026-01-07'].map(mastery),
    );
    const list = (await get('/api/v1/classes')).json();
    const result = await t.app.services.pulse.recompute();
    expect(result.duration_ms).toBeGreaterThanOrEqual(0);
    const after = await Promise.all(
      ['', '?by=student&bucket=day', '?from=2026-01-05T06:00:00Z&to=2026-01-07'].map(mastery),
    );
    expect(after).toEqual(before);
    expect((await get('/api/v1/classes')).json()).toEqual(list);
  });

  it('rebuilds class by class while records keep arriving, and clears classes without records', async () => {
    // projection rows of a class whose records are gone
    const sums = { n: 1, stuck: 1, got_it: 0, pause: 0, example: 0, confidence_sum: 5 };
    const at = { first_ts: '2026-01-05T09:00:00.000Z', last_ts: '2026-01-05T09:00:00.000Z' };
    await t.database.db
      .insertInto('class_student_day_stats')
      .values({ class_id: 'ghost', day: '2026-01-05', student_id: 'g', ...sums, ...at })
      .execute();
    await t.database.db
      .insertInto('class_students')
      .values({ class_id: 'zz-ghost', student_id: 'g', ...sums, ...at })
      .execute();
    const classes = Array.from({ length: 12 }, (_, i) => `busy-${i}`);
    const batch = (k: number) =>
      classes.map((c, i) =>
        record({
          class_id: c,
          student_id: `s${(i + k) % 5}`,
          ts: `2026-01-0${1 + (k % 7)}T10:00:00Z`,
        }),
      );
    await post(t.app, '/api/v1/metrics', batch(0));
    // records posted while the rebuild runs are counted once, whichever class it is on
    const [rebuilt, ...posted] = await Promise.all([
      t.app.services.pulse.recompute(),
      ...Array.from({ length: 8 }, (_, k) => post(t.app, '/api/v1/metrics', batch(k + 1))),
    ]);
    expect(posted.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect(rebuilt.classes).toBeGreaterThanOrEqual(classes.length + 1);
    for (const c of classes) {
      expect((await get(`/api/v1/classes/${c}/mastery`)).json().count).toBe(9);
    }
    expect((await get('/api/v1/classes/ghost/mastery')).statusCode).toBe(404);
    const listed = (await get('/api/v1/classes')).json();
    expect(JSON.stringify(listed)).not.toContain('ghost');
    // and a second rebuild finds nothing to change
    const detail = () =>
      Promise.all(
        classes.map(async (c) =>
          (await get(`/api/v1/classes/${c}/mastery?by=student&bucket=day`)).json(),
        ),
      );
    const snapshot = await detail();
    await t.app.services.pulse.recompute();
    const again = await detail();
    expect(again).toEqual(snapshot);
  });

  it('repairs every class, whatever the case of its id, including one only in the roll-up', async () => {
    const names = ['Bq', 'aq', 'Zq', 'mq'];
    await post(
      t.app,
      '/api/v1/metrics',
      names.map((c) => record({ class_id: c, ts: new Date().toISOString() })),
    );
    // a class of old days only: its sums are in the roll-up and nowhere else
    await post(t.app, '/api/v1/metrics', record({ class_id: 'Old', ts: '2025-03-01T10:00:00Z' }));
    // projections gone wrong
    await t.database.db
      .updateTable('class_student_day_stats')
      .set({ n: 40 })
      .where('class_id', 'in', names)
      .execute();
    await t.database.db
      .updateTable('class_students')
      .set({ n: 40 })
      .where('class_id', '=', 'Old')
      .execute();
    await t.app.services.pulse.recompute();
    for (const c of [...names, 'Old']) {
      expect((await get(`/api/v1/classes/${c}/mastery`)).json().count, c).toBe(1);
    }
  });
});
