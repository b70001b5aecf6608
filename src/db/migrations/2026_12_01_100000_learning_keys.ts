import { type Kysely, sql } from 'kysely';

/**
 * The learner's rows of event_concepts become the only per-learner index of the event log:
 * every event has one (concept_id '' when it names no concept), and exactly one of an event's
 * rows is its `lead`, the row a learner's history reads. The separate (user, time) and
 * (class, time) indexes of learning_events are dropped: each scattered every write over
 * thousands of pages. Concepts are found through concept_mastery, whose index on the concept
 * changes only when a learner meets a concept for the first time.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('learning_events_user_time').ifExists().execute();
  await db.schema.dropIndex('learning_events_class').ifExists().execute();
  await db.schema.dropIndex('event_concepts_concept').ifExists().execute();
  await db.schema
    .alterTable('event_concepts')
    .addColumn('lead', 'smallint', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update event_concepts set lead = 1
    where (user_id, concept_id, occurred_at, event_id) in (
      select user_id, min(concept_id), occurred_at, event_id from event_concepts
      group by user_id, occurred_at, event_id)`.execute(db);
  await sql`insert into event_concepts (user_id, concept_id, occurred_at, event_id, outcome, lead)
    select user_id, '', occurred_at, id, null, 1 from learning_events
    where concept_ids is null`.execute(db);
  await db.schema
    .createIndex('concept_mastery_concept')
    .on('concept_mastery')
    .columns(['concept_id', 'user_id'])
    .execute();
  await db.schema.alterTable('class_learners').dropColumn('last_event_at').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('class_learners')
    .addColumn('last_event_at', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.dropIndex('concept_mastery_concept').ifExists().execute();
  await db.deleteFrom('event_concepts').where('concept_id', '=', '').execute();
  await db.schema.alterTable('event_concepts').dropColumn('lead').execute();
  await db.schema
    .createIndex('event_concepts_concept')
    .on('event_concepts')
    .columns(['concept_id', 'user_id'])
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
}
