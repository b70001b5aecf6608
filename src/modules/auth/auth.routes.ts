import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { access, actorOf, principalOf } from '../../http/access.ts';
import { SECURED } from '../../http/openapi.ts';
import type { RateLimits } from '../../http/rate-limit.ts';
import { ErrorResponse } from '../pulse/pulse.schemas.ts';
import type { ApiKeysService } from './api-keys.service.ts';
import {
  ApiKeyBody,
  ApiKeyCreated,
  ApiKeyList,
  ApiKeyListQuery,
  CodeBody,
  DisableBody,
  IdParams,
  LoginBody,
  LoginResponse,
  MfaBody,
  PasswordBody,
  PasswordOnlyBody,
  RefreshBody,
  SetupBody,
  SetupStatus,
  TokenPair,
  TwoFactorSetup,
  TwoFactorState,
} from './auth.schemas.ts';
import type { AuthService } from './auth.service.ts';
import { UserOut } from '../accounts/accounts.schemas.ts';

const AUTH = ['auth'];
const KEYS = ['api keys'];
const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
};

export function authRoutes(
  app: FastifyInstance,
  deps: { auth: AuthService; apiKeys: ApiKeysService; limits: RateLimits },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, apiKeys, limits } = deps;
  const open = { access: access.public, authLimited: true };
  const strict = { authLimited: true };

  r.get(
    '/api/v1/auth/setup',
    {
      config: { access: access.public },
      schema: {
        tags: AUTH,
        summary: 'Whether the first administrator still has to be created',
        response: { 200: SetupStatus },
      },
    },
    async () => ({ setup_needed: await auth.setupNeeded() }),
  );

  r.post(
    '/api/v1/auth/setup',
    {
      config: open,
      schema: {
        tags: AUTH,
        summary: 'Create the first administrator with the one-time setup token from the server log',
        body: SetupBody,
        response: { 201: UserOut, ...errors, 409: ErrorResponse },
      },
    },
    async (req, reply) => {
      reply.status(201);
      return auth.setup(req.body, req.ip);
    },
  );

  r.post(
    '/api/v1/auth/login',
    {
      config: open,
      schema: {
        tags: AUTH,
        summary: 'Sign in with email and password',
        description:
          'Gives an access token (15 minutes) and a refresh token; with two-factor on, an mfa_token for /auth/login/mfa instead.',
        body: LoginBody,
        response: { 200: LoginResponse, ...errors },
      },
    },
    async (req, reply) => {
      await limits.account(req.body.email, reply);
      return auth.login(req.body.email, req.body.password, req.ip);
    },
  );

  r.post(
    '/api/v1/auth/login/mfa',
    {
      config: open,
      schema: {
        tags: AUTH,
        summary: 'Second sign-in step: a TOTP code or a backup code',
        body: MfaBody,
        response: { 200: TokenPair, ...errors },
      },
    },
    async (req, reply) => {
      // Guesses at the code are limited per account too, whichever address they come from.
      await limits.account(`mfa:${await auth.mfaUser(req.body.mfa_token)}`, reply);
      return auth.loginMfa(req.body.mfa_token, req.body.code, req.ip);
    },
  );

  r.post(
    '/api/v1/auth/refresh',
    {
      // A refresh token cannot be guessed: only the general limit applies, so that many people
      // behind one school address can keep their sessions.
      config: { access: access.public },
      schema: {
        tags: AUTH,
        summary: 'New tokens for a refresh token (which is used up: reusing it ends the session)',
        body: RefreshBody,
        response: { 200: TokenPair, ...errors },
      },
    },
    async (req) => auth.refresh(req.body.refresh_token, req.ip),
  );

  r.post(
    '/api/v1/auth/logout',
    {
      config: { access: access.public },
      schema: {
        tags: AUTH,
        summary: 'End the session a refresh token belongs to',
        body: RefreshBody,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await auth.logout(req.body.refresh_token, req.ip);
      return reply.status(204).send(null);
    },
  );

  r.get(
    '/api/v1/auth/me',
    {
      config: { access: access.any() },
      schema: {
        tags: AUTH,
        summary: 'Who the credentials belong to, their scopes and classes',
        security: SECURED,
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (req) => auth.me(principalOf(req)),
  );

  r.post(
    '/api/v1/auth/password',
    {
      config: { access: access.user, ...strict },
      schema: {
        tags: AUTH,
        summary: 'Change your own password: every session ends, and this one gets new tokens',
        security: SECURED,
        body: PasswordBody,
        response: { 200: TokenPair, ...errors },
      },
    },
    async (req) =>
      auth.changePassword(
        principalOf(req),
        req.body.current_password,
        req.body.new_password,
        req.ip,
      ),
  );

  r.post(
    '/api/v1/auth/2fa/setup',
    {
      config: { access: access.user, ...strict },
      schema: {
        tags: AUTH,
        summary: 'Start two-factor setup (needs your password): a TOTP secret and its QR code',
        security: SECURED,
        body: PasswordOnlyBody,
        response: { 200: TwoFactorSetup, ...errors, 409: ErrorResponse },
      },
    },
    async (req) => auth.setupTwoFactor(principalOf(req), req.body.password, actorOf(req)),
  );

  r.post(
    '/api/v1/auth/2fa/enable',
    {
      config: { access: access.user, ...strict },
      schema: {
        tags: AUTH,
        summary: 'Turn two-factor on with a first valid code; returns 10 backup codes once',
        security: SECURED,
        body: CodeBody,
        response: { 200: TwoFactorState, ...errors, 409: ErrorResponse },
      },
    },
    async (req) => auth.enableTwoFactor(principalOf(req), req.body.code, actorOf(req)),
  );

  r.post(
    '/api/v1/auth/2fa/disable',
    {
      config: { access: access.user, ...strict },
      schema: {
        tags: AUTH,
        summary: 'Turn two-factor off (needs the password and a code)',
        security: SECURED,
        body: DisableBody,
        response: { 200: TwoFactorState, ...errors, 409: ErrorResponse },
      },
    },
    async (req) =>
      auth.disableTwoFactor(principalOf(req), req.body.password, req.body.code, actorOf(req)),
  );

  r.post(
    '/api/v1/api-keys',
    {
      config: { access: access.any() },
      schema: {
        tags: KEYS,
        summary: 'Create an API key (the secret is in this response only)',
        description:
          'Administrators make any key; instructors make keys bound to classes they teach.',
        security: SECURED,
        body: ApiKeyBody,
        response: { 201: ApiKeyCreated, ...errors },
      },
    },
    async (req, reply) => {
      const created = await apiKeys.create(req.body, { principal: principalOf(req), ip: req.ip });
      reply.status(201);
      return created;
    },
  );

  r.get(
    '/api/v1/api-keys',
    {
      config: { access: access.any() },
      schema: {
        tags: KEYS,
        summary: 'API keys (administrators: all; others: their own)',
        security: SECURED,
        querystring: ApiKeyListQuery,
        response: { 200: ApiKeyList, ...errors },
      },
    },
    async (req) => ({
      api_keys: await apiKeys.list(principalOf(req), req.query.include_revoked ?? false),
    }),
  );

  r.delete(
    '/api/v1/api-keys/:id',
    {
      config: { access: access.any() },
      schema: {
        tags: KEYS,
        summary: 'Revoke an API key',
        security: SECURED,
        params: IdParams,
        response: { 204: Type.Null(), ...errors, 404: ErrorResponse },
      },
    },
    async (req, reply) => {
      await apiKeys.revoke(req.params.id, { principal: principalOf(req), ip: req.ip });
      return reply.status(204).send(null);
    },
  );
}
