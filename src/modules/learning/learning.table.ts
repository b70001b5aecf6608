import type { Selectable } from 'kysely';

/** The learning-event log (append-only). JSON columns are stored as text in both dialects. */
export interface LearningEventTable {
  id: string;
  event_type: string;
  user_id: string;
  class_id: string | null;
  course_id: string | null;
  lesson_id: string | null;
  /** JSON array of concept ids, or null */
  concept_ids: string | null;
  correct: number | null;
  score: number | null;
  duration_ms: number | null;
  occurred_at: string;
  received_at: string;
  /** JSON object, or null */
  context: string | null;
  /** hash of the event's content: a repeated id with the same hash is a duplicate */
  fingerprint: string;
}

/**
 * The per-learner index of the log: one row per (event, concept) it names, or one row with
 * concept_id '' for an event that names none. Attempt sequences per (learner, concept) and a
 * learner's history are read from it.
 */
export interface EventConceptTable {
  user_id: string;
  concept_id: string;
  occurred_at: string;
  event_id: string;
  /** the attempt's observation (correct 0/1, else score), null when the event is no attempt */
  outcome: number | null;
  /** 1 on exactly one row of each event (its first concept): the row history reads */
  lead: number;
}

export interface ConceptMasteryTable {
  user_id: string;
  concept_id: string;
  attempts: number;
  correct: number;
  p_known: number;
  last_attempt_at: string;
  last_event_id: string;
}

/** Which learners a class has, from the events that name the class. */
export interface ClassLearnerTable {
  class_id: string;
  user_id: string;
}

export interface ConceptParamsTable {
  concept_id: string;
  p_init: number;
  p_learn: number;
  p_slip: number;
  p_guess: number;
  sequences: number;
  attempts: number;
  log_likelihood: number;
  fit_ms: number;
  fitted_at: string;
}

export interface LearningTables {
  learning_events: LearningEventTable;
  event_concepts: EventConceptTable;
  concept_mastery: ConceptMasteryTable;
  class_learners: ClassLearnerTable;
  concept_params: ConceptParamsTable;
}

export type LearningEvent = Selectable<LearningEventTable>;
export type ConceptMastery = Selectable<ConceptMasteryTable>;
