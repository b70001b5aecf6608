import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { AccountsService } from '../modules/accounts/accounts.service.ts';
import { randomToken } from '../modules/auth/secrets.ts';
import { studentIdsOf } from '../modules/pulse/pulse.repository.ts';

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
 * Puts every student of the demo classes on their class's roster (as learner accounts without
 * email or password: they exist for membership, not to sign in), so that teachers can open
 * their learners' pages.
 */
export async function ensureDemoRosters(
  db: Kysely<Database>,
  accounts: AccountsService,
  classIds: string[],
): Promise<number> {
  let added = 0;
  for (const classId of classIds) {
    for (const student_id of await studentIdsOf(db, classId)) {
      let user = await accounts.byLearnerId(student_id);
      if (!user) {
        const made = await accounts.create(
          { name: student_id, role: 'learner', learner_id: student_id },
          { principal: null, ip: null },
        );
        user = await accounts.byId(made.id);
      }
      if (user && (await accounts.enrol(classId, user))) added++;
    }
  }
  return added;
}

/**
 * A demo administrator, an instructor of the first demo class and one of its students as a
 * learner. Passwords are random and printed once; no password is ever built in.
 */
export async function ensureDemoAccounts(
  db: Kysely<Database>,
  accounts: AccountsService,
  classId: string,
): Promise<DemoAccount[]> {
  const [first] = await studentIdsOf(db, classId);
  const student = first === undefined ? undefined : { student_id: first };
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
    const rostered = !user && w.learner_id ? await accounts.byLearnerId(w.learner_id) : undefined;
    if (rostered && rostered.password_hash === null) {
      // The student is on the roster already: give that account a way to sign in.
      password = randomToken(12);
      await accounts.update(rostered.id, { email: w.email, name: 'Demo Learner' }, actor);
      await accounts.setPassword(rostered.id, password);
      user = await accounts.byId(rostered.id);
    } else if (!user) {
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
