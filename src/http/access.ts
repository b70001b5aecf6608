import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../modules/accounts/accounts.table.ts';
import { SCOPES, type Scope } from '../modules/auth/auth.table.ts';
import type { FieldError } from '../modules/pulse/pulse.validation.ts';
import { AppError } from './errors.ts';
import { NUL_MESSAGE } from './input.ts';
import { isStaticRoute } from './web.ts';

/**
 * Who is asking. A person signed in with an access token, or an API key (the `API_KEY`
 * variable is a key with every scope). Classes are resolved when the request is
 * authenticated: 'all' for admins and unrestricted keys.
 */
export interface Principal {
  type: 'user' | 'api_key';
  /** user id, API key id, or "env" for the API_KEY variable */
  id: string;
  /** email or key name: how the audit log names the actor */
  label: string;
  role: Role | null;
  /** for learners: the id they have in the data */
  learnerId: string | null;
  scopes: ReadonlySet<Scope>;
  /** instructor: the classes taught; learner: the classes belonged to; key: its restriction */
  classes: ReadonlySet<string> | 'all';
}

/** What a route needs, declared on the route (`config.access`) and checked in one hook. */
export type Access =
  | { kind: 'public' }
  /** any valid credentials; the handler narrows further (e.g. lists filtered to what is visible) */
  | { kind: 'authenticated'; scope?: Scope }
  /** a signed-in person, not a key (own password, 2FA) */
  | { kind: 'user' }
  | { kind: 'admin' }
  /** a class named in the path: admin, the class's instructor, or a key for the class */
  | { kind: 'class'; scope: Scope; param: string }
  /** a learner named in the path: admin, the learner, their instructor, or a key for their class */
  | { kind: 'learner'; scope: Scope; param: string };

export const access = {
  public: { kind: 'public' } as Access,
  user: { kind: 'user' } as Access,
  admin: { kind: 'admin' } as Access,
  any: (scope?: Scope): Access => ({ kind: 'authenticated', scope }),
  class: (scope: Scope, param = 'class_id'): Access => ({ kind: 'class', scope, param }),
  learner: (scope: Scope, param = 'user_id'): Access => ({ kind: 'learner', scope, param }),
};

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  instructor: ['metrics:write', 'events:write', 'analytics:read', 'export:read'],
  learner: ['metrics:write', 'events:write', 'analytics:read'],
};

export const isAdmin = (p: Principal): boolean => p.scopes.has('admin');
export const hasScope = (p: Principal, s: Scope): boolean => isAdmin(p) || p.scopes.has(s);

/** Class-level views (aggregates, exports, rosters) are for staff and keys, never learners. */
export function canSeeClass(p: Principal, classId: string): boolean {
  if (isAdmin(p)) return true;
  if (p.role === 'learner') return false;
  return p.classes === 'all' || p.classes.has(classId);
}

/** Is a learner on the roster of any of these classes? */
export type LearnerDirectory = (learnerId: string, classIds: string[]) => Promise<boolean>;

export async function canSeeLearner(
  p: Principal,
  learnerId: string,
  directory: LearnerDirectory,
): Promise<boolean> {
  if (isAdmin(p)) return true;
  if (p.role === 'learner') return p.learnerId === learnerId;
  if (p.classes === 'all') return true;
  return p.classes.size > 0 && directory(learnerId, [...p.classes]);
}

/**
 * May this principal write a record about `learnerId` in `classId`? Returns the reason
 * (naming the field) when not, so that a batch reports the record instead of failing whole.
 */
export function writeDenial(
  p: Principal,
  target: { classId: string | null; learnerId: string },
  fields: { classField: string; learnerField: string },
): FieldError | null {
  if (isAdmin(p)) return null;
  if (p.role === 'learner') {
    if (p.learnerId !== target.learnerId) {
      return { field: fields.learnerField, message: 'is not you: learners record only their own' };
    }
    if (target.classId !== null && p.classes !== 'all' && !p.classes.has(target.classId)) {
      return { field: fields.classField, message: 'is not a class you belong to' };
    }
    return null;
  }
  if (p.classes === 'all') return null;
  if (target.classId === null) {
    return { field: fields.classField, message: 'is required for a class-restricted credential' };
  }
  if (!p.classes.has(target.classId)) {
    return { field: fields.classField, message: 'is not a class this credential may write to' };
  }
  return null;
}

