import type { FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { AppError } from './errors.ts';

export interface RateLimitOptions {
  /** requests per minute per client address and per principal; 0 turns the limit off */
  perMinute: number;
  /** sign-in and two-factor attempts per minute, per address and per account; 0: off */
  authPerMinute: number;
  /** when set, counters are shared by every server process through Redis */
  redisUrl?: string;
  /** key prefix in Redis, so that test runs and deployments do not share counters */
  redisPrefix?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** sign-in, token and two-factor routes: the strict limit applies */
    authLimited?: boolean;
  }
}

type Limiter = RateLimiterAbstract;

/**
 * Fixed-window limits: per client address before authentication (so floods of bad
 * credentials cost nothing), per principal after it, and a strict one on sign-in and 2FA.
 */
export class RateLimits {
  private readonly redis: Redis | undefined;
  private readonly general: Limiter | undefined;
  private readonly auth: Limiter | undefined;

  constructor(opts: RateLimitOptions) {
    const prefix = opts.redisPrefix ?? 'learntwin:rl';
    if (opts.redisUrl) {
      this.redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      // Connection trouble is logged by the insurance path, not thrown into requests.
      this.redis.on('error', () => undefined);
    }
    const make = (points: number, name: string): Limiter | undefined => {
      if (points <= 0) return undefined;
      const base = { points, duration: 60, keyPrefix: `${prefix}:${name}` };
      if (!this.redis) return new RateLimiterMemory(base);
      // If Redis is unreachable, each process limits on its own rather than failing requests.
      return new RateLimiterRedis({
        ...base,
        storeClient: this.redis,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(base),
      });
    };
    this.general = make(opts.perMinute, 'req');
    this.auth = make(opts.authPerMinute, 'auth');
  }

  private async consume(limiter: Limiter | undefined, key: string, reply: FastifyReply) {
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const seconds = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      reply.header('retry-after', String(seconds));
      throw new AppError(429, 'rate_limited', `Too many requests; try again in ${seconds} s`, {
        retry_after: seconds,
      });
    }
  }

  /** Per address; runs before authentication. */
  byAddress = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const cfg = req.routeOptions.config;
    // Health checks and the API docs are not worth limiting; everything else is.
    if (cfg.access?.kind === 'public' && !cfg.authLimited) return;
    if (cfg.authLimited) {
      await this.consume(this.auth, `ip:${req.ip}`, reply);
    }
    await this.consume(this.general, `ip:${req.ip}`, reply);
  };

  /** Per principal; runs after authentication. */
  byPrincipal = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const p = req.principal;
    if (!p) return;
    if (req.routeOptions.config.authLimited) {
      await this.consume(this.auth, `${p.type}:${p.id}`, reply);
    }
    await this.consume(this.general, `${p.type}:${p.id}`, reply);
  };

  /** Per account named in a sign-in (an email), whoever asks and from wherever. */
  async account(name: string, reply: FastifyReply): Promise<void> {
    await this.consume(this.auth, `acct:${name.trim().toLowerCase()}`, reply);
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}
