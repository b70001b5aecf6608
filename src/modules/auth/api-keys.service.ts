import { hash, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../db/schema.ts';
import { isAdmin, type Principal, forbidden, unauthorized } from '../../http/access.ts';
import { AppError, notFound } from '../../http/errors.ts';
import { parseInstant } from '../../models/time.ts';
import type { AccountsService, Actor } from '../accounts/accounts.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import * as repo from './auth.repository.ts';
import { SCOPES, type ApiKeyTable, type Scope } from './auth.table.ts';
import { randomToken, sha256 } from './secrets.ts';

export interface NewApiKey {
  name: string;
  scopes: Scope[];
  class_ids?: string[] | null;
  expires_at?: string | null;
}

const KEY_PREFIX = 'lt_';
/** last_used_at is written at most this often per key, not on every request */
const TOUCH_EVERY_MS = 60_000;

export function apiKeyView(k: ApiKeyTable) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: JSON.parse(k.scopes) as Scope[],
    class_ids: k.class_ids === null ? null : (JSON.parse(k.class_ids) as string[]),
    expires_at: k.expires_at,
    last_used_at: k.last_used_at,
    created_by: k.created_by,
    created_at: k.created_at,
    revoked_at: k.revoked_at,
  };
}

const invalid = (field: string, message: string) =>
  new AppError(422, 'invalid_api_key_request', `${field} ${message}`, [{ field, message }]);

// One-shot hashing: several times cheaper than a Hash object on every request.
const digest = (s: string) => hash('sha256', s, 'buffer');

/** The API_KEY variable's principal: every scope, every class (made once; never changed). */
const ENV_PRINCIPAL: Principal = Object.freeze({
  type: 'api_key',
  id: 'env',
  label: 'API_KEY',
  role: null,
  learnerId: null,
  scopes: new Set(SCOPES),
  classes: 'all',
});

/** API keys for other systems: hashed at rest, scoped, optionally bound to classes. */
export class ApiKeysService {
  private readonly envKey: Buffer | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditService,
    private readonly accounts: AccountsService,
    envApiKey: string | undefined,
  ) {
    this.envKey = envApiKey === undefined ? undefined : digest(envApiKey);
  }

  /** The principal of a presented key; a 401 for an unknown, revoked or expired one. */
  async resolve(secret: string): Promise<Principal> {
    if (this.envKey && timingSafeEqual(digest(secret), this.envKey)) return ENV_PRINCIPAL;
    const k = secret.startsWith(KEY_PREFIX)
      ? await repo.apiKeyByHash(this.db, sha256(secret))
      : undefined;
    if (!k || k.revoked_at !== null) throw unauthorized('Invalid API key');
    const now = new Date();
    if (k.expires_at !== null && k.expires_at <= now.toISOString()) {
      throw unauthorized('The API key has expired', 'api_key_expired');
    }
    const scopes = new Set(JSON.parse(k.scopes) as Scope[]);
    let classes: Principal['classes'] =
      k.class_ids === null ? 'all' : new Set(JSON.parse(k.class_ids) as string[]);
    // A key never reaches further than the person who made it can today.
    if (k.created_by !== null) {
      const owner = await this.accounts.byId(k.created_by);
      if (!owner || owner.active !== 1 || owner.role === 'learner') {
        throw unauthorized('The API key belongs to an account that can no longer use it');
      }
      if (owner.role === 'instructor') {
        scopes.delete('admin');
        const teaching = new Set(await this.accounts.classesOf(owner.id));
        classes =
          classes === 'all' ? teaching : new Set([...classes].filter((c) => teaching.has(c)));
      }
    }
    if (k.last_used_at === null || now.getTime() - Date.parse(k.last_used_at) > TOUCH_EVERY_MS) {
      await repo.touchApiKey(this.db, k.id, now.toISOString());
    }
    return {
      type: 'api_key',
      id: k.id,
      label: k.name,
      role: null,
      learnerId: null,
      scopes,
      classes,
    };
  }

  /** Admins make any key; instructors make keys for their own classes, without `admin`. */
  async create(input: NewApiKey, actor: Actor & { principal: Principal }) {
    const p = actor.principal;
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0) throw invalid('scopes', 'must name at least one scope');
    const classIds = input.class_ids == null ? null : [...new Set(input.class_ids)];
    if (classIds !== null && classIds.length === 0) {
      throw invalid('class_ids', 'must name at least one class, or be left out for every class');
    }
    if (!isAdmin(p)) {
      if (p.role !== 'instructor')
        throw forbidden('Only administrators and instructors make API keys');
      if (scopes.includes('admin')) throw invalid('scopes', 'admin is for administrators to grant');
      if (classIds === null) throw invalid('class_ids', 'is required: name the classes you teach');
      const mine = p.classes;
      const foreign = classIds.filter((c) => mine !== 'all' && !mine.has(c));
      if (foreign.length)
        throw invalid('class_ids', `includes classes you do not teach: ${foreign.join(', ')}`);
    }
    // The admin scope reaches every class and every admin route: a class list would not hold.
    if (classIds !== null && scopes.includes('admin')) {
      throw invalid(
        'class_ids',
        'cannot restrict a key with the admin scope, which sees every class',
      );
    }
    let expiresAt: string | null = null;
    if (input.expires_at != null) {
      const t = parseInstant(input.expires_at);
      if (!t) throw invalid('expires_at', 'must be an ISO-8601 date or date-time');
      if (t.ms <= Date.now()) throw invalid('expires_at', 'must be in the future');
      expiresAt = new Date(t.ms).toISOString();
    }
    const key = KEY_PREFIX + randomToken(24);
    const row: ApiKeyTable = {
      id: uuidv7(),
      name: input.name.trim(),
      prefix: key.slice(0, 11),
      key_hash: sha256(key),
      scopes: JSON.stringify(scopes),
      class_ids: classIds === null ? null : JSON.stringify(classIds),
      expires_at: expiresAt,
      last_used_at: null,
      created_by: p.type === 'user' ? p.id : null,
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    if (!row.name) throw invalid('name', 'must not be blank');
    await repo.insertApiKey(this.db, row);
    await this.audit.record({
      action: 'api_key.create',
      principal: p,
      ip: actor.ip,
      target: row.id,
      details: { name: row.name, prefix: row.prefix, scopes, class_ids: classIds },
    });
    return { ...apiKeyView(row), key };
  }

  async list(p: Principal, includeRevoked: boolean) {
    const rows = await repo.listApiKeys(this.db, includeRevoked);
    return rows.filter((k) => isAdmin(p) || k.created_by === p.id).map(apiKeyView);
  }

  async revoke(id: string, actor: Actor & { principal: Principal }): Promise<void> {
    const k = await repo.apiKeyById(this.db, id);
    // Another person's key is "not found": its existence is not theirs to learn.
    if (!k || (!isAdmin(actor.principal) && k.created_by !== actor.principal.id)) {
      throw notFound(`No API key ${id}`);
    }
    if (!(await repo.revokeApiKey(this.db, id, new Date().toISOString()))) {
      throw notFound(`API key ${id} is already revoked`);
    }
    await this.audit.record({
      action: 'api_key.revoke',
      principal: actor.principal,
      ip: actor.ip,
      target: id,
      details: { name: k.name, prefix: k.prefix },
    });
  }
}
