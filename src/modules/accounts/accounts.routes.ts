import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { access, actorOf } from '../../http/access.ts';
import { AppError } from '../../http/errors.ts';
import { SECURED } from '../../http/openapi.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { ErrorResponse } from '../pulse/pulse.schemas.ts';
import {
  CreateUserBody,
  MemberList,
  MemberOut,
  MemberParams,
  PatchUserBody,
  RosterReport,
  UserIdParams,
  UserList,
  UserListQuery,
  UserOut,
} from './accounts.schemas.ts';
import type { AccountsService } from './accounts.service.ts';
import { importRoster } from './roster.ts';

const USERS = ['users and classes'];
const security = SECURED;
const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
};

export function accountsRoutes(
  app: FastifyInstance,
  deps: { accounts: AccountsService; audit: AuditService },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { accounts, audit } = deps;

  r.post(
    '/api/v1/users',
    {
      config: { access: access.admin },
      schema: {
        tags: USERS,
        summary: 'Create a user (administrators)',
        security,
        body: CreateUserBody,
        response: { 201: UserOut, ...errors },
      },
    },
    async (req, reply) => {
      const user = await accounts.create(req.body, actorOf(req));
      reply.status(201);
      return user;
    },
  );

  r.get(
    '/api/v1/users',
    {
      config: { access: access.admin },
      schema: {
        tags: USERS,
        summary: 'List users (administrators)',
        security,
        querystring: UserListQuery,
        response: { 200: UserList, ...errors },
      },
    },
    async (req) => ({ users: await accounts.list(req.query) }),
  );

  r.get(
    '/api/v1/users/:id',
    {
      config: { access: access.admin },
      schema: {
        tags: USERS,
        summary: 'One user (administrators)',
        security,
        params: UserIdParams,
        response: { 200: UserOut, ...errors },
      },
    },
    async (req) => accounts.get(req.params.id),
  );

  r.patch(
    '/api/v1/users/:id',
    {
      config: { access: access.admin },
      schema: {
        tags: USERS,
        summary:
          'Change a user: name, email, role, learner id, active, or reset the password (administrators)',
        security,
        params: UserIdParams,
        body: PatchUserBody,
        response: { 200: UserOut, ...errors },
      },
    },
    async (req) => accounts.update(req.params.id, req.body, actorOf(req)),
  );

  r.get(
    '/api/v1/classes/:class_id/members',
    {
      config: { access: access.class('analytics:read') },
      schema: {
        tags: USERS,
        summary: "A class's instructors and learners",
        security,
        params: Type.Pick(MemberParams, ['class_id']),
        response: { 200: MemberList, ...errors },
      },
    },
    async (req) => accounts.members(req.params.class_id),
  );

  r.put(
    '/api/v1/classes/:class_id/members/:user_id',
    {
      config: { access: access.admin },
      schema: {
        tags: USERS,
        summary: 'Add an instructor or a learner (by account id) to a class',
        security,
        params: MemberParams,
        response: { 200: MemberOut, ...errors },
      },
    },
    async (req) => accounts.addMember(req.params.class_id, req.params.user_id, actorOf(req)),
  );

  r.delete(
    '/api/v1/classes/:class_id/members/:user_id',
    {
      config: { access: access.admin },
      schema: {
        tags: USERS,
        summary: 'Remove a member from a class',
        security,
        params: MemberParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await accounts.removeMember(req.params.class_id, req.params.user_id, actorOf(req));
      return reply.status(204).send(null);
    },
  );

  // The roster arrives as a text/csv body or as a file in a multipart form; both only here.
  void app.register(async (csv) => {
    csv.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    await csv.register(multipart, { limits: { files: 1, fileSize: csv.initialConfig.bodyLimit } });
    csv.withTypeProvider<TypeBoxTypeProvider>().post(
      '/api/v1/rosters/import',
      {
        config: { access: access.admin },
        schema: {
          tags: USERS,
          summary: 'Import a roster: CSV with class_id,student_id,email,name,role',
          description:
            'Send the file as a text/csv body, or as the file of a multipart/form-data request. Creates missing accounts (without password), updates names and emails, enrols everyone; bad rows are reported by line.',
          security,
          consumes: ['text/csv', 'multipart/form-data'],
          response: { 200: RosterReport, ...errors, 413: ErrorResponse, 415: ErrorResponse },
        },
      },
      async (req) => {
        let text: unknown = req.body;
        if (req.isMultipart()) {
          const file = await req.file();
          if (!file) throw new AppError(400, 'invalid_request', 'The form holds no file');
          text = (await file.toBuffer()).toString('utf8');
        }
        if (typeof text !== 'string') {
          throw new AppError(
            415,
            'unsupported_media_type',
            'Send the roster as a text/csv body or a multipart file',
          );
        }
        return importRoster(text, accounts, audit, actorOf(req));
      },
    );
  });
}
