import {
  type BktParams,
  DEFAULT_BKT_PARAMS,
  MASTERED_THRESHOLD,
  update,
} from '../../models/bkt.ts';
import type { ConceptMasteryTable, ConceptParamsTable } from './learning.table.ts';

/** The state of one (learner, concept) and how to fold attempts into it; pure. */
export interface MasteryState {
  attempts: number;
  correct: number;
  p_known: number;
  last_attempt_at: string;
  last_event_id: string;
}

export interface AttemptLike {
  occurred_at: string;
  event_id: string;
  outcome: number;
}

/** Replay order: by time, ties broken by event id, so every replay sees the same sequence. */
export function compareAttempts(
  a: { occurred_at: string; event_id: string },
  b: { occurred_at: string; event_id: string },
): number {
  if (a.occurred_at !== b.occurred_at) return a.occurred_at < b.occurred_at ? -1 : 1;
  return a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
}

export function paramsFrom(row: ConceptParamsTable | undefined): BktParams {
  if (!row) return DEFAULT_BKT_PARAMS;
  return { p_init: row.p_init, p_learn: row.p_learn, p_slip: row.p_slip, p_guess: row.p_guess };
}

/** The state before any attempt. */
export function freshState(params: BktParams): MasteryState {
  return {
    attempts: 0,
    correct: 0,
    p_known: params.p_init,
    last_attempt_at: '',
    last_event_id: '',
  };
}

/** Applies an attempt's outcome to a state's counts and p_known, in place. */
export function applyOutcome(s: MasteryState, outcome: number, params: BktParams): void {
  s.attempts++;
  s.correct += outcome;
  s.p_known = update(s.p_known, outcome, params);
}

/** Applies one attempt to a state, in place (the next one in replay order). */
export function step(
  s: MasteryState,
  occurredAt: string,
  eventId: string,
  outcome: number,
  params: BktParams,
): void {
  applyOutcome(s, outcome, params);
  s.last_attempt_at = occurredAt;
  s.last_event_id = eventId;
}

/** Applies attempts (already in replay order) to a state, or to a fresh one. */
export function fold(
  state: MasteryState | undefined,
  attempts: AttemptLike[],
  params: BktParams,
): MasteryState {
  const s = state ? { ...state } : freshState(params);
  for (const a of attempts) step(s, a.occurred_at, a.event_id, a.outcome, params);
  return s;
}

/** The API view of a stored state. */
export function masteryView(row: ConceptMasteryTable) {
  return {
    concept_id: row.concept_id,
    attempts: Number(row.attempts),
    correct: Math.round(row.correct * 1000) / 1000,
    ratio: row.attempts > 0 ? Math.round((1000 * row.correct) / row.attempts) / 10 : 0,
    p_known: row.p_known,
    mastery: Math.round(100 * row.p_known),
    mastered: row.p_known >= MASTERED_THRESHOLD,
    last_attempt_at: row.last_attempt_at,
  };
}
