import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, type TestApp } from '../helpers/app.ts';

describe(`security headers (${DIALECT})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('sends the protective headers of a page on the dashboard and the API docs', async () => {
    const anonymous = { 'x-api-key': undefined };
    for (const url of ['/', '/classes/c1', '/docs/']) {
      const res = await t.app.inject({ url, headers: { accept: 'text/html', ...anonymous } });
      expect(res.statusCode, url).toBeLessThan(400);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).toContain("style-src 'self'");
      expect(csp, url).not.toContain('unsafe-inline');
      expect(csp, url).not.toContain('upgrade-insecure-requests');
    }
  });

  it('sends an API answer headers that let nothing run, frame, sniff or embed it', async () => {
    const anonymous = { 'x-api-key': undefined };
    for (const [url, headers, status] of [
      ['/api/v1/classes', {}, 200],
      ['/api/v1/classes', anonymous, 401],
      ['/api/v1/nothing-here', {}, 404],
      ['/mastery/c1', {}, 404],
      ['/health', {}, 200],
      ['/openapi.json', {}, 200],
    ] as const) {
      const res = await t.app.inject({ url, headers: { ...headers } });
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-security-policy'], url).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['cross-origin-resource-policy'], url).toBe('same-origin');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['strict-transport-security'], url).toMatch(/^max-age=\d+/);
    }
  });

  it('answers a browser from another origin without CORS permission by default', async () => {
    const res = await t.app.inject({
      url: '/api/v1/classes',
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe(`CORS_ORIGINS (${DIALECT})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ CORS_ORIGINS: 'https://lms.example, https://app.example' });
  });
  afterAll(() => t.close());

  it('lets the named origins call the API, with a preflight, and no others', async () => {
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/metrics',
      headers: {
        origin: 'https://lms.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
        'x-api-key': undefined,
      },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://lms.example');
    expect(String(pre.headers['access-control-allow-headers'])).toContain('authorization');
    const get = await t.app.inject({
      url: '/api/v1/classes',
      headers: { origin: 'https://app.example' },
    });
    expect(get.statusCode).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await t.app.inject({
      url: '/api/v1/classes',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
