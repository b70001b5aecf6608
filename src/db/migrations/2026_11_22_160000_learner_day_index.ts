import type { Kysely } from 'kysely';

// A learner's own signals over time (GET /api/v1/learners/{id}/pulse) read the per-day sums by
// student across classes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('class_student_day_stats_student')
    .on('class_student_day_stats')
    .columns(['student_id', 'day'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('class_student_day_stats_student').ifExists().execute();
}
