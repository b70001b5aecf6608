import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../db/schema.ts';
import type { Principal } from '../../http/access.ts';
import { AppError, notFound } from '../../http/errors.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { revokeUserTokens } from '../auth/auth.repository.ts';
import { hashPassword, passwordProblem } from '../auth/secrets.ts';
import * as repo from './accounts.repository.ts';
import type { Role, User } from './accounts.table.ts';

export interface NewUser {
  email?: string | null;
  name: string;
  password?: string | null;
  role: Role;
  learner_id?: string | null;
}

export interface UserPatch {
  email?: string | null;
  name?: string;
  role?: Role;
  learner_id?: string | null;
  active?: boolean;
  /** an administrator's reset */
  password?: string;
}

export interface Actor {
  principal: Principal | null;
  ip: string | null;
}

export function userView(u: User) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    learner_id: u.learner_id,
    active: u.active === 1,
    two_factor_enabled: u.totp_enabled === 1,
    can_sign_in: u.password_hash !== null && u.email !== null,
    created_at: u.created_at,
    updated_at: u.updated_at,
  };
}
export type UserView = ReturnType<typeof userView>;

const conflict = (field: string, message: string) =>
  new AppError(409, 'conflict', `${field} ${message}`, [{ field, message }]);
const invalid = (field: string, message: string) =>
  new AppError(422, 'invalid_user', `${field} ${message}`, [{ field, message }]);

export const normalizeEmail = (e: string): string => e.trim().toLowerCase();

