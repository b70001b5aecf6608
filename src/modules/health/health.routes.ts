import { access } from '../../http/access.ts';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { Db } from '../../db/database.ts';
import { VERSION } from '../../version.ts';

const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  version: Type.String(),
  database: Type.Object({
    dialect: Type.String(),
    reachable: Type.Boolean(),
    latency_ms: Type.Optional(Type.Number()),
  }),
});

export function healthRoutes(app: FastifyInstance, database: Db): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/health',
    {
      config: { access: access.public },
      schema: {
        tags: ['operations'],
        summary: 'Liveness and database reachability',
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (req, reply) => {
      const started = performance.now();
      try {
        await sql`select 1`.execute(database.db);
        return {
          status: 'ok' as const,
          version: VERSION,
          database: {
            dialect: database.dialect,
            reachable: true,
            latency_ms: Math.round((performance.now() - started) * 100) / 100,
          },
        };
      } catch (err) {
        req.log.error({ err }, 'health check: database unreachable');
        return reply.status(503).send({
          status: 'unavailable' as const,
          version: VERSION,
          database: { dialect: database.dialect, reachable: false },
        });
      }
    },
  );
}
