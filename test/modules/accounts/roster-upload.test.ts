import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ BODY_LIMIT_BYTES: '4096' });
});
afterAll(() => t.close());

const BOUNDARY = '----learntwin-test-boundary';
const form = (csv: string, filename = 'roster.csv') =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
  `Content-Type: text/csv\r\n\r\n${csv}\r\n--${BOUNDARY}--\r\n`;
const upload = (payload: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/rosters/import',
    payload,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
  });

describe(`roster import as a multipart file (${DIALECT})`, () => {
  it('imports the uploaded file like a text/csv body', async () => {
    const res = await upload(
      form('class_id,student_id,email,name,role\nup1,u-s1,,Ann,learner\nup1,u-s2,,Ben,learner\n'),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ rows: 2, users_created: 2, memberships_added: 2 });
    const members = await t.app.inject('/api/v1/classes/up1/members');
    expect(members.json().members.map((m: { learner_id: string }) => m.learner_id)).toEqual([
      'u-s1',
      'u-s2',
    ]);
  });

  it('answers 400 for a form without a file, and 413 for a file over the body limit', async () => {
    const empty = await upload(`--${BOUNDARY}--\r\n`);
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBeTruthy();
    const big = await upload(form(`class_id,student_id\n${'c,s\n'.repeat(2000)}`));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('payload_too_large');
  });

  it('refuses a JSON body with 415', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rosters/import',
      payload: { class_id: 'x' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });
});
