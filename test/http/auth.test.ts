import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_PATHS } from './openapi.test.ts';
import { createTestApp, DIALECT, post, record, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ API_KEY: 'devkey' });
});
afterAll(() => t.close());

const DATA_ROUTES: [string, string][] = [
  ['POST', '/api/v1/metrics'],
  ['POST', '/ingest/json'],
  ['GET', '/api/v1/classes'],
  ['GET', '/api/v1/classes/c1/mastery'],
  ['GET', '/mastery/c1'],
  ['GET', '/api/v1/classes/c1/recommendations'],
  ['GET', '/recommend/c1'],
  ['GET', '/api/v1/classes/c1/export'],
  ['GET', '/export/c1'],
];

describe(`API_KEY (${DIALECT})`, () => {
  it('refuses every data route without X-API-Key, with a JSON error', async () => {
    for (const [method, url] of DATA_ROUTES) {
      const res = await t.app.inject({
        method: method as 'GET',
        url,
        payload: method === 'POST' ? record() : undefined,
      });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().error).toEqual({
        code: 'unauthorized',
        message: 'Credentials required: an access token or an API key',
      });
    }
  });

  it('refuses a wrong key and stores nothing', async () => {
    const res = await post(t.app, '/api/v1/metrics', record({ class_id: 'locked' }), {
      'x-api-key': 'devkey2',
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toBe('Invalid API key');
    const check = await t.app.inject({
      url: '/api/v1/classes/locked/mastery',
      headers: { 'x-api-key': 'devkey' },
    });
    expect(check.statusCode).toBe(404);
  });

  it('serves the data routes with the right key', async () => {
    const h = { 'x-api-key': 'devkey' };
    expect((await post(t.app, '/ingest/json', record(), h)).statusCode).toBe(200);
    for (const [method, url] of DATA_ROUTES.filter(([m]) => m === 'GET')) {
      const res = await t.app.inject({ method: method as 'GET', url, headers: h });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('keeps health, the OpenAPI document and the docs open', async () => {
    expect((await t.app.inject('/health')).statusCode).toBe(200);
    expect((await t.app.inject('/openapi.json')).statusCode).toBe(200);
    const docs = await t.app.inject('/docs/');
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });
});

describe(`every documented route (${DIALECT})`, () => {
  it('rejects a request without credentials, except health and docs', async () => {
    const doc = (await t.app.inject('/openapi.json')).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (PUBLIC_PATHS.has(path)) continue;
      const url = path.replace(/\{[^}]+\}/g, 'x');
      for (const method of Object.keys(methods)) {
        const res = await t.app.inject({ method: method.toUpperCase() as 'GET', url });
        expect(res.statusCode, `${method.toUpperCase()} ${path}`).toBe(401);
        expect(res.json().error.code, `${method.toUpperCase()} ${path}`).toBe('unauthorized');
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(35);
  });
});
