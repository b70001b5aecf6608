import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import { apiKeyGuard } from './http/auth.ts';
import { registerErrorHandling } from './http/errors.ts';
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
  database: Db;
  logger?: FastifyServerOptions['logger'];
}

export interface Services {
  ingest: PulseIngest;
  pulse: PulseService;
  events: EventsService;
  mastery: MasteryService;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export async function buildApp({ config, database, logger }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    // Leave the ids clients chose alone: class ids may be long and hold any character.
    routerOptions: { maxParamLength: 1024 },
  });
  registerErrorHandling(app);
  // JSON only: a text/plain body is refused with 415 rather than read as a string.
  app.removeContentTypeParser('text/plain');

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Learntwin API',
        version: VERSION,
        description:
          'Learning analytics: in-class signals in, class mastery, recommendations and exports out.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const mastery = new MasteryService(database.db, database.dialect, app.log);
  const services: Services = {
    ingest: new PulseIngest(database.db, database.dialect, config.maxRecordsPerRequest),
    pulse: new PulseService(database.db, config.ruleThresholds),
    events: new EventsService(database.db, database.dialect, mastery, config.maxRecordsPerRequest),
    mastery,
  };
  app.decorate('services', services);
  app.addHook('onClose', async () => {
    await services.ingest.close();
    await services.events.close();
  });

  healthRoutes(app, database);
  await app.register(async (data) => {
    const guard = apiKeyGuard(config.apiKey);
    if (guard) data.addHook('onRequest', guard);
    pulseRoutes(data, services);
    learningRoutes(data, services);
  });
  return app;
}
