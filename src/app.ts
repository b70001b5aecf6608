import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import { accessCheck, type LearnerDirectory, requireAccessPolicies } from './http/access.ts';
import { frameworkErrors, registerErrorHandling } from './http/errors.ts';
import { MAX_PATH_PARAM_CHARS } from './http/input.ts';
import { API_HEADERS, SECURITY_HEADERS } from './http/security-headers.ts';
import { registerValidation } from './http/validation.ts';
import { SECURITY_SCHEMES } from './http/openapi.ts';
import { API_PATH, registerWeb } from './http/web.ts';
import { RateLimits } from './http/rate-limit.ts';
import { accountsRoutes } from './modules/accounts/accounts.routes.ts';
import { AccountsService } from './modules/accounts/accounts.service.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { AuditService } from './modules/audit/audit.service.ts';
import { ApiKeysService } from './modules/auth/api-keys.service.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { LiveHub } from './modules/live/live.hub.ts';
import { liveRoutes } from './modules/live/live.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { EventsService } from './modules/learning/events.service.ts';
import { learningRoutes } from './modules/learning/learning.routes.ts';
import { MasteryService } from './modules/learning/mastery.service.ts';
import { PulseIngest } from './modules/pulse/pulse.ingest.ts';
import { pulseRoutes } from './modules/pulse/pulse.routes.ts';
import { PulseService } from './modules/pulse/pulse.service.ts';
import { VERSION } from './version.ts';

export interface AppDeps {
  config: Config;
  /** a migrated database */
  database: Db;
  logger?: FastifyServerOptions['logger'];
  /** the built dashboard (default: web/dist) */
  webDir?: string;
}

export interface Services {
  ingest: PulseIngest;
  pulse: PulseService;
  events: EventsService;
  mastery: MasteryService;
  audit: AuditService;
  accounts: AccountsService;
  apiKeys: ApiKeysService;
  auth: AuthService;
  limits: RateLimits;
  live: LiveHub;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export async function buildApp({
  config,
  database,
  logger,
  webDir,
}: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // Leave the ids clients chose alone: class ids may be long and hold any character.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_CHARS },
    // The router's own refusals skip the hooks: they get the headers every answer carries here.
    frameworkErrors: (err, req, reply) => {
      reply.headers(API_PATH.test(req.url) ? API_HEADERS : SECURITY_HEADERS);
      return frameworkErrors(err, req, reply);
    },
  });
  registerErrorHandling(app);
  registerValidation(app);
  // JSON only: a text/plain body is refused with 415 rather than read as a string.
  app.removeContentTypeParser('text/plain');

  const { db, dialect } = database;
  const audit = new AuditService(db, app.log);
  const accounts = new AccountsService(db, audit);
  const apiKeys = new ApiKeysService(db, audit, accounts, config.apiKey);
  const auth = new AuthService(db, accounts, apiKeys, audit, {
    jwtSecret: config.jwtSecret,
    refreshTokenDays: config.refreshTokenDays,
  });
  await auth.init();
  const mastery = new MasteryService(db, database.writer, app.log);
  const live = new LiveHub(app.log, config.redisUrl);
  await live.start();
  const services: Services = {
    ingest: new PulseIngest(database.writer, config.maxRecordsPerRequest, {
      onCommitted: (perClass) => live.publish('metrics', perClass),
    }),
    pulse: new PulseService(db, dialect, config.ruleThresholds, database.writer),
    events: new EventsService(db, database.writer, config.maxRecordsPerRequest, (perClass) =>
      live.publish('events', perClass),
    ),
    mastery,
    audit,
    accounts,
    apiKeys,
    auth,
    limits: new RateLimits({
      perMinute: config.rateLimitPerMinute,
      authPerMinute: config.rateLimitAuthPerMinute,
      redisUrl: config.redisUrl,
    }),
    live,
  };
  app.decorate('services', services);
  app.addHook('onClose', async () => {
    await services.ingest.close();
    await services.events.close();
    await services.limits.close();
  });
  // Live streams never end by themselves: close them before the server waits for connections.
  app.addHook('preClose', async () => {
    await services.live.close();
  });

  // A learner is "in" a class when its roster says so. Data alone does not count: whoever may
  // write to a class could otherwise name any learner in a record and read all their history.
  const directory: LearnerDirectory = (learnerId, classIds) =>
    accounts.learnerOnRoster(learnerId, classIds);

  // One gate for every request, in this order: the security headers (an API answer's set or a
  // page's, so that refusals carry them too), the limit per address, authentication and
  // authorization, the limit per principal.
  // One hook rather than four: each async hook costs a measurable share of a light request.
  requireAccessPolicies(app);
  const checkAccess = accessCheck({ authenticate: (req) => auth.authenticate(req), directory });
  const { limits } = services;
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(API_PATH.test(req.url) ? API_HEADERS : SECURITY_HEADERS);
    await limits.byAddress(req, reply);
    await checkAccess(req);
    await limits.byPrincipal(req, reply);
  });

  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? true : [...config.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['content-type', 'authorization', 'x-api-key'],
      exposedHeaders: ['retry-after', 'content-disposition'],
      maxAge: 600,
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Learntwin API',
        version: VERSION,
        description:
          'Learning analytics: in-class signals and learning events in; class mastery, concept ' +
          'mastery, recommendations and exports out. Every data route needs an access token ' +
          '(POST /api/v1/auth/login) or an API key.',
      },
      components: { securitySchemes: SECURITY_SCHEMES },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Its policy would have browsers fetch the page's scripts over https, which a server that
    // speaks plain HTTP itself (TLS ends at a proxy, if any) does not answer.
    transformStaticCSP: (csp) => csp.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  healthRoutes(app, database);
  authRoutes(app, services);
  accountsRoutes(app, services);
  auditRoutes(app, audit);
  pulseRoutes(app, services);
  learningRoutes(app, { ...services, directory });
  liveRoutes(app, live);
  await registerWeb(app, webDir);
  return app;
}
