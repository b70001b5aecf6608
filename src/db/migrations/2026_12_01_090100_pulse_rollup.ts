import { type Kysely, sql } from 'kysely';

/**
 * class_students becomes a roll-up: the per-(class, student) sums of every record of a UTC day
 * before `rolled_before`. Days from then on are read from class_student_day_stats, so a live
 * record (of today) updates one projection row instead of two; once a day the writer folds the
 * days just ended into class_students. The roll-up starts at today: class_students is rebuilt
 * from the daily sums of the days before it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('pulse_rollup')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('rolled_before', 'text', (c) => c.notNull())
    .execute();
  const today = new Date().toISOString().slice(0, 10);
  await db.insertInto('pulse_rollup').values({ id: 1, rolled_before: today }).execute();
  await db.deleteFrom('class_students').execute();
  await sql`insert into class_students
      (class_id, student_id, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts)
    select class_id, student_id, sum(n), sum(stuck), sum(got_it), sum(pause), sum(example),
      sum(confidence_sum), min(first_ts), max(last_ts)
    from class_student_day_stats where day < ${today} group by class_id, student_id`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('class_students').execute();
  await sql`insert into class_students
      (class_id, student_id, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts)
    select class_id, student_id, sum(n), sum(stuck), sum(got_it), sum(pause), sum(example),
      sum(confidence_sum), min(first_ts), max(last_ts)
    from class_student_day_stats group by class_id, student_id`.execute(db);
  await db.schema.dropTable('pulse_rollup').ifExists().execute();
}
