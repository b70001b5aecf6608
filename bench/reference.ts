/**
 * The machine's own yardstick: a bare Fastify server in a child process (same node flags as
 * the server) answering a tiny JSON POST, driven by the same load generator and clients as
 * single-record ingest. Shared machines vary from day to day by a factor of two; the figures
 * of one run are best read against this one.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { runLoad } from './load.ts';
import { type Ctx } from './phases.ts';
import { SERVER_NODE_FLAGS } from './server.ts';

const SERVER = `
const app = require('fastify')();
app.post('/x', async () => ({ ok: true }));
app.listen({ port: 0, host: '127.0.0.1' }).then(() => console.log(app.server.address().port));
`;

export async function reference(ctx: Ctx, root: string): Promise<void> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '-e', SERVER], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    const port = Number(chunk.toString().trim());
    if (!Number.isInteger(port)) throw new Error(`reference server: ${String(chunk)}`);
    const s = await runLoad({
      url: `http://127.0.0.1:${port}/x`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      bodies: [Buffer.from('{"a":1}')],
      connections: ctx.connections.ingest1,
      durationS: ctx.durationS,
    });
    ctx.report.add('reference.bare_fastify_req_per_s', s.requestsPerSecAvg, 'req/s');
    ctx.details.reference = s;
  } finally {
    child.kill();
  }
}
