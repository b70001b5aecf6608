import { type CreateTableBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const float = pg ? sql`double precision` : sql`real`;
  const clustered = <T extends CreateTableBuilder<string, string>>(b: T): T =>
    pg ? b : (b.modifyEnd(sql`without rowid`) as T);

  // The learning-event log: append-only, the source of truth of every learner model.
  await db.schema
    .createTable('learning_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('class_id', 'text')
    .addColumn('course_id', 'text')
    .addColumn('lesson_id', 'text')
    .addColumn('concept_ids', 'text')
    .addColumn('correct', 'smallint')
    .addColumn('score', float)
    .addColumn('duration_ms', 'bigint')
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('context', 'text')
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('learning_events_user_time')
    .on('learning_events')
    .columns(['user_id', 'occurred_at', 'id'])
    .execute();
  await db.schema
    .createIndex('learning_events_class')
    .on('learning_events')
    .columns(['class_id', 'occurred_at'])
    .where('class_id', 'is not', null)
    .execute();

  // One row per (event, concept): history by concept, and each (learner, concept) attempt
  // sequence in order for replays and fitting. `outcome` is null when the event is no attempt.
  await db.schema
    .createTable('event_concepts')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('concept_id', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('outcome', float)
    .addPrimaryKeyConstraint('event_concepts_pk', [
      'user_id',
      'concept_id',
      'occurred_at',
      'event_id',
    ])
    .$call(clustered)
    .execute();
  await db.schema
    .createIndex('event_concepts_concept')
    .on('event_concepts')
    .columns(['concept_id', 'user_id'])
    .execute();

  // Projection: mastery per (learner, concept), rebuildable from event_concepts.
  await db.schema
    .createTable('concept_mastery')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('concept_id', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('correct', float, (c) => c.notNull())
    .addColumn('p_known', float, (c) => c.notNull())
    .addColumn('last_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_event_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('concept_mastery_pk', ['user_id', 'concept_id'])
    .$call(clustered)
    .execute();

  // Projection: which learners a class has (from the events that name the class).
  await db.schema
    .createTable('class_learners')
    .addColumn('class_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('last_event_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('class_learners_pk', ['class_id', 'user_id'])
    .$call(clustered)
    .execute();

  // Fitted BKT parameters per concept (configuration, not a projection: EM output is kept).
  await db.schema
    .createTable('concept_params')
    .addColumn('concept_id', 'text', (c) => c.primaryKey())
    .addColumn('p_init', float, (c) => c.notNull())
    .addColumn('p_learn', float, (c) => c.notNull())
    .addColumn('p_slip', float, (c) => c.notNull())
    .addColumn('p_guess', float, (c) => c.notNull())
    .addColumn('sequences', 'integer', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('log_likelihood', float, (c) => c.notNull())
    .addColumn('fit_ms', float, (c) => c.notNull())
    .addColumn('fitted_at', 'text', (c) => c.notNull())
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'concept_params',
    'class_learners',
    'concept_mastery',
    'event_concepts',
    'learning_events',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
