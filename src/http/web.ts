import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { access } from './access.ts';

/** Where `npm run build` puts the dashboard. */
export const WEB_DIST = resolve(fileURLToPath(new URL('../../web/dist', import.meta.url)));

/** Paths of the API (JSON and CSV answers, never a page), the seed's aliases among them. */
export const API_PATH = /^\/(api|openapi\.json|health|ingest|mastery|recommend|export)(\/|$|\?)/;
/** Paths that are never the dashboard's, even when nothing else answers them. */
const NOT_WEB = (path: string) => API_PATH.test(path) || /^\/docs(\/|$|\?)/.test(path);

/** A plain relative path inside the build: no "..", no hidden files. */
const SAFE_FILE = /^(?!.*(^|\/)\.)[\w@+-][\w@+./-]*$/;

const wantsHtml = (req: FastifyRequest) =>
  req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');

/**
 * Serves the dashboard (a single-page app) at `/`: its files, and its index page for any other
 * path a browser asks for, so that a reload of /classes/c1 works. API paths keep their JSON 404.
 */
export async function registerWeb(app: FastifyInstance, dir = WEB_DIST): Promise<void> {
  const built = existsSync(join(dir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: dir,
      wildcard: false,
      index: 'index.html',
      // File names under assets/ carry a content hash: cache them for good; the page itself never.
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header(
          'cache-control',
          path.includes(`${join(dir, 'assets')}`)
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        );
      },
    });
  }
  const notBuilt =
    '<!doctype html><meta charset="utf-8"><title>Learntwin</title>' +
    '<h1>Learntwin</h1><p>The dashboard is not built. Run <code>npm run build</code> and ' +
    'restart the server. The API is at <a href="/docs">/docs</a>.</p>';
  app.get(
    '/*',
    { config: { access: access.public }, schema: { hide: true } },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const path = req.url.split('?')[0] ?? '/';
      if (NOT_WEB(path)) return reply.callNotFound();
      // A file built after the server started (the plugin lists files once, at start).
      const file = decodeURIComponent(path).slice(1);
      if (built && SAFE_FILE.test(file) && existsSync(join(dir, file))) {
        return reply.sendFile(file);
      }
      if (!wantsHtml(req)) return reply.callNotFound();
      reply.header('cache-control', 'no-cache');
      if (!built) return reply.type('text/html; charset=utf-8').send(notBuilt);
      return reply.sendFile('index.html');
    },
  );
  if (!built) {
    app.get(
      '/',
      { config: { access: access.public }, schema: { hide: true } },
      async (_req, reply) => reply.type('text/html; charset=utf-8').send(notBuilt),
    );
  }
}

/** Routes the static plugin registers for the built files: public by nature. */
export const isStaticRoute = (url: string): boolean =>
  url === '/' ||
  url === '/index.html' ||
  url.startsWith('/assets/') ||
  /^\/[^/]+\.(svg|ico|png|txt|webmanifest)$/.test(url);
