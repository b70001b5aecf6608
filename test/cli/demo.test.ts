import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoOptions, generateDemo } from '../../src/demo/generate.ts';
import { loadDemo, type LoadDemoResult } from '../../src/demo/load.ts';
import { LESSON_MINUTES, PERIODS } from '../../src/demo/profiles.ts';
import { validateRecord } from '../../src/modules/pulse/pulse.validation.ts';
import { createTestApp, DIALECT, type TestApp } from '../helpers/app.ts';

// Pinned so that the data, and so the expectations, do not depend on the day the suite runs.
const OPTS: DemoOptions = { classes: 4, students: 30, days: 21, seed: 42, until: '2026-11-20' };
const DESIGNED: Record<string, string> = {
  'math-7a': 'enrichment',
  'physics-8b': 'recap_session',
  'biology-9c': 'guided_examples',
  'history-7b': 'micro_breaks',
};

describe('demo generator', () => {
  const { plan, records } = generateDemo(OPTS);

  it('is deterministic for a seed, and another seed gives other data', () => {
    expect(generateDemo(OPTS).records).toEqual(records);
    const other = generateDemo({ ...OPTS, seed: 7 }).records;
    expect(other.map((r) => r.event_id)).not.toEqual(records.map((r) => r.event_id));
    expect(new Set(records.map((r) => r.event_id)).size).toBe(records.length);
  });

  it('keeps a day’s records the same whatever the window, so re-runs on later days overlap', () => {
    const short = generateDemo({ ...OPTS, days: 5 }).records;
    const days = new Set(short.map((r) => r.ts.slice(0, 10)));
    expect(records.filter((r) => days.has(r.ts.slice(0, 10)))).toEqual(short);
  });

  it('has the promised classes, students and size', () => {
    expect(plan.classes.map((c) => c.id)).toEqual(Object.keys(DESIGNED));
    expect(records.length).toBeGreaterThanOrEqual(10_000);
    expect(records.length).toBeLessThanOrEqual(30_000);
    for (const c of plan.classes) {
      const students = new Set(records.filter((r) => r.class_id === c.id).map((r) => r.student_id));
      expect(students.size).toBe(30);
      expect([...students].every((s) => s.startsWith(`${c.id}-s`))).toBe(true);
    }
    expect(plan.days).toHaveLength(21);
    expect(plan.days.at(-1)).toBe('2026-11-20');
  });

  it('puts every record on a weekday, and every record is valid', () => {
    const now = new Date().toISOString();
    for (const r of records) {
      const t = new Date(r.ts);
      expect([1, 2, 3, 4, 5]).toContain(t.getUTCDay());
      const v = validateRecord(r, now);
      expect(v.ok).toBe(true);
      if (v.ok) expect(v.record).toEqual(r);
    }
    expect(new Set(records.map((r) => r.ts.slice(0, 10)))).toEqual(new Set(plan.days));
  });

  it('lets confidence rise within a lesson', () => {
    const starts = PERIODS.map((p) => Number(p.slice(0, 2)) * 60 + Number(p.slice(3)));
    const early: number[] = [];
    const late: number[] = [];
    for (const r of records) {
      const t = new Date(r.ts);
      const minute = t.getUTCHours() * 60 + t.getUTCMinutes();
      const start = starts.filter((s) => s <= minute).at(-1)!;
      expect(minute - start).toBeLessThan(LESSON_MINUTES);
      (minute - start < LESSON_MINUTES / 2 ? early : late).push(r.confidence);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(late)).toBeGreaterThan(mean(early) + 0.3);
  });
});

