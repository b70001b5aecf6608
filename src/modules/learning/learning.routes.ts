import {
  access,
  canSeeLearner,
  type LearnerDirectory,
  principalOf,
  writePermit,
} from '../../http/access.ts';
import { SECURED } from '../../http/openapi.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorResponse } from '../pulse/pulse.schemas.ts';
import type { EventsService } from './events.service.ts';
import {
  ClassConceptsResponse,
  ConceptParams,
  ConceptResponse,
  EventIdParams,
  EventOut,
  EventsBody,
  EventsResponse,
  FitAllResponse,
  HistoryQuery,
  HistoryResponse,
  LearnerConceptResponse,
  LearnerMasteryResponse,
  RecomputeResponse,
  UserConceptParams,
  UserParams,
} from './learning.schemas.ts';
import type { MasteryService } from './mastery.service.ts';
import { Type } from 'typebox';

const security = SECURED;
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const ClassParams = Type.Object({ class_id: Type.String({ minLength: 1, maxLength: 1024 }) });

export function learningRoutes(
  app: FastifyInstance,
  deps: {
    events: EventsService;
    mastery: MasteryService;
    audit: AuditService;
    directory: LearnerDirectory;
  },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { events, mastery, audit, directory } = deps;
  const EVENTS = ['learning events'];
  const MASTERY = ['concept mastery'];

  r.post(
    '/api/v1/events',
    {
      config: { access: access.any('events:write') },
      schema: {
        tags: EVENTS,
        summary: 'Record learning events',
        description:
          'Appends events to the log and updates concept mastery in the same transaction. Invalid events are ' +
          'reported by index; a repeated id with the same content is a duplicate, with other content a conflict.',
        security,
        body: EventsBody,
        response: {
          200: EventsResponse,
          ...errors,
          413: ErrorResponse,
          415: ErrorResponse,
          422: ErrorResponse,
        },
      },
      // Events are checked one by one so that a bad one is reported, not fatal to its batch.
      validatorCompiler: () => () => true,
    },
    async (req) => events.ingest(req.body, writePermit(principalOf(req), 'user_id')),
  );

  r.get(
    '/api/v1/events/:id',
    {
      config: { access: access.any('analytics:read') },
      schema: {
        tags: EVENTS,
        summary: 'One event',
        security,
        params: EventIdParams,
        response: { 200: EventOut, ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return events.get(req.params.id, (learnerId) => canSeeLearner(p, learnerId, directory));
    },
  );

  r.get(
    '/api/v1/learners/:user_id/events',
    {
      config: { access: access.learner('analytics:read') },
      schema: {
        tags: EVENTS,
        summary: "A learner's event history",
        description:
          'Newest first (or order=asc), with cursor pagination: pass next_cursor back as ?cursor=.',
        security,
        params: UserParams,
        querystring: HistoryQuery,
        response: { 200: HistoryResponse, ...errors },
      },
    },
    async (req) => events.history(req.params.user_id, req.query),
  );

  r.get(
    '/api/v1/learners/:user_id/mastery',
    {
      config: { access: access.learner('analytics:read') },
      schema: {
        tags: MASTERY,
        summary: "A learner's mastery of every concept attempted",
        security,
        params: UserParams,
        response: { 200: LearnerMasteryResponse, ...errors },
      },
    },
    async (req) => mastery.learner(req.params.user_id),
  );

  r.get(
    '/api/v1/learners/:user_id/mastery/:concept_id',
    {
      config: { access: access.learner('analytics:read') },
      schema: {
        tags: MASTERY,
        summary: "A learner's mastery of one concept",
        security,
        params: UserConceptParams,
        response: { 200: LearnerConceptResponse, ...errors },
      },
    },
    async (req) => mastery.learnerConcept(req.params.user_id, req.params.concept_id),
  );

  r.get(
    '/api/v1/classes/:class_id/concepts/mastery',
    {
      config: { access: access.class('analytics:read') },
      schema: {
        tags: MASTERY,
        summary: "A class's mastery per concept, with the learner × concept matrix",
        security,
        params: ClassParams,
        response: { 200: ClassConceptsResponse, ...errors },
      },
    },
    async (req) => mastery.classConcepts(req.params.class_id),
  );

  r.post(
    '/api/v1/learners/:user_id/mastery/recompute',
    {
      config: { access: access.learner('analytics:read') },
      schema: {
        tags: MASTERY,
        summary: "Rebuild a learner's mastery from the event log",
        security,
        params: UserParams,
        response: { 200: RecomputeResponse, ...errors },
      },
    },
    async (req) => {
      const result = await mastery.recomputeLearner(req.params.user_id);
      await audit.record({
        action: 'mastery.recompute',
        principal: req.principal,
        ip: req.ip,
        target: req.params.user_id,
        details: { ...result },
      });
      return result;
    },
  );

  r.post(
    '/api/v1/mastery/recompute',
    {
      config: { access: access.admin },
      schema: {
        tags: MASTERY,
        summary: "Rebuild every learner's mastery from the event log",
        security,
        response: { 200: RecomputeResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (req) => {
      const result = await mastery.recomputeAll();
      await audit.record({
        action: 'mastery.recompute',
        principal: req.principal,
        ip: req.ip,
        target: '*',
        details: { ...result },
      });
      return result;
    },
  );

  r.get(
    '/api/v1/concepts/:concept_id',
    {
      config: { access: access.any('analytics:read') },
      schema: {
        tags: MASTERY,
        summary: "A concept's BKT parameters",
        security,
        params: ConceptParams,
        response: { 200: ConceptResponse, ...errors },
      },
    },
    async (req) => mastery.concept(req.params.concept_id),
  );

  r.post(
    '/api/v1/concepts/:concept_id/fit',
    {
      config: { access: access.admin },
      schema: {
        tags: MASTERY,
        summary: "Fit a concept's BKT parameters by EM from every learner's attempts",
        description: 'Stores the parameters and replays the concept’s mastery states with them.',
        security,
        params: ConceptParams,
        response: { 200: ConceptResponse, ...errors, 422: ErrorResponse },
      },
    },
    async (req) => {
      const result = await mastery.fitConcept(req.params.concept_id);
      await audit.record({
        action: 'concept.fit',
        principal: req.principal,
        ip: req.ip,
        target: req.params.concept_id,
      });
      return result;
    },
  );

  r.post(
    '/api/v1/concepts/fit',
    {
      config: { access: access.admin },
      schema: {
        tags: MASTERY,
        summary: 'Fit BKT parameters for every concept with attempts',
        security,
        response: { 200: FitAllResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (req) => {
      const result = await mastery.fitAll();
      await audit.record({
        action: 'concept.fit',
        principal: req.principal,
        ip: req.ip,
        target: '*',
      });
      return result;
    },
  );
}
