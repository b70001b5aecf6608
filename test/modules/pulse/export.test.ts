import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
const ODD = 'a,b "quoted"\nnew line ünïcødé 😀';
const HEADER = [
  'id',
  'class_id',
  'student_id',
  'stuck',
  'got_it',
  'pause',
  'example',
  'confidence',
  'ts',
  'event_id',
];

beforeAll(async () => {
  t = await createTestApp();
  await post(t.app, '/api/v1/metrics', [
    record({ class_id: ODD, student_id: 'x\r\ny', ts: '2026-01-06T08:00:00Z' }),
    record({
      class_id: ODD,
      student_id: '=1+2',
      ts: '2026-01-05T08:00:00Z',
      event_id: '0190f5c4-8a8e-7c52-9d3e-5b1a2c3d4e5f',
      confidence: 7.5,
    }),
    record({ class_id: 'plain', ts: '2026-01-05T08:00:00Z' }),
  ]);
  // Enough rows to span several pages of the streaming reader.
  const many = Array.from({ length: 4500 }, (_, i) =>
    record({
      class_id: 'many',
      student_id: `s${i % 30}`,
      ts: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    }),
  );
  await post(t.app, '/api/v1/metrics', many);
  // More than a page (10,000) of one day, sent out of time order, and a little of the next.
  const big = Array.from({ length: 23_000 }, (_, i) =>
    record({
      class_id: 'big',
      student_id: `s${i % 30}`,
      ts: new Date(Date.UTC(2026, 1, 1) + ((i * 7919) % 23_000) * 4_000).toISOString(),
    }),
  );
  for (let i = 0; i < big.length; i += 10_000) {
    expect((await post(t.app, '/api/v1/metrics', big.slice(i, i + 10_000))).json().inserted).toBe(
      Math.min(10_000, big.length - i),
    );
  }
});
afterAll(() => t.close());

const url = (classId: string, q = '') =>
  `/api/v1/classes/${encodeURIComponent(classId)}/export${q}`;

describe(`GET /api/v1/classes/{class_id}/export (${DIALECT})`, () => {
  it('streams RFC 4180 CSV that round-trips odd ids', async () => {
    const res = await t.app.inject(url(ODD));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="[^"\n]+\.csv"; filename\*=UTF-8''/,
    );
    expect(res.body.startsWith(`${HEADER.join(',')}\r\n`)).toBe(true);
    expect(res.body).toContain('"a,b ""quoted""\nnew line ünïcødé 😀"');
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.student_id)).toEqual(['=1+2', 'x\r\ny']);
    expect(rows[0]).toMatchObject({
      class_id: ODD,
      stuck: '0',
      got_it: '1',
      confidence: '7.5',
      ts: '2026-01-05T08:00:00.000Z',
      event_id: '0190f5c4-8a8e-7c52-9d3e-5b1a2c3d4e5f',
    });
    expect(rows[1]!.event_id).toBe('');
  });

  it('filters by window like mastery does', async () => {
    const res = await t.app.inject(url(ODD, '?from=2026-01-06'));
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.ts)).toEqual(['2026-01-06T08:00:00.000Z']);
  });

  it('exports every row once, in time order, across pages', async () => {
    const res = await t.app.inject(url('many'));
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(4500);
    expect(new Set(rows.map((r) => r.id)).size).toBe(4500);
    const ts = rows.map((r) => r.ts!);
    expect([...ts].sort()).toEqual(ts);
  });

  it('pages through a day with more records than a page, sent out of order', async () => {
    const res = await t.app.inject(url('big'));
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(23_000);
    expect(new Set(rows.map((r) => r.id)).size).toBe(23_000);
    const ts = rows.map((r) => r.ts!);
    expect([...ts].sort()).toEqual(ts);
    // A window from mid-morning of the first day to just after midnight.
    const part = await t.app.inject(
      url('big', '?from=2026-02-01T10:00:00Z&to=2026-02-02T00:00:30Z'),
    );
    const inWindow = parse(part.body, { columns: true }) as Record<string, string>[];
    const expected = ts.filter(
      (x) => x >= '2026-02-01T10:00:00.000Z' && x < '2026-02-02T00:00:30.000Z',
    );
    expect(inWindow.map((r) => r.ts)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(10_000);
  });

  it('writes NDJSON on request', async () => {
    const res = await t.app.inject(url(ODD, '?format=ndjson'));
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = res.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0])).toEqual(HEADER);
    expect(lines[0]).toMatchObject({
      class_id: ODD,
      student_id: '=1+2',
      confidence: 7.5,
      stuck: 0,
    });
    expect(lines[1].event_id).toBeNull();
  });

  it('is also served at the seed path /export/{class_id}', async () => {
    const res = await t.app.inject('/export/plain');
    expect(res.statusCode).toBe(200);
    expect(parse(res.body, { columns: true })).toHaveLength(1);
  });

  it('answers 404 for an unknown class and 400 for a bad format or window', async () => {
    expect((await t.app.inject(url('none'))).statusCode).toBe(404);
    const fmt = await t.app.inject(url('plain', '?format=xlsx'));
    expect(fmt.statusCode).toBe(400);
    expect(fmt.json().error.details[0].field).toBe('format');
    expect((await t.app.inject(url('plain', '?from=2026-13-01'))).statusCode).toBe(400);
  });
});
