import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * SQLite: the log's runs may lag it by its newest records, as the students' daily sums do.
 * The writer holds a flush's runs in memory with its students' sums and writes both about
 * once a second; the line of pulse_student_days now says through which log id both tables
 * hold the records (see pulse.store.ts). When requests are small a flush's runs are about one
 * per record, each an insert at its own place in the table.
 *
 * Nothing changes in the data on the way up: every record stored so far has its run. On the
 * way down, the records past the line get their runs first, since the code before finds every
 * record through them. PostgreSQL has no runs.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(_db: Kysely<any>): Promise<void> {}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  const line = sql`coalesce((select summed_through from pulse_student_days where id = 1), 0)`;
  await sql`delete from metric_record_runs where first_id > ${line}`.execute(db);
  await sql`insert into metric_record_runs (class_id, day, first_id, last_id)
    select class_id, day, min(id), max(id) from (
      select id, class_id, substr(ts, 1, 10) as day,
        id - row_number() over (partition by class_id, substr(ts, 1, 10) order by id) as stretch
      from metric_records where id > ${line})
    group by class_id, day, stretch`.execute(db);
}