/** People, their roles, and who teaches or learns in which class. */
export class AccountsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditService,
  ) {}

  countUsers(): Promise<number> {
    return repo.countUsers(this.db);
  }

  byId(id: string): Promise<User | undefined> {
    return repo.userById(this.db, id);
  }

  byEmail(email: string): Promise<User | undefined> {
    return repo.userByEmail(this.db, normalizeEmail(email));
  }

  byLearnerId(learnerId: string): Promise<User | undefined> {
    return repo.userByLearnerId(this.db, learnerId);
  }

  classesOf(userId: string): Promise<string[]> {
    return repo.classesOf(this.db, userId);
  }

  /** Checks the rules every account keeps: learners have a learner id, staff have an email. */
  private async check(u: {
    id?: string;
    email: string | null;
    role: Role;
    learner_id: string | null;
  }): Promise<void> {
    if (u.role === 'learner' && !u.learner_id) {
      throw invalid('learner_id', 'is required for a learner: it links the account to the data');
    }
    if (u.role !== 'learner' && u.learner_id) {
      throw invalid('learner_id', `is only for learners, not for the role ${u.role}`);
    }
    if (u.role !== 'learner' && !u.email) {
      throw invalid('email', `is required for the role ${u.role}`);
    }
    if (u.email) {
      const other = await repo.userByEmail(this.db, u.email);
      if (other && other.id !== u.id) throw conflict('email', 'is already used by another account');
    }
    if (u.learner_id) {
      const other = await repo.userByLearnerId(this.db, u.learner_id);
      if (other && other.id !== u.id) {
        throw conflict('learner_id', 'already belongs to another account');
      }
    }
  }

  async create(input: NewUser, actor: Actor): Promise<UserView> {
    const email = input.email ? normalizeEmail(input.email) : null;
    const learnerId = input.learner_id ?? null;
    await this.check({ email, role: input.role, learner_id: learnerId });
    if (input.password != null) {
      const problem = passwordProblem(input.password);
      if (problem) throw invalid('password', problem);
    }
    const now = new Date().toISOString();
    const row = {
      id: uuidv7(),
      email,
      name: input.name.trim() || email || learnerId || 'unnamed',
      role: input.role,
      learner_id: learnerId,
      password_hash: input.password != null ? await hashPassword(input.password) : null,
      active: 1,
      totp_secret: null,
      totp_enabled: 0,
      totp_last_step: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await repo.insertUser(this.db, row);
    } catch (e) {
      // Two requests raced for the same email or learner id: the loser is told, not crashed.
      if (/unique|duplicate/i.test(String((e as Error).message))) {
        throw conflict('email', 'or learner_id is already used by another account');
      }
      throw e;
    }
    await this.audit.record({
      action: 'user.create',
      principal: actor.principal,
      ip: actor.ip,
      target: row.id,
      details: { email, role: row.role, learner_id: learnerId },
    });
    return userView(row);
  }

  async get(id: string): Promise<UserView> {
    const u = await repo.userById(this.db, id);
    if (!u) throw notFound(`No user ${id}`);
    return userView(u);
  }

  list(f: { role?: Role; active?: boolean; q?: string; limit?: number; offset?: number }) {
    return repo
      .listUsers(this.db, { ...f, limit: f.limit ?? 100, offset: f.offset ?? 0 })
      .then((rows) => rows.map(userView));
  }

  async update(id: string, patch: UserPatch, actor: Actor): Promise<UserView> {
    const u = await repo.userById(this.db, id);
    if (!u) throw notFound(`No user ${id}`);
    const next = {
      id,
      email: patch.email === undefined ? u.email : patch.email && normalizeEmail(patch.email),
      role: patch.role ?? u.role,
      learner_id: patch.learner_id === undefined ? u.learner_id : patch.learner_id,
    };
    await this.check(next);
    if (
      actor.principal?.id === id &&
      (patch.active === false || (patch.role && patch.role !== 'admin'))
    ) {
      throw invalid('role', 'an administrator cannot demote or deactivate their own account');
    }
    const now = new Date().toISOString();
    const set: Partial<User> = { ...next, updated_at: now };
    delete (set as { id?: string }).id;
    if (patch.name !== undefined) set.name = patch.name.trim() || u.name;
    if (patch.active !== undefined) set.active = patch.active ? 1 : 0;
    if (patch.password !== undefined) {
      const problem = passwordProblem(patch.password);
      if (problem) throw invalid('password', problem);
      set.password_hash = await hashPassword(patch.password);
    }
    await repo.updateUser(this.db, id, set);
    // Memberships were made for the old role: a learner made instructor must not start
    // teaching the classes they sat in. The administrator enrols them anew.
    const leftClasses = next.role !== u.role ? await repo.leaveAllClasses(this.db, id) : [];
    if (patch.password !== undefined || (patch.active === false && u.active === 1)) {
      // A reset or a deactivation ends the sessions the account had, as an own change does.
      await revokeUserTokens(this.db, id, now);
    }
    const base = { principal: actor.principal, ip: actor.ip, target: id };
    if (next.role !== u.role) {
      await this.audit.record({
        ...base,
        action: 'user.role_change',
        details: { from: u.role, to: next.role, classes_left: leftClasses },
      });
    }
    if (patch.active !== undefined && (patch.active ? 1 : 0) !== u.active) {
      await this.audit.record({
        ...base,
        action: patch.active ? 'user.activate' : 'user.deactivate',
      });
    }
    if (patch.password !== undefined)
      await this.audit.record({ ...base, action: 'user.password_reset' });
    const changed = Object.keys(patch).filter((k) => !['role', 'active', 'password'].includes(k));
    if (changed.length)
      await this.audit.record({ ...base, action: 'user.update', details: { fields: changed } });
    return userView((await repo.userById(this.db, id))!);
  }

  /** Sets a password (own change, setup); the caller has checked the right to. */
  async setPassword(id: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw invalid('password', problem);
    await repo.updateUser(this.db, id, {
      password_hash: await hashPassword(password),
      updated_at: new Date().toISOString(),
    });
  }

  updateRaw(id: string, patch: Partial<User>): Promise<unknown> {
    return repo.updateUser(this.db, id, patch);
  }

  async members(classId: string) {
    const rows = await repo.membersOf(this.db, classId);
    return {
      class_id: classId,
      members: rows.map((r) => ({ ...r, active: r.active === 1 })),
    };
  }

  async addMember(classId: string, userId: string, actor: Actor) {
    const u = await repo.userById(this.db, userId);
    if (!u) throw notFound(`No user ${userId}`);
    if (u.role === 'admin') {
      throw invalid('user_id', 'is an administrator: administrators see every class already');
    }
    const existing = await repo.memberOf(this.db, classId, userId);
    await repo.upsertMember(this.db, {
      class_id: classId,
      user_id: userId,
      role: u.role,
      added_at: existing?.added_at ?? new Date().toISOString(),
    });
    if (!existing) {
      await this.audit.record({
        action: 'class.member_add',
        principal: actor.principal,
        ip: actor.ip,
        target: `${classId}/${userId}`,
        details: { role: u.role },
      });
    }
    return { class_id: classId, user_id: userId, role: u.role, created: !existing };
  }

  async removeMember(classId: string, userId: string, actor: Actor): Promise<void> {
    if (!(await repo.deleteMember(this.db, classId, userId))) {
      throw notFound(`${userId} is not a member of class ${classId}`);
    }
    await this.audit.record({
      action: 'class.member_remove',
      principal: actor.principal,
      ip: actor.ip,
      target: `${classId}/${userId}`,
    });
  }

  learnerOnRoster(learnerId: string, classIds: string[]): Promise<boolean> {
    return repo.learnerOnRoster(this.db, learnerId, classIds);
  }

  /** Adds a membership without an audit line (roster import audits its whole run). */
  async enrol(classId: string, user: User): Promise<boolean> {
    const existing = await repo.memberOf(this.db, classId, user.id);
    if (existing && existing.role === user.role) return false;
    await repo.upsertMember(this.db, {
      class_id: classId,
      user_id: user.id,
      role: user.role === 'learner' ? 'learner' : 'instructor',
      added_at: existing?.added_at ?? new Date().toISOString(),
    });
    return !existing;
  }
}