describe(`loadDemo through the API (${DIALECT})`, () => {
  let t: TestApp;
  let first: LoadDemoResult;
  beforeAll(async () => {
    t = await createTestApp();
    first = await loadDemo(t.database, OPTS);
  });
  afterAll(() => t.close());

  const get = async (url: string) => {
    const res = await t.app.inject(url);
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it('stores every generated record', async () => {
    const { records } = generateDemo(OPTS);
    expect(first).toMatchObject({
      records: records.length,
      inserted: records.length,
      duplicates: 0,
      rejected: 0,
      students: 120,
      from: records.map((r) => r.ts).sort()[0],
    });
    const { classes } = await get('/api/v1/classes');
    expect(classes.map((c: { class_id: string }) => c.class_id).sort()).toEqual(
      Object.keys(DESIGNED).sort(),
    );
    for (const c of classes) {
      expect(c.students).toBe(30);
      expect(c.records).toBe(first.classes.find((x) => x.id === c.class_id)!.records);
    }
  });

  it('gives each class the top recommendation it was designed for', async () => {
    const tops = new Set<string>();
    for (const [classId, code] of Object.entries(DESIGNED)) {
      const body = await get(`/api/v1/classes/${classId}/recommendations`);
      expect(body.recommendations[0]?.code, classId).toBe(code);
      tops.add(body.recommendations[0].code);
    }
    expect(tops.size).toBe(4);
  });

  it('has clearly struggling students in every class, and most students fine', async () => {
    for (const classId of Object.keys(DESIGNED)) {
      const { by_student } = await get(`/api/v1/classes/${classId}/mastery?by=student`);
      type Row = { averages: { stuck: number; confidence: number; got_it: number } };
      const rows = by_student as Row[];
      expect(rows).toHaveLength(30);
      const struggling = rows.filter((s) => s.averages.stuck >= 0.45 && s.averages.confidence < 5);
      expect(struggling.length, classId).toBeGreaterThanOrEqual(1);
      expect(struggling.every((s) => s.averages.got_it < 0.3)).toBe(true);
      if (classId !== 'physics-8b') {
        const fine = rows.filter((s) => s.averages.stuck < 0.3);
        expect(fine.length, classId).toBeGreaterThan(20);
      }
    }
    const physics = await get('/api/v1/classes/physics-8b/mastery?by=student');
    const stuckMany = (physics.by_student as { averages: { stuck: number } }[]).filter(
      (s) => s.averages.stuck >= 0.45,
    );
    expect(stuckMany.length).toBeGreaterThanOrEqual(5);
  });

  it('gives every class concept mastery from quiz attempts, lower for its struggling students', async () => {
    expect(first.events.inserted).toBe(first.events.total);
    expect(first.events.total).toBeGreaterThan(3000);
    for (const classId of Object.keys(DESIGNED)) {
      const cm = await get(`/api/v1/classes/${classId}/concepts/mastery`);
      expect(cm.concepts.length, classId).toBe(6);
      const means = (cm.concepts as { mean_mastery: number }[]).map((c) => c.mean_mastery);
      expect(Math.max(...means) - Math.min(...means), classId).toBeGreaterThan(5);
      const { by_student } = await get(`/api/v1/classes/${classId}/mastery?by=student`);
      const rows = by_student as { student_id: string; averages: { stuck: number } }[];
      const weak = rows.filter((r) => r.averages.stuck >= 0.45).map((r) => r.student_id);
      const avgMastery = async (ids: string[]) => {
        let sum = 0;
        for (const id of ids) {
          const m = await get(`/api/v1/learners/${id}/mastery`);
          const c = m.concepts as { mastery: number }[];
          sum += c.reduce((a, x) => a + x.mastery, 0) / c.length;
        }
        return sum / ids.length;
      };
      const strong = rows.filter((r) => r.averages.stuck < 0.1).map((r) => r.student_id);
      if (weak.length && strong.length) {
        expect(await avgMastery(weak), classId).toBeLessThan(await avgMastery(strong));
      }
    }
  });

  it('reports every record as a duplicate when loaded again, and changes nothing', async () => {
    const before = await get('/api/v1/classes');
    const again = await loadDemo(t.database, OPTS);
    expect(again).toMatchObject({ inserted: 0, duplicates: first.records, rejected: 0 });
    expect(again.events).toEqual({
      total: first.events.total,
      inserted: 0,
      duplicates: first.events.total,
    });
    expect(await get('/api/v1/classes')).toEqual(before);
  });
});
