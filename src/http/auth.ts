import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The single shared key of the seed (`API_KEY`): when set, data routes need `X-API-Key`.
 * Compared by digest in constant time so neither content nor length leaks through timing.
 */
export function apiKeyGuard(apiKey: string | undefined) {
  if (apiKey === undefined) return undefined;
  const expected = digest(apiKey);
  return async function requireApiKey(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const given = req.headers['x-api-key'];
    if (typeof given !== 'string' || given === '') {
      throw new AppError(401, 'unauthorized', 'Missing X-API-Key header');
    }
    if (!timingSafeEqual(digest(given), expected)) {
      throw new AppError(401, 'unauthorized', 'Invalid API key');
    }
  };
}
