import type { Selectable } from 'kysely';

export type Role = 'admin' | 'instructor' | 'learner';
export const ROLES: readonly Role[] = ['admin', 'instructor', 'learner'];

export interface UserTable {
  id: string;
  /** lower-cased; null for a roster learner who has no sign-in yet */
  email: string | null;
  name: string;
  role: Role;
  /** the id this learner has in the data (`user_id` of events, `student_id` of metrics) */
  learner_id: string | null;
  /** argon2id; null until a password is set (such an account cannot sign in) */
  password_hash: string | null;
  active: number;
  /** base32 TOTP secret, set by 2FA setup, used once enabled */
  totp_secret: string | null;
  totp_enabled: number;
  /** the last TOTP time step accepted: a code is good once only */
  totp_last_step: number | null;
  created_at: string;
  updated_at: string;
}

export interface ClassMemberTable {
  class_id: string;
  user_id: string;
  role: 'instructor' | 'learner';
  added_at: string;
}

export interface AccountTables {
  users: UserTable;
  class_members: ClassMemberTable;
}

export type User = Selectable<UserTable>;
