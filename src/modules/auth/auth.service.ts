import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../db/schema.ts';
import { type Principal, ROLE_SCOPES, unauthorized } from '../../http/access.ts';
import { AppError } from '../../http/errors.ts';
import {
  type Actor,
  type AccountsService,
  type UserView,
  userView,
} from '../accounts/accounts.service.ts';
import type { User } from '../accounts/accounts.table.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { ApiKeysService } from './api-keys.service.ts';
import * as repo from './auth.repository.ts';
import {
  backupCode,
  normalizeBackupCode,
  passwordProblem,
  randomToken,
  sha256,
  verifyPassword,
} from './secrets.ts';
import { ACCESS_TOKEN_SECONDS, looksLikeJwt, TokenError, TokenSigner } from './tokens.ts';
import { checkTotp, newTotpSecret, totpProvisioning } from './totp.ts';

export interface AuthOptions {
  /** a configured signing secret; otherwise one is made once and kept in the database */
  jwtSecret?: string;
  refreshTokenDays: number;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

interface SetupInput {
  setup_token: string;
  email: string;
  name?: string;
  password: string;
}

const BACKUP_CODES = 10;
const DAY_MS = 86_400_000;

const invalidCredentials = () =>
  new AppError(401, 'invalid_credentials', 'Wrong email or password');
const invalidCode = () =>
  new AppError(401, 'invalid_code', 'The code is wrong, expired or already used');
const invalid = (field: string, message: string) =>
  new AppError(422, 'invalid_request', `${field} ${message}`, [{ field, message }]);

/** Sign-in, tokens, two-factor and first-run setup; turns credentials into a Principal. */
export class AuthService {
  /** shown once in the log while no user exists; creates the first administrator */
  readonly setupToken = randomToken(24);
  private signer!: TokenSigner;
  /** setups run one at a time (the token is this process's, so a lock here is enough) */
  private setupQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly accounts: AccountsService,
    private readonly keys: ApiKeysService,
    private readonly audit: AuditService,
    private readonly opts: AuthOptions,
  ) {}

  async init(): Promise<void> {
    const secret =
      this.opts.jwtSecret ??
      (await repo.settingOrInit(this.db, 'jwt_secret', () => randomToken(48)));
    this.signer = new TokenSigner(new TextEncoder().encode(secret));
  }

  async setupNeeded(): Promise<boolean> {
    return (await this.accounts.countUsers()) === 0;
  }

