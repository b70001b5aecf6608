import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { access } from '../../http/access.ts';
import { SECURED } from '../../http/openapi.ts';
import { ClassParams, ErrorResponse } from '../pulse/pulse.schemas.ts';
import type { LiveHub, LiveMessage } from './live.hub.ts';

const PING_MS = 15_000;

export function liveRoutes(app: FastifyInstance, hub: LiveHub): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/v1/classes/:class_id/live',
    {
      config: { access: access.class('analytics:read') },
      schema: {
        tags: ['live'],
        summary: 'Live updates of a class (Server-Sent Events)',
        description:
          'A text/event-stream: `ready` once, then `metrics` or `events` with `{"class_id", "inserted", "at"}` ' +
          'after each commit that stored signals or learning events of the class; a `: ping` comment every 15 s.',
        security: SECURED,
        params: ClassParams,
        produces: ['text/event-stream'],
        response: {
          200: Type.String({ description: 'text/event-stream' }),
          401: ErrorResponse,
          403: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const classId = req.params.class_id;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Proxies such as nginx must pass each event on at once.
        'x-accel-buffering': 'no',
      });
      const send = (event: string, data: unknown) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      res.write('retry: 2000\n');
      send('ready', { class_id: classId });
      const ping = setInterval(() => res.write(': ping\n\n'), PING_MS);
      const end = () => {
        clearInterval(ping);
        unsubscribe();
        res.end();
      };
      const unsubscribe = hub.subscribe(classId, (m: LiveMessage) => send(m.type, m), end);
      req.raw.on('close', () => {
        clearInterval(ping);
        unsubscribe();
      });
    },
  );
}
