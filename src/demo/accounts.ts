import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { AccountsService } from '../modules/accounts/accounts.service.ts';
import { randomToken } from '../modules/auth/secrets.ts';

export interface DemoAccount {
  role: 'admin' | 'instructor' | 'learner';
  email: string;
  /** shown once, when the account is made; null when it existed already */
  password: string | null;
  learner_id: string | null;
  class_id: string | null;
}

const DOMAIN = 'learntwin.example';

/**
 * A demo administrator, an instructor of the first demo class and one of its students as a
 * learner. Passwords are random and printed once; no password is ever built in.
 */
export async function ensureDemoAccounts(
  db: Kysely<Database>,
  accounts: AccountsService,
  classId: string,
): Promise<DemoAccount[]> {
  const student = await db
    .selectFrom('class_students')
    .select('student_id')
    .where('class_id', '=', classId)
    .orderBy('student_id')
    .executeTakeFirst();
  const wanted: Omit<DemoAccount, 'password'>[] = [
    { role: 'admin', email: `admin@${DOMAIN}`, learner_id: null, class_id: null },
    { role: 'instructor', email: `teacher@${DOMAIN}`, learner_id: null, class_id: classId },
  ];
  if (student) {
    wanted.push({
      role: 'learner',
      email: `learner@${DOMAIN}`,
      learner_id: student.student_id,
      class_id: classId,
    });
  }
  const actor = { principal: null, ip: null };
  const out: DemoAccount[] = [];
  for (const w of wanted) {
    let user = await accounts.byEmail(w.email);
    let password: string | null = null;
    if (!user) {
      password = randomToken(12);
      const names = { admin: 'Demo Admin', instructor: 'Demo Teacher', learner: 'Demo Learner' };
      const made = await accounts.create(
        { email: w.email, name: names[w.role], password, role: w.role, learner_id: w.learner_id },
        actor,
      );
      user = await accounts.byId(made.id);
    }
    if (user && w.class_id) await accounts.enrol(w.class_id, user);
    out.push({ ...w, password });
  }
  return out;
}
