import { access, forbidden, isAdmin, principalOf, writePermit } from '../../http/access.ts';
import { SECURED } from '../../http/openapi.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PulseIngest } from './pulse.ingest.ts';
import {
  ClassesResponse,
  ClassParams,
  LearnerPulseParams,
  LearnerPulseResponse,
  CsvResponse,
  ErrorResponse,
  ExportQuery,
  IngestBody,
  IngestResponse,
  MasteryQuery,
  MasteryResponse,
  RecommendationsResponse,
  WindowQuery,
} from './pulse.schemas.ts';
import type { PulseService } from './pulse.service.ts';

const TAGS = ['class pulse'];
const security = SECURED;
const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
};

function contentDisposition(classId: string, ext: string): string {
  const ascii = classId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'class';
  return `attachment; filename="${ascii}.${ext}"; filename*=UTF-8''${encodeURIComponent(classId)}.${ext}`;
}

export function pulseRoutes(
  app: FastifyInstance,
  deps: { ingest: PulseIngest; pulse: PulseService; audit: AuditService },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { ingest, pulse, audit } = deps;

  for (const [url, alias] of [
    ['/api/v1/metrics', false],
    ['/ingest/json', true],
  ] as const) {
    r.post(
      url,
      {
        config: { access: access.any('metrics:write') },
        schema: {
          tags: TAGS,
          summary: alias
            ? 'Ingest class metrics (seed alias of POST /api/v1/metrics)'
            : 'Ingest class metrics',
          description:
            'Stores in-class signals. Valid records are committed together; invalid ones are reported ' +
            'by index with the field and the reason. A record whose event_id is already stored counts ' +
            'as a duplicate and is not stored again. 422 when every record is invalid, 413 past the ' +
            'per-request limit.',
          security,
          body: IngestBody,
          response: {
            200: IngestResponse,
            ...errors,
            413: ErrorResponse,
            415: ErrorResponse,
            422: ErrorResponse,
          },
        },
        // Records are checked one by one so that a bad one is reported, not fatal to its batch.
        validatorCompiler: () => () => true,
      },
      async (req) => ingest.ingest(req.body, writePermit(principalOf(req), 'student_id')),
    );
  }

  r.get(
    '/api/v1/classes',
    {
      config: { access: access.any('analytics:read') },
      schema: {
        tags: TAGS,
        summary: 'List classes with record counts, students and last activity',
        security,
        response: { 200: ClassesResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (req) => {
      const p = principalOf(req);
      if (p.role === 'learner') throw forbidden('Class lists are for staff and API keys');
      return pulse.classes(isAdmin(p) ? 'all' : p.classes);
    },
  );

  for (const [url, alias] of [
    ['/api/v1/classes/:class_id/mastery', false],
    ['/mastery/:class_id', true],
  ] as const) {
    r.get(
      url,
      {
        config: { access: access.class('analytics:read') },
        schema: {
          tags: TAGS,
          summary: alias
            ? 'Class mastery (seed alias of GET /api/v1/classes/{class_id}/mastery)'
            : 'Class mastery',
          description:
            'Average signals of a class over an optional window: rates 0–1, confidence 1–10. ' +
            '`by=student` adds a per-student breakdown, `bucket=day` a daily series.',
          security,
          params: ClassParams,
          querystring: MasteryQuery,
          response: { 200: MasteryResponse, ...errors },
        },
      },
      async (req) => pulse.mastery(req.params.class_id, req.query),
    );
  }

  for (const [url, alias] of [
    ['/api/v1/classes/:class_id/recommendations', false],
    ['/recommend/:class_id', true],
  ] as const) {
    r.get(
      url,
      {
        config: { access: access.class('analytics:read') },
        schema: {
          tags: TAGS,
          summary: alias
            ? 'Teaching recommendations (seed alias of GET /api/v1/classes/{class_id}/recommendations)'
            : 'Teaching recommendations',
          description:
            'Rule-based recommendations with rationale, priority and evidence, most urgent first.',
          security,
          params: ClassParams,
          querystring: WindowQuery,
          response: { 200: RecommendationsResponse, ...errors },
        },
      },
      async (req) => pulse.recommendations(req.params.class_id, req.query),
    );
  }

  for (const [url, alias] of [
    ['/api/v1/classes/:class_id/export', false],
    ['/export/:class_id', true],
  ] as const) {
    r.get(
      url,
      {
        config: { access: access.class('export:read') },
        schema: {
          tags: TAGS,
          summary: alias
            ? 'Export records (seed alias of GET /api/v1/classes/{class_id}/export)'
            : 'Export records',
          description:
            'Streams the class records in time order as CSV (RFC 4180) or NDJSON; memory stays flat for any size.',
          security,
          params: ClassParams,
          querystring: ExportQuery,
          produces: ['text/csv', 'application/x-ndjson'],
          response: { 200: CsvResponse, ...errors },
        },
      },
      async (req, reply) => {
        const format = req.query.format ?? 'csv';
        const stream = await pulse.export(req.params.class_id, req.query, format);
        await audit.record({
          action: 'export',
          principal: req.principal,
          ip: req.ip,
          target: req.params.class_id,
          details: { format, from: req.query.from ?? null, to: req.query.to ?? null },
        });
        reply
          .header(
            'content-type',
            format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          )
          .header(
            'content-disposition',
            contentDisposition(req.params.class_id, format === 'csv' ? 'csv' : 'ndjson'),
          );
        // A stream bypasses the response serializer; the schema documents what it carries.
        return (reply as unknown as FastifyReply).send(stream);
      },
    );
  }

  r.get(
    '/api/v1/learners/:user_id/pulse',
    {
      config: { access: access.learner('analytics:read') },
      schema: {
        tags: TAGS,
        summary: "A learner's own in-class signals per day, across their classes",
        description:
          'Daily rates and confidence of one student (the `student_id` of the records). The window ' +
          'counts whole UTC days: every day `from`/`to` touch is counted whole.',
        security,
        params: LearnerPulseParams,
        querystring: WindowQuery,
        response: { 200: LearnerPulseResponse, ...errors },
      },
    },
    async (req) => pulse.learnerPulse(req.params.user_id, req.query),
  );
}
