import { ConfigError, loadConfig } from './config.ts';
import { handleSignals, startServer } from './server.ts';

try {
  const running = await startServer(loadConfig());
  handleSignals(running);
  running.app.log.info(
    `API on ${running.url}  ·  docs ${running.url}/docs  ·  OpenAPI ${running.url}/openapi.json`,
  );
} catch (err) {
  if (err instanceof ConfigError) console.error(`learntwin: configuration error: ${err.message}`);
  else console.error('learntwin: failed to start:', err);
  process.exit(1);
}
