import { resolve } from 'node:path';
import type { RuleThresholds } from './models/class-rules.ts';
import { DEFAULT_RULE_THRESHOLDS } from './models/class-rules.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** A `postgres://` URL, or the path of the SQLite file. */
  readonly databaseUrl: string;
  readonly apiKey: string | undefined;
  readonly logLevel: LogLevel;
  readonly maxRecordsPerRequest: number;
  readonly bodyLimitBytes: number;
  /** SQLite `synchronous` pragma: FULL makes every commit survive a power loss. */
  readonly sqliteSynchronous: 'FULL' | 'NORMAL';
  readonly pgPoolSize: number;
  readonly ruleThresholds: RuleThresholds;
  /** signs access tokens; when unset, a secret is made once and kept in the database */
  readonly jwtSecret: string | undefined;
  readonly refreshTokenDays: number;
  readonly rateLimitPerMinute: number;
  readonly rateLimitAuthPerMinute: number;
  readonly redisUrl: string | undefined;
  /** origins allowed to call the API from a browser; empty: same origin only */
  readonly corsOrigins: readonly string[];
  /** trust X-Forwarded-For from a proxy in front (for client addresses in limits and audit) */
  readonly trustProxy: boolean;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim() as T;
  if (!allowed.includes(v)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return v;
}

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/** Reads and validates the environment once; the only place that touches process.env. */
export function loadConfig(env: Env = process.env): Config {
  const d = DEFAULT_RULE_THRESHOLDS;
  const ruleThresholds: RuleThresholds = {
    stuckRateHigh: num(env, 'RULE_STUCK_RATE_HIGH', d.stuckRateHigh, 0, 1),
    confidenceLow: num(env, 'RULE_CONFIDENCE_LOW', d.confidenceLow, 1, 10),
    exampleRateLow: num(env, 'RULE_EXAMPLE_RATE_LOW', d.exampleRateLow, 0, 1),
    pauseRateHigh: num(env, 'RULE_PAUSE_RATE_HIGH', d.pauseRateHigh, 0, 1),
    gotItRateHigh: num(env, 'RULE_GOT_IT_RATE_HIGH', d.gotItRateHigh, 0, 1),
    confidenceHigh: num(env, 'RULE_CONFIDENCE_HIGH', d.confidenceHigh, 1, 10),
    priorityHigh: num(env, 'RULE_PRIORITY_HIGH', d.priorityHigh, 0, 1),
    priorityMedium: num(env, 'RULE_PRIORITY_MEDIUM', d.priorityMedium, 0, 1),
  };
  if (ruleThresholds.priorityMedium > ruleThresholds.priorityHigh) {
    throw new ConfigError('RULE_PRIORITY_MEDIUM must not be above RULE_PRIORITY_HIGH');
  }
  const databaseUrl = env.DATABASE_URL?.trim() || resolve('data', 'learntwin.db');
  const apiKey = env.API_KEY === undefined || env.API_KEY === '' ? undefined : env.API_KEY;
  const jwtSecret = env.JWT_SECRET || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters');
  }
  const corsOrigins = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return Object.freeze({
    port: int(env, 'PORT', 8000, 0, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    databaseUrl,
    apiKey,
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    maxRecordsPerRequest: int(env, 'MAX_RECORDS_PER_REQUEST', 10_000, 1, 1_000_000),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    sqliteSynchronous: oneOf(env, 'SQLITE_SYNCHRONOUS', 'FULL', ['FULL', 'NORMAL'] as const),
    pgPoolSize: int(env, 'PG_POOL_SIZE', 10, 1, 1000),
    ruleThresholds: Object.freeze(ruleThresholds),
    jwtSecret,
    refreshTokenDays: int(env, 'REFRESH_TOKEN_DAYS', 30, 1, 365),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 3000, 0, 10_000_000),
    rateLimitAuthPerMinute: int(env, 'RATE_LIMIT_AUTH_PER_MINUTE', 10, 0, 10_000),
    redisUrl: env.REDIS_URL?.trim() || undefined,
    corsOrigins: Object.freeze(corsOrigins),
    trustProxy: oneOf(env, 'TRUST_PROXY', 'false', ['true', 'false'] as const) === 'true',
  });
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}
