import { type Kysely, sql, type SqlBool } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ClassMemberTable, Role, User, UserTable } from './accounts.table.ts';

type Q = Kysely<Database>;

export const countUsers = async (db: Q): Promise<number> => {
  const r = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
};

export const insertUser = (db: Q, row: UserTable) => db.insertInto('users').values(row).execute();

export const userById = (db: Q, id: string): Promise<User | undefined> =>
  db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();

export const userByEmail = (db: Q, email: string): Promise<User | undefined> =>
  db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();

export const userByLearnerId = (db: Q, learnerId: string): Promise<User | undefined> =>
  db.selectFrom('users').selectAll().where('learner_id', '=', learnerId).executeTakeFirst();

export const updateUser = (db: Q, id: string, patch: Partial<UserTable>) =>
  db.updateTable('users').set(patch).where('id', '=', id).execute();

export function listUsers(
  db: Q,
  f: { role?: Role; active?: boolean; q?: string; limit: number; offset: number },
): Promise<User[]> {
  let q = db.selectFrom('users').selectAll();
  if (f.role) q = q.where('role', '=', f.role);
  if (f.active !== undefined) q = q.where('active', '=', f.active ? 1 : 0);
  if (f.q) {
    const like = `%${f.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // ESCAPE is spelled out: SQLite's LIKE has no escape character unless told (PostgreSQL's is \).
    q = q.where((eb) =>
      eb.or([
        sql<SqlBool>`lower(${sql.ref('name')}) like ${like} escape '\\'`,
        sql<SqlBool>`${sql.ref('email')} like ${like} escape '\\'`,
        eb('learner_id', '=', f.q!),
      ]),
    );
  }
  return q.orderBy('created_at').orderBy('id').limit(f.limit).offset(f.offset).execute();
}

export async function classesOf(db: Q, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('class_members')
    .select('class_id')
    .where('user_id', '=', userId)
    .orderBy('class_id')
    .execute();
  return rows.map((r) => r.class_id);
}

export const upsertMember = (db: Q, row: ClassMemberTable) =>
  db
    .insertInto('class_members')
    .values(row)
    .onConflict((oc) => oc.columns(['class_id', 'user_id']).doUpdateSet({ role: row.role }))
    .execute();

/** Takes an account out of every class; returns the classes it was in. */
export async function leaveAllClasses(db: Q, userId: string): Promise<string[]> {
  const rows = await db
    .deleteFrom('class_members')
    .where('user_id', '=', userId)
    .returning('class_id')
    .execute();
  return rows.map((r) => r.class_id).sort();
}

export const memberOf = (db: Q, classId: string, userId: string) =>
  db
    .selectFrom('class_members')
    .selectAll()
    .where('class_id', '=', classId)
    .where('user_id', '=', userId)
    .executeTakeFirst();

export async function deleteMember(db: Q, classId: string, userId: string): Promise<boolean> {
  const r = await db
    .deleteFrom('class_members')
    .where('class_id', '=', classId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export const membersOf = (db: Q, classId: string) =>
  db
    .selectFrom('class_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'm.role', 'm.added_at', 'u.name', 'u.email', 'u.learner_id', 'u.active'])
    .where('m.class_id', '=', classId)
    .orderBy('m.role')
    .orderBy('u.name')
    .execute();

/** Is this learner on the roster of one of these classes? */
export async function learnerOnRoster(
  db: Q,
  learnerId: string,
  classIds: string[],
): Promise<boolean> {
  const r = await db
    .selectFrom('users as u')
    .innerJoin('class_members as m', 'm.user_id', 'u.id')
    .select('m.class_id')
    .where('u.learner_id', '=', learnerId)
    .where('m.class_id', 'in', classIds)
    .executeTakeFirst();
  return r !== undefined;
}
