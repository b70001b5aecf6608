import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, record, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ MAX_RECORDS_PER_REQUEST: '50', BODY_LIMIT_BYTES: '20000' });
});
afterAll(() => t.close());

const count = async (classId: string) => {
  const res = await t.app.inject(`/api/v1/classes/${encodeURIComponent(classId)}/mastery`);
  return res.statusCode === 404 ? 0 : res.json().count;
};

describe(`POST /api/v1/metrics (${DIALECT})`, () => {
  it('stores one record', async () => {
    const res = await post(t.app, '/api/v1/metrics', record({ class_id: 'one' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ inserted: 1, duplicates: 0, rejected: [] });
    expect(await count('one')).toBe(1);
  });

  it('stores an array and a {records} envelope', async () => {
    const arr = await post(t.app, '/api/v1/metrics', [
      record({ class_id: 'arr' }),
      record({ class_id: 'arr' }),
    ]);
    expect(arr.json().inserted).toBe(2);
    const env = await post(t.app, '/api/v1/metrics', { records: [record({ class_id: 'env' })] });
    expect(env.json().inserted).toBe(1);
    expect(await count('arr')).toBe(2);
  });

  it('is also served at the seed path /ingest/json', async () => {
    const res = await post(t.app, '/ingest/json', record({ class_id: 'alias' }));
    expect(res.statusCode).toBe(200);
    expect(await count('alias')).toBe(1);
  });

  it('accepts numeric ids, booleans and a zone-less ts as UTC', async () => {
    const res = await post(t.app, '/api/v1/metrics', {
      class_id: 7,
      student_id: 42,
      stuck: true,
      got_it: false,
      pause: 0,
      example: 1,
      confidence: 2.5,
      ts: '2026-01-05T09:30:00',
    });
    expect(res.json()).toMatchObject({ inserted: 1 });
    const csv = (await t.app.inject('/api/v1/classes/7/export')).body.split('\r\n');
    expect(csv[1]).toMatch(/^\d+,7,42,1,0,0,1,2.5,2026-01-05T09:30:00.000Z,$/);
  });

  it('stores the valid records of a partial batch and reports the others by index', async () => {
    const res = await post(t.app, '/api/v1/metrics', [
      record({ class_id: 'partial' }),
      record({ class_id: 'partial', confidence: 11 }),
      record({ class_id: 'partial', stuck: 2, student_id: '' }),
      'not a record',
      record({ class_id: 'partial', ts: '2026-02-30T10:00:00Z', event_id: 'nope' }),
    ]);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.inserted).toBe(1);
    expect(body.rejected).toEqual([
      { index: 1, errors: [{ field: 'confidence', message: 'must be from 1 to 10, got 11' }] },
      {
        index: 2,
        errors: [
          { field: 'student_id', message: 'must not be empty' },
          { field: 'stuck', message: 'must be 0, 1, true or false' },
        ],
      },
      { index: 3, errors: [{ field: 'record', message: 'must be a JSON object' }] },
      {
        index: 4,
        errors: [
          { field: 'ts', message: expect.stringContaining('ISO-8601') },
          { field: 'event_id', message: expect.stringContaining('UUID') },
        ],
      },
    ]);
    expect(await count('partial')).toBe(1);
  });

  it('takes a ts up to a day after the server clock, and refuses one further ahead', async () => {
    const hours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
    const res = await post(t.app, '/api/v1/metrics', [
      record({ class_id: 'ahead', ts: hours(23) }),
      record({ class_id: 'ahead', ts: hours(25) }),
      record({ class_id: 'ahead', ts: '9999-12-31T23:59:59Z' }),
    ]);
    expect(res.statusCode).toBe(200);
    const message = "must not be more than 24 hours after the server's clock";
    expect(res.json()).toMatchObject({
      inserted: 1,
      rejected: [
        { index: 1, errors: [{ field: 'ts', message }] },
        { index: 2, errors: [{ field: 'ts', message }] },
      ],
    });
    expect(await count('ahead')).toBe(1);
  });

  it('names every missing field', async () => {
    const res = await post(t.app, '/api/v1/metrics', [{}]);
    expect(res.statusCode).toBe(422);
    const fields = res
      .json()
      .error.details.rejected[0].errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual([
      'class_id',
      'student_id',
      'stuck',
      'got_it',
      'pause',
      'example',
      'confidence',
    ]);
  });

  it('rejects ids longer than 128 characters and counts characters, not bytes', async () => {
    const res = await post(t.app, '/api/v1/metrics', [
      record({ class_id: 'x'.repeat(129) }),
      record({ class_id: 'é'.repeat(128) }),
      record({ class_id: '😀'.repeat(128) }),
    ]);
    expect(res.json().inserted).toBe(2);
    expect(res.json().rejected).toEqual([
      { index: 0, errors: [{ field: 'class_id', message: 'must be at most 128 characters' }] },
    ]);
  });

  it('rejects ids holding an unpaired surrogate, which no database could give back as sent', async () => {
    const lone = 'Ana\ud800';
    // the JSON text escapes the half pair, as a client's serializer would
    const body = JSON.stringify([
      record({ class_id: 'surrogates', student_id: lone }),
      record({ class_id: `x\udc00`, student_id: 'ok' }),
      record({ class_id: 'surrogates', student_id: 'Ana😀' }),
    ]);
    expect(body).toContain('\\ud800');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/metrics',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const message = 'must be valid Unicode text (it holds an unpaired surrogate)';
    expect(res.json()).toEqual({
      inserted: 1,
      duplicates: 0,
      rejected: [
        { index: 0, errors: [{ field: 'student_id', message }] },
        { index: 1, errors: [{ field: 'class_id', message }] },
      ],
    });
    const m = (await t.app.inject('/api/v1/classes/surrogates/mastery?by=student')).json();
    expect(m.by_student.map((s: { student_id: string }) => s.student_id)).toEqual(['Ana😀']);
  });

  it('answers 422 with the details when every record is invalid, and stores nothing', async () => {
    const res = await post(t.app, '/api/v1/metrics', [record({ class_id: 'bad', confidence: 0 })]);
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: 'all_records_rejected',
      details: { inserted: 0, duplicates: 0, rejected: [{ index: 0 }] },
    });
    expect(await count('bad')).toBe(0);
  });

  it('answers 422 for an empty batch', async () => {
    const res = await post(t.app, '/api/v1/metrics', []);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('no_records');
  });

  it('counts a repeated event_id as a duplicate, across requests and within one', async () => {
    const id = '0190f5c4-8a8e-7c52-9d3e-5b1a2c3d4e5f';
    const first = await post(t.app, '/api/v1/metrics', record({ class_id: 'dup', event_id: id }));
    expect(first.json()).toMatchObject({ inserted: 1, duplicates: 0 });
    const retry = await post(t.app, '/api/v1/metrics', [
      record({ class_id: 'dup', event_id: id.toUpperCase() }),
      record({ class_id: 'dup', event_id: '0190f5c4-8a8e-7c52-9d3e-000000000001' }),
      record({ class_id: 'dup', event_id: '0190f5c4-8a8e-7c52-9d3e-000000000001' }),
    ]);
    expect(retry.json()).toMatchObject({ inserted: 1, duplicates: 2 });
    expect(await count('dup')).toBe(2);
  });

  it('keeps concurrent requests apart when they are committed together', async () => {
    const id = '0190f5c4-8a8e-7c52-9d3e-00000000c0c0';
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(t.app, '/api/v1/metrics', [
          record({ class_id: 'conc', student_id: `s${i}` }),
          record({ class_id: 'conc', event_id: id }),
        ]),
      ),
    );
    const bodies = results.map((r) => r.json());
    expect(bodies.reduce((a, b) => a + b.inserted, 0)).toBe(21);
    expect(bodies.reduce((a, b) => a + b.duplicates, 0)).toBe(19);
    expect(await count('conc')).toBe(21);
  });

  it('answers 400 for malformed JSON and for a body that is not a record', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/metrics',
      headers: { 'content-type': 'application/json' },
      payload: '{"class_id": "c1",',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_json');
    const scalar = await post(t.app, '/api/v1/metrics', 5);
    expect(scalar.statusCode).toBe(400);
    const notArray = await post(t.app, '/api/v1/metrics', { records: 'x' });
    expect(notArray.statusCode).toBe(400);
    expect(notArray.json().error.details).toEqual([
      { field: 'records', message: 'must be an array' },
    ]);
  });

  it('answers 415 for a body that is not JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/csv']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/metrics',
        headers: { 'content-type': type },
        payload: 'class_id=c1',
      });
      expect(res.statusCode, type).toBe(415);
      expect(res.json().error.code).toBe('unsupported_media_type');
    }
  });

  it('answers 413 past the record limit and past the body limit', async () => {
    const many = await post(
      t.app,
      '/api/v1/metrics',
      Array.from({ length: 51 }, () => record({ class_id: 'big' })),
    );
    expect(many.statusCode).toBe(413);
    expect(many.json().error.code).toBe('too_many_records');
    const huge = await post(
      t.app,
      '/api/v1/metrics',
      record({ class_id: 'big', pad: 'x'.repeat(30_000) }),
    );
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('payload_too_large');
    expect(await count('big')).toBe(0);
  });

  it('refuses a __proto__ key rather than polluting objects', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/metrics',
      headers: { 'content-type': 'application/json' },
      payload:
        '{"class_id":"p","student_id":"s","stuck":0,"got_it":0,"pause":0,"example":0,"confidence":5,"__proto__":{"x":1}}',
    });
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
