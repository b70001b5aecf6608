import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * SQLite: the log's class index gives way to runs. The single writer stores a flush's records
 * grouped by (class, UTC day), so each group's records take consecutive ids; one row of
 * metric_record_runs names the ids [first_id, last_id] of one group. A flush of 10,000 records
 * over 100 classes adds 100 runs where the index took 10,000 entries, and the index's upkeep
 * was a third of the writer's time. Reads by class and day walk the class's runs, each a range
 * of the log's rowid.
 *
 * The runs of the records already stored are their stretches of consecutive ids within one
 * class and day (as stored before, one record often makes a run of its own).
 *
 * PostgreSQL keeps its index: there, several servers draw ids from one sequence at once, so a
 * group's ids need not be consecutive.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  // Each step can run again: SQLite migrations run outside a transaction, so a process that
  // died halfway through leaves a state the next start must be able to pass.
  await db.schema
    .createTable('metric_record_runs')
    .ifNotExists()
    .addColumn('class_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('first_id', 'integer', (c) => c.notNull())
    .addColumn('last_id', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('metric_record_runs_pk', ['class_id', 'day', 'first_id'])
    .modifyEnd(sql`without rowid`)
    .execute();
  await db.deleteFrom('metric_record_runs').execute();
  // Within a (class, day), id minus the record's rank is constant along a stretch of
  // consecutive ids and grows at every gap.
  await sql`insert into metric_record_runs (class_id, day, first_id, last_id)
    select class_id, day, min(id), max(id) from (
      select id, class_id, substr(ts, 1, 10) as day,
        id - row_number() over (partition by class_id, substr(ts, 1, 10) order by id) as stretch
      from metric_records)
    group by class_id, day, stretch`.execute(db);
  await db.schema.dropIndex('metric_records_class_day').ifExists().execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await db.schema
    .createIndex('metric_records_class_day')
    .ifNotExists()
    .on('metric_records')
    .expression(sql`class_id, substr(ts, 1, 10)`)
    .execute();
  await db.schema.dropTable('metric_record_runs').ifExists().execute();
}
