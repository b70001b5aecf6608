import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ RULE_PAUSE_RATE_HIGH: '0.9' });
  // A struggling class on 5 January, a thriving one on 6 January.
  const struggling = Array.from({ length: 10 }, (_, i) =>
    record({
      student_id: `s${i}`,
      ts: '2026-01-05T09:00:00Z',
      stuck: i < 7 ? 1 : 0,
      got_it: 0,
      confidence: 3,
      example: 0,
      pause: i < 8 ? 1 : 0,
    }),
  );
  const thriving = Array.from({ length: 10 }, (_, i) =>
    record({
      student_id: `s${i}`,
      ts: '2026-01-06T09:00:00Z',
      stuck: 0,
      got_it: 1,
      confidence: 9,
      example: 1,
      pause: 0,
    }),
  );
  await post(t.app, '/api/v1/metrics', [...struggling, ...thriving]);
});
afterAll(() => t.close());

describe(`GET /api/v1/classes/{class_id}/recommendations (${DIALECT})`, () => {
  it('recommends a recap and examples to a struggling class, most urgent first', async () => {
    const res = await t.app.inject(
      '/api/v1/classes/c1/recommendations?from=2026-01-05&to=2026-01-05',
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.based_on).toMatchObject({
      count: 10,
      students: 10,
      averages: { stuck: 0.7, confidence: 3 },
    });
    expect(
      body.recommendations.map((r: { code: string; priority: string }) => [r.code, r.priority]),
    ).toEqual([
      ['guided_examples', 'high'],
      ['recap_session', 'high'],
    ]);
    const recap = body.recommendations[1];
    expect(recap.rationale).toContain('stuck rate 70% > 30%');
    expect(recap.rationale).toContain('average confidence 3.0 < 5.0');
    expect(recap.title).toBeTruthy();
    expect(recap.action).toBeTruthy();
  });

  it('uses thresholds from configuration (pause limit raised to 0.9 here)', async () => {
    const res = await t.app.inject(
      '/api/v1/classes/c1/recommendations?from=2026-01-05&to=2026-01-05',
    );
    const codes = res.json().recommendations.map((r: { code: string }) => r.code);
    expect(codes).not.toContain('micro_breaks');
    const evidence = res.json().recommendations.flatMap((r: { evidence: unknown[] }) => r.evidence);
    expect(evidence).toContainEqual({
      metric: 'stuck',
      value: 0.7,
      comparison: '>',
      threshold: 0.3,
      triggered: true,
    });
  });

  it('offers enrichment to a thriving class', async () => {
    const res = await t.app.inject('/recommend/c1?from=2026-01-06');
    expect(res.statusCode).toBe(200);
    expect(res.json().recommendations.map((r: { code: string }) => r.code)).toEqual(['enrichment']);
  });

  it('returns no recommendations for an empty window', async () => {
    const res = await t.app.inject('/api/v1/classes/c1/recommendations?from=2030-01-01');
    expect(res.json()).toMatchObject({ based_on: { count: 0 }, recommendations: [] });
  });

  it('answers 404 for an unknown class and 400 for a bad window', async () => {
    expect((await t.app.inject('/api/v1/classes/zz/recommendations')).statusCode).toBe(404);
    const bad = await t.app.inject('/api/v1/classes/c1/recommendations?to=soon');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details).toEqual([{ field: 'to', message: expect.any(String) }]);
  });
});
