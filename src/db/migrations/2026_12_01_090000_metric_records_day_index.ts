import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * The log's class index orders records by (class, UTC day) and then by arrival, rather than by
 * (class, timestamp). Records of a live class arrive in any order within a minute or more;
 * indexed by timestamp, each one landed on its own page of the index, and every commit
 * rewrote thousands of pages. By day, a flush appends to one spot per class and day.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.dropIndex('metric_records_class_ts').ifExists().execute();
  await db.schema
    .createIndex('metric_records_class_day')
    .on('metric_records')
    // SQLite appends the rowid (= id) to every index entry by itself.
    .expression(pg ? sql`class_id, substr(ts, 1, 10), id` : sql`class_id, substr(ts, 1, 10)`)
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('metric_records_class_day').ifExists().execute();
  await db.schema
    .createIndex('metric_records_class_ts')
    .on('metric_records')
    .columns(['class_id', 'ts', 'id'])
    .execute();
}
