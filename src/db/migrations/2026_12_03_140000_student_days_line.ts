import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * SQLite: the students' daily sums may lag the log by its newest records. The writer holds a
 * flush's sums per (class, day, student) in memory and adds them to class_student_day_stats
 * about once a second, instead of upserting one row per student with every flush; the row of
 * pulse_student_days says through which log id the table holds them. Whoever reads the table
 * first adds the records past that line (see pulse.store.ts), so no answer misses one, and
 * the log keeps them whatever happens to a process's memory.
 *
 * Every record stored so far is in the table already: the line starts at the log's last id.
 * PostgreSQL adds every flush's sums at once, as before: there several servers write at once.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  // Each step can run again (SQLite migrations run outside a transaction).
  await db.schema
    .createTable('pulse_student_days')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('summed_through', 'integer', (c) => c.notNull())
    .execute();
  await sql`insert or replace into pulse_student_days (id, summed_through)
    values (1, coalesce((select max(id) from metric_records), 0))`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  // The records past the line go into the table first: the code before knows no line.
  await sql`insert into class_student_day_stats
      (class_id, day, student_id, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts)
    select class_id, substr(ts, 1, 10), student_id, count(*), sum(stuck), sum(got_it), sum(pause),
      sum(example), sum(confidence), min(ts), max(ts)
    from metric_records
    where id > coalesce((select summed_through from pulse_student_days where id = 1), 0)
    group by class_id, substr(ts, 1, 10), student_id
    on conflict (class_id, day, student_id) do update set
      n = class_student_day_stats.n + excluded.n,
      stuck = class_student_day_stats.stuck + excluded.stuck,
      got_it = class_student_day_stats.got_it + excluded.got_it,
      pause = class_student_day_stats.pause + excluded.pause,
      example = class_student_day_stats.example + excluded.example,
      confidence_sum = class_student_day_stats.confidence_sum + excluded.confidence_sum,
      first_ts = min(class_student_day_stats.first_ts, excluded.first_ts),
      last_ts = max(class_student_day_stats.last_ts, excluded.last_ts)`.execute(db);
  await db.schema.dropTable('pulse_student_days').ifExists().execute();
}
