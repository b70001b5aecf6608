import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { access } from '../../http/access.ts';
import { SECURED } from '../../http/openapi.ts';
import { ErrorResponse } from '../pulse/pulse.schemas.ts';
import type { AuditService } from './audit.service.ts';

const AuditQuery = Type.Object({
  action: Type.Optional(
    Type.String({ maxLength: 100, description: 'an action, or a prefix ending in .* (auth.*)' }),
  ),
  actor_id: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  from: Type.Optional(Type.String({ maxLength: 64 })),
  to: Type.Optional(Type.String({ maxLength: 64 })),
  cursor: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String(),
  action: Type.String(),
  outcome: Type.String(),
  actor_type: Type.String(),
  actor_id: Type.Union([Type.String(), Type.Null()]),
  actor_label: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export function auditRoutes(app: FastifyInstance, audit: AuditService): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/v1/audit',
    {
      config: { access: access.admin },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first (administrators)',
        security: SECURED,
        querystring: AuditQuery,
        response: {
          200: Type.Object({
            entries: Type.Array(AuditEntry),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
        },
      },
    },
    async (req) => audit.list(req.query),
  );
}
