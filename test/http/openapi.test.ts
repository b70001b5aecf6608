import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

type Op = {
  tags?: string[];
  summary?: string;
  responses?: Record<string, unknown>;
  security?: unknown[];
};

/** Routes anyone may call: health, first-run setup and signing in. */
export const PUBLIC_PATHS = new Set([
  '/health',
  '/api/v1/auth/setup',
  '/api/v1/auth/login',
  '/api/v1/auth/login/mfa',
  '/api/v1/auth/refresh',
  '/api/v1/auth/logout',
]);

describe(`OpenAPI and health (${DIALECT})`, () => {
  it('documents every route with a tag, a summary and responses', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths as Record<string, Record<string, Op>>).flatMap(
      ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    const names = ops.map((o) => `${o.method.toUpperCase()} ${o.path}`);
    for (const route of [
      'POST /api/v1/metrics',
      'POST /ingest/json',
      'GET /api/v1/classes',
      'GET /api/v1/classes/{class_id}/mastery',
      'GET /mastery/{class_id}',
      'GET /api/v1/classes/{class_id}/recommendations',
      'GET /recommend/{class_id}',
      'GET /api/v1/classes/{class_id}/export',
      'GET /export/{class_id}',
      'GET /health',
    ]) {
      expect(names).toContain(route);
    }
    for (const { path, method, op } of ops) {
      expect(op.tags?.length, `${method} ${path} tags`).toBeGreaterThan(0);
      expect(op.summary, `${method} ${path} summary`).toBeTruthy();
      const codes = Object.keys(op.responses ?? {});
      expect(
        codes.some((c) => /^2\d\d$/.test(c)),
        `${method} ${path} success response`,
      ).toBe(true);
      if (!PUBLIC_PATHS.has(path)) {
        expect(op.security, `${method} ${path} security`).toBeTruthy();
        expect(codes, `${method} ${path} documents 401`).toContain('401');
      }
    }
    expect(doc.paths['/api/v1/metrics'].post.requestBody).toBeTruthy();
  });

  it('reports health with the database reachable', async () => {
    const res = await t.app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      database: { dialect: DIALECT, reachable: true },
    });
    expect(res.json().version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await t.app.inject('/api/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });
});

describe('health when the database is gone', () => {
  it('answers 503 instead of crashing', async () => {
    const other = await createTestApp();
    await other.database.db.destroy();
    const res = await other.app.inject('/health');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unavailable', database: { reachable: false } });
    await other.app.close();
  });
});