  /** Credentials of a request → principal; null when it carries none; 401 for bad ones. */
  async authenticate(req: FastifyRequest): Promise<Principal | null> {
    const key = req.headers['x-api-key'];
    const auth = req.headers.authorization;
    if (typeof key === 'string' && key !== '') return this.keys.resolve(key);
    if (typeof auth !== 'string' || auth === '') return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) throw unauthorized('Authorization must be "Bearer <access token or API key>"');
    const bearer = m[1]!;
    return looksLikeJwt(bearer) ? this.principalOfToken(bearer) : this.keys.resolve(bearer);
  }

  private async principalOfToken(token: string): Promise<Principal> {
    let userId: string;
    try {
      userId = await this.signer.verify(token, 'access');
    } catch (e) {
      if (e instanceof TokenError) throw unauthorized(e.message, e.code);
      throw e;
    }
    const u = await this.accounts.byId(userId);
    if (!u || u.active !== 1) throw unauthorized('The account is not active', 'account_inactive');
    return this.principalOf(u);
  }

  async principalOf(u: User): Promise<Principal> {
    return {
      type: 'user',
      id: u.id,
      label: u.email ?? u.name,
      role: u.role,
      learnerId: u.learner_id,
      scopes: new Set(ROLE_SCOPES[u.role]),
      classes: u.role === 'admin' ? 'all' : new Set(await this.accounts.classesOf(u.id)),
    };
  }

  setup(input: SetupInput, ip: string | null): Promise<UserView> {
    // Two requests at once must not both see "no users yet" and both create an administrator.
    const run = this.setupQueue.then(() => this.setupOnce(input, ip));
    this.setupQueue = run.catch(() => undefined);
    return run;
  }

  private async setupOnce(input: SetupInput, ip: string | null): Promise<UserView> {
    const given = Buffer.from(sha256(input.setup_token));
    const ok = timingSafeEqual(given, Buffer.from(sha256(this.setupToken)));
    if (!(await this.setupNeeded())) {
      throw new AppError(409, 'already_set_up', 'Setup is done: an account exists already');
    }
    if (!ok) {
      await this.audit.record({ action: 'auth.setup', outcome: 'failure', ip });
      throw new AppError(403, 'invalid_setup_token', 'The setup token is wrong');
    }
    const user = await this.accounts.create(
      {
        email: input.email,
        name: input.name ?? input.email,
        password: input.password,
        role: 'admin',
      },
      { principal: null, ip },
    );
    await this.audit.record({ action: 'auth.setup', actorId: user.id, ip, target: user.id });
    return user;
  }

  private async issue(u: User, familyId: string = uuidv7()): Promise<TokenPair> {
    const refresh = `rt_${randomToken(32)}`;
    const now = Date.now();
    await repo.insertRefreshToken(this.db, {
      id: uuidv7(),
      family_id: familyId,
      user_id: u.id,
      token_hash: sha256(refresh),
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.opts.refreshTokenDays * DAY_MS).toISOString(),
      used_at: null,
      revoked_at: null,
    });
    return {
      access_token: await this.signer.access(u.id),
      refresh_token: refresh,
      token_type: 'bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
    };
  }

  async login(
    email: string,
    password: string,
    ip: string | null,
  ): Promise<TokenPair | { mfa_required: true; mfa_token: string }> {
    const u = await this.accounts.byEmail(email);
    const ok = await verifyPassword(u?.password_hash ?? null, password);
    if (!u || !ok || u.active !== 1) {
      await this.audit.record({
        action: 'auth.login',
        outcome: 'failure',
        actorId: u?.id,
        actorLabel: email,
        ip,
        details: { reason: !u || !ok ? 'wrong email or password' : 'account inactive' },
      });
      throw invalidCredentials();
    }
    if (u.totp_enabled === 1) {
      await this.audit.record({
        action: 'auth.login_password',
        actorId: u.id,
        actorLabel: email,
        ip,
      });
      return { mfa_required: true, mfa_token: await this.signer.mfa(u.id) };
    }
    await this.audit.record({ action: 'auth.login', actorId: u.id, actorLabel: email, ip });
    return this.issue(u);
  }

  /** The account an MFA token is for (so that attempts can be limited per account). */
  async mfaUser(mfaToken: string): Promise<string> {
    try {
      return await this.signer.verify(mfaToken, 'mfa');
    } catch (e) {
      if (e instanceof TokenError) throw unauthorized(e.message, e.code);
      throw e;
    }
  }

  async loginMfa(mfaToken: string, code: string, ip: string | null): Promise<TokenPair> {
    const userId = await this.mfaUser(mfaToken);
    const u = await this.accounts.byId(userId);
    if (!u || u.active !== 1 || u.totp_enabled !== 1) throw unauthorized('Sign in again');
    const how = await this.checkSecondFactor(u, code);
    const label = u.email ?? u.name;
    if (!how) {
      await this.audit.record({
        action: 'auth.login',
        outcome: 'failure',
        actorId: u.id,
        actorLabel: label,
        ip,
        details: { reason: 'wrong second factor' },
      });
      throw invalidCode();
    }
    await this.audit.record({
      action: 'auth.login',
      actorId: u.id,
      actorLabel: label,
      ip,
      details: { second_factor: how },
    });
    return this.issue(u);
  }

  /** A TOTP code (once only) or an unused backup code; says which, or null. */
  private async checkSecondFactor(u: User, code: string): Promise<'totp' | 'backup_code' | null> {
    const c = code.trim();
    if (/^\d{3}[\s-]?\d{3}$/.test(c)) {
      const step = await checkTotp(u.totp_secret ?? '', c, u.totp_last_step);
      if (step !== null && (await repo.advanceTotpStep(this.db, u.id, step))) return 'totp';
      return null;
    }
    const hash = sha256(normalizeBackupCode(c));
    if (await repo.consumeBackupCode(this.db, u.id, hash, new Date().toISOString())) {
      return 'backup_code';
    }
    return null;
  }

  async refresh(token: string, ip: string | null): Promise<TokenPair> {
    const row = await repo.refreshTokenByHash(this.db, sha256(token));
    if (!row || row.revoked_at !== null) {
      throw unauthorized('The refresh token is not valid; sign in again', 'invalid_token');
    }
    const now = new Date().toISOString();
    if (row.used_at !== null || !(await repo.claimRefreshToken(this.db, row.id, now))) {
      // A rotated token came back: it was copied. End the whole sign-in it belongs to.
      await repo.revokeFamily(this.db, row.family_id, now);
      await this.audit.record({
        action: 'auth.refresh_reuse',
        outcome: 'failure',
        actorId: row.user_id,
        ip,
        details: { family_id: row.family_id },
      });
      throw unauthorized(
        'This refresh token was already used; the session is ended for safety',
        'token_reused',
      );
    }
    if (row.expires_at <= now) {
      throw unauthorized('The refresh token has expired; sign in again', 'token_expired');
    }
    const u = await this.accounts.byId(row.user_id);
    if (!u || u.active !== 1) throw unauthorized('The account is not active', 'account_inactive');
    const pair = await this.issue(u, row.family_id);
    // A reuse seen while this refresh ran may have revoked the family before the new token
    // existed; look again, so that the session ends whatever the interleaving.
    if (await repo.familyRevoked(this.db, row.family_id)) {
      await repo.revokeFamily(this.db, row.family_id, new Date().toISOString());
      throw unauthorized(
        'This session was ended: its refresh token was used twice',
        'token_reused',
      );
    }
    return pair;
  }

  async logout(token: string, ip: string | null): Promise<void> {
    const row = await repo.refreshTokenByHash(this.db, sha256(token));
    if (!row) return;
    await repo.revokeFamily(this.db, row.family_id, new Date().toISOString());
    await this.audit.record({ action: 'auth.logout', actorId: row.user_id, ip });
  }

  async me(p: Principal) {
    const scopes = [...p.scopes];
    const classes = p.classes === 'all' ? null : [...p.classes].sort();
    if (p.type === 'api_key') {
      return {
        type: p.type,
        api_key: { id: p.id, name: p.label },
        user: null,
        scopes,
        class_ids: classes,
      };
    }
    const u = await this.accounts.byId(p.id);
    return {
      type: p.type,
      api_key: null,
      user: u ? userView(u) : null,
      scopes,
      class_ids: classes,
      backup_codes_left: u && u.totp_enabled ? await repo.unusedBackupCodes(this.db, u.id) : null,
    };
  }

  private async user(p: Principal): Promise<User> {
    const u = await this.accounts.byId(p.id);
    if (!u) throw unauthorized('The account no longer exists');
    return u;
  }

  async changePassword(p: Principal, current: string, next: string, ip: string | null) {
    const u = await this.user(p);
    if (!(await verifyPassword(u.password_hash, current))) {
      await this.audit.record({
        action: 'user.password_change',
        outcome: 'failure',
        principal: p,
        ip,
      });
      throw invalid('current_password', 'is wrong');
    }
    // Name the field as the client sent it (setPassword would call it "password").
    const problem = passwordProblem(next);
    if (problem) throw invalid('new_password', problem);
    await this.accounts.setPassword(u.id, next);
    // Every sign-in of this account ends (a changed password should lock out a thief); the
    // person who changed it gets a fresh session here.
    await repo.revokeUserTokens(this.db, u.id, new Date().toISOString());
    await this.audit.record({ action: 'user.password_change', principal: p, ip, target: u.id });
    return this.issue(u);
  }

  async setupTwoFactor(p: Principal, password: string, actor: Actor) {
    const u = await this.user(p);
    // A stolen access token alone must not be enough to put the owner's sign-in under a new key.
    if (!(await verifyPassword(u.password_hash, password))) {
      await this.audit.record({
        action: 'auth.2fa_setup',
        outcome: 'failure',
        principal: p,
        ip: actor.ip,
      });
      throw new AppError(401, 'invalid_credentials', 'Wrong password');
    }
    if (u.totp_enabled === 1) {
      throw new AppError(409, 'two_factor_enabled', 'Two-factor is on already; disable it first');
    }
    const secret = newTotpSecret();
    await this.accounts.updateRaw(u.id, { totp_secret: secret, totp_last_step: null });
    await this.audit.record({ action: 'auth.2fa_setup', principal: p, ip: actor.ip, target: u.id });
    return totpProvisioning(secret, u.email ?? u.name);
  }

  async enableTwoFactor(p: Principal, code: string, actor: Actor) {
    const u = await this.user(p);
    if (u.totp_enabled === 1)
      throw new AppError(409, 'two_factor_enabled', 'Two-factor is on already');
    if (!u.totp_secret) throw new AppError(409, 'two_factor_not_set_up', 'Call 2fa/setup first');
    const step = await checkTotp(u.totp_secret, code.trim(), u.totp_last_step);
    if (step === null || !(await repo.advanceTotpStep(this.db, u.id, step))) {
      await this.audit.record({
        action: 'auth.2fa_enable',
        outcome: 'failure',
        principal: p,
        ip: actor.ip,
      });
      throw invalidCode();
    }
    const codes = Array.from({ length: BACKUP_CODES }, backupCode);
    await repo.replaceBackupCodes(
      this.db,
      u.id,
      codes.map((c) => sha256(normalizeBackupCode(c))),
    );
    await this.accounts.updateRaw(u.id, { totp_enabled: 1, updated_at: new Date().toISOString() });
    await this.audit.record({
      action: 'auth.2fa_enable',
      principal: p,
      ip: actor.ip,
      target: u.id,
    });
    return { enabled: true, backup_codes: codes };
  }

  async disableTwoFactor(p: Principal, password: string, code: string, actor: Actor) {
    const u = await this.user(p);
    if (u.totp_enabled !== 1) throw new AppError(409, 'two_factor_disabled', 'Two-factor is off');
    const ok =
      (await verifyPassword(u.password_hash, password)) && (await this.checkSecondFactor(u, code));
    if (!ok) {
      await this.audit.record({
        action: 'auth.2fa_disable',
        outcome: 'failure',
        principal: p,
        ip: actor.ip,
      });
      throw new AppError(401, 'invalid_credentials', 'Wrong password or code');
    }
    await this.accounts.updateRaw(u.id, {
      totp_enabled: 0,
      totp_secret: null,
      totp_last_step: null,
      updated_at: new Date().toISOString(),
    });
    await repo.replaceBackupCodes(this.db, u.id, []);
    await this.audit.record({
      action: 'auth.2fa_disable',
      principal: p,
      ip: actor.ip,
      target: u.id,
    });
    return { enabled: false };
  }
}
