import { type CreateTableBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const float = pg ? sql`double precision` : sql`real`;

  let records = db.schema.createTable('metric_records');
  records = pg
    ? records.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : records.addColumn('id', 'integer', (c) => c.primaryKey());
  await records
    .addColumn('class_id', 'text', (c) => c.notNull())
    .addColumn('student_id', 'text', (c) => c.notNull())
    .addColumn('stuck', 'smallint', (c) => c.notNull())
    .addColumn('got_it', 'smallint', (c) => c.notNull())
    .addColumn('pause', 'smallint', (c) => c.notNull())
    .addColumn('example', 'smallint', (c) => c.notNull())
    .addColumn('confidence', float, (c) => c.notNull())
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('metric_records_class_ts')
    .on('metric_records')
    .columns(['class_id', 'ts', 'id'])
    .execute();
  await db.schema
    .createIndex('metric_records_event_id')
    .on('metric_records')
    .column('event_id')
    .unique()
    .where('event_id', 'is not', null)
    .execute();

  // SQLite: store the sums in their key's B-tree, so an upsert touches one tree, not two.
  const clustered = <T extends CreateTableBuilder<string, string>>(b: T): T =>
    pg ? b : (b.modifyEnd(sql`without rowid`) as T);

  // Per-(class, day, student) and per-(class, student) sums: projections of metric_records.
  const sums = (t: string) =>
    db.schema
      .createTable(t)
      .addColumn('n', 'integer', (c) => c.notNull())
      .addColumn('stuck', 'integer', (c) => c.notNull())
      .addColumn('got_it', 'integer', (c) => c.notNull())
      .addColumn('pause', 'integer', (c) => c.notNull())
      .addColumn('example', 'integer', (c) => c.notNull())
      .addColumn('confidence_sum', float, (c) => c.notNull())
      .addColumn('first_ts', 'text', (c) => c.notNull())
      .addColumn('last_ts', 'text', (c) => c.notNull());

  await sums('class_student_day_stats')
    .addColumn('class_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('student_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('class_student_day_stats_pk', ['class_id', 'day', 'student_id'])
    .$call(clustered)
    .execute();
  await sums('class_students')
    .addColumn('class_id', 'text', (c) => c.notNull())
    .addColumn('student_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('class_students_pk', ['class_id', 'student_id'])
    .$call(clustered)
    .execute();
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['class_students', 'class_student_day_stats', 'metric_records']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