/** A batch intake's check of one record or event: the reason it is refused, or null. */
export type WritePermit = (classId: string | null, learnerId: string) => FieldError | null;

/** The per-record check of an intake for this principal; none for unrestricted ones. */
export function writePermit(p: Principal, learnerField: string): WritePermit | undefined {
  if (isAdmin(p) || (p.role === null && p.classes === 'all')) return undefined;
  const fields = { classField: 'class_id', learnerField };
  return (classId, learnerId) => writeDenial(p, { classId, learnerId }, fields);
}

export const unauthorized = (message: string, code = 'unauthorized') =>
  new AppError(401, code, message);
export const forbidden = (message: string) => new AppError(403, 'forbidden', message);

export interface AccessDeps {
  /** resolves credentials to a principal; throws a 401 AppError for bad ones */
  authenticate(req: FastifyRequest): Promise<Principal | null>;
  directory: LearnerDirectory;
}

const OPEN_PREFIXES = ['/docs'];

/**
 * Makes every route declare its access policy: a route without one stops the server from
 * starting, so nothing is open by omission.
 */
export function requireAccessPolicies(app: FastifyInstance): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    if (route.config?.access) return;
    // CORS preflights (OPTIONS) carry no credentials by design; they only answer what is allowed.
    const open =
      route.method === 'OPTIONS' ||
      route.url === '/openapi.json' ||
      OPEN_PREFIXES.some((p) => route.url.startsWith(p)) ||
      isStaticRoute(route.url);
    if (!open) throw new Error(`Route ${route.method} ${route.url} declares no access policy`);
    route.config = { ...route.config, access: access.public };
  });
}

/** Authenticates and authorizes a request by its route's policy; sets `req.principal`. */
export function accessCheck(deps: AccessDeps) {
  return async function checkAccess(req: FastifyRequest): Promise<void> {
    const policy = req.routeOptions.config.access;
    if (!policy || policy.kind === 'public') return;
    const p = await deps.authenticate(req);
    if (!p) {
      throw unauthorized('Credentials required: an access token or an API key');
    }
    req.principal = p;
    await authorize(req, p, policy, deps.directory);
  };
}

async function authorize(
  req: FastifyRequest,
  p: Principal,
  policy: Access,
  directory: LearnerDirectory,
): Promise<void> {
  const params = req.params as Record<string, string | undefined>;
  // Checked before the route's own validation, and before a lookup by them (PostgreSQL
  // refuses the character in text).
  for (const [name, v] of Object.entries(params)) {
    if (v?.includes('\u0000')) {
      // As the route's own validation would answer it.
      throw new AppError(400, 'validation_failed', `Invalid params: ${name} ${NUL_MESSAGE}`, [
        { field: name, message: NUL_MESSAGE },
      ]);
    }
  }
  switch (policy.kind) {
    case 'public':
      return;
    case 'authenticated':
      if (policy.scope && !hasScope(p, policy.scope)) throw missingScope(policy.scope);
      return;
    case 'user':
      if (p.type !== 'user') throw forbidden('This needs a signed-in person, not an API key');
      return;
    case 'admin':
      if (!isAdmin(p)) throw forbidden('Only administrators may do this');
      return;
    case 'class': {
      if (!hasScope(p, policy.scope)) throw missingScope(policy.scope);
      const classId = params[policy.param] ?? '';
      if (!canSeeClass(p, classId)) throw forbidden(`No access to class "${classId}"`);
      return;
    }
    case 'learner': {
      if (!hasScope(p, policy.scope)) throw missingScope(policy.scope);
      const learnerId = params[policy.param] ?? '';
      if (!(await canSeeLearner(p, learnerId, directory))) {
        throw forbidden(`No access to learner "${learnerId}"`);
      }
      return;
    }
  }
}

const missingScope = (scope: Scope) => forbidden(`This credential lacks the scope ${scope}`);

/** The principal of a request whose route is not public (set by the access hook). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized('Credentials required');
  return req.principal;
}

/** Who did it and from where, for the audit log. */
export const actorOf = (req: FastifyRequest) => ({ principal: req.principal, ip: req.ip });
