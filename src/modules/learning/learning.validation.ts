import { hash } from 'node:crypto';
import { newEventId } from './ids.ts';
import { externalId, UUID_RE } from '../../http/input.ts';
import { AHEAD_MESSAGE, sentInstant } from '../../models/time.ts';
import type { FieldError } from '../pulse/pulse.validation.ts';

export const EVENT_TYPES = [
  'quiz_attempt',
  'video_watched',
  'assignment_submitted',
  'lesson_started',
  'lesson_completed',
  'hint_requested',
] as const;
/** Types that are about concepts and must name at least one. */
const NEEDS_CONCEPT = new Set(['quiz_attempt', 'assignment_submitted']);
/**
 * Built-in types that are no answer: `correct` and `score` on them are refused, since on an
 * event with concepts they would count as an attempt (a video's share watched sent as `score`,
 * say). A custom x- type with an outcome and concepts is an attempt, like a quiz's.
 */
const NO_OUTCOME = new Set([
  'video_watched',
  'lesson_started',
  'lesson_completed',
  'hint_requested',
]);
const CUSTOM_TYPE = /^x-[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const MAX_CONTEXT_BYTES = 16 * 1024;
/** How deep a context's objects and arrays may nest (its own braces count as one). */
export const MAX_CONTEXT_DEPTH = 32;
export const MAX_CONCEPTS = 100;

/** An event that passed validation, normalised for storage. */
export interface ValidEvent {
  id: string;
  /** true when the server made the id (it cannot collide with a stored one) */
  generatedId: boolean;
  event_type: string;
  user_id: string;
  class_id: string | null;
  course_id: string | null;
  lesson_id: string | null;
  concept_ids: string[];
  correct: boolean | null;
  score: number | null;
  duration_ms: number | null;
  occurred_at: string;
  context: Record<string, unknown> | null;
  fingerprint: string;
}

export type EventResult = { ok: true; event: ValidEvent } | { ok: false; errors: FieldError[] };

/** The observation an attempt gives the learner model: `correct` if sent, else `score`. */
export function outcomeOf(e: { correct: boolean | null; score: number | null }): number | null {
  if (e.correct !== null) return e.correct ? 1 : 0;
  return e.score;
}

function optionalId(
  r: Record<string, unknown>,
  field: string,
  errors: FieldError[],
): string | null {
  const v = r[field];
  if (v === undefined || v === null) return null;
  const id = externalId(v);
  if (typeof id === 'string') return id;
  errors.push({ field, message: id[0]! });
  return null;
}

/** Whether a JSON value nests objects and arrays deeper than `max` levels (looked at without recursion). */
function deeperThan(v: unknown, max: number): boolean {
  const stack: [object, number][] = [];
  if (typeof v === 'object' && v !== null) stack.push([v, 1]);
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (depth > max) return true;
    // Only objects and arrays are kept to look at: a long flat array costs no memory here.
    for (const y of Array.isArray(x) ? x : Object.values(x)) {
      if (typeof y === 'object' && y !== null) stack.push([y, depth + 1]);
    }
  }
  return false;
}

/** JSON with object keys sorted, so that key order is not part of an event's content. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const J = JSON.stringify;

/**
 * The text an event's fingerprint hashes: its content as JSON with the keys in sorted order
 * (`stableJson` of the content, written out field by field because this runs for every event),
 * with occurred_at as sent (null when the server chose it).
 */
export function contentText(
  e: Omit<ValidEvent, 'id' | 'generatedId' | 'fingerprint'>,
  sentAt: string | null,
): string {
  let concepts = '';
  for (let i = 0; i < e.concept_ids.length; i++) {
    concepts += (i ? ',' : '') + J(e.concept_ids[i]);
  }
  return (
    `{"class_id":${J(e.class_id)},"concept_ids":[${concepts}],` +
    `"context":${stableJson(e.context)},"correct":${J(e.correct)},` +
    `"course_id":${J(e.course_id)},"duration_ms":${J(e.duration_ms)},` +
    `"event_type":${J(e.event_type)},"lesson_id":${J(e.lesson_id)},` +
    `"occurred_at":${J(sentAt)},"score":${J(e.score)},"user_id":${J(e.user_id)}}`
  );
}

export function validateEvent(input: unknown, nowIso: string): EventResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: 'event', message: 'must be a JSON object' }] };
  }
  const r = input as Record<string, unknown>;
  const errors: FieldError[] = [];

  const type = r.event_type;
  if (type === undefined || type === null)
    errors.push({ field: 'event_type', message: 'is required' });
  else if (
    typeof type !== 'string' ||
    !((EVENT_TYPES as readonly string[]).includes(type) || CUSTOM_TYPE.test(type))
  ) {
    errors.push({
      field: 'event_type',
      message: `must be one of ${EVENT_TYPES.join(', ')}, or a custom type starting with x-`,
    });
  }

  const userId = externalId(r.user_id);
  if (typeof userId !== 'string') errors.push({ field: 'user_id', message: userId[0]! });
  const classId = optionalId(r, 'class_id', errors);
  const courseId = optionalId(r, 'course_id', errors);
  const lessonId = optionalId(r, 'lesson_id', errors);

  const concepts: string[] = [];
  if (r.concept_id !== undefined && r.concept_id !== null) {
    const c = externalId(r.concept_id);
    if (typeof c === 'string') concepts.push(c);
    else errors.push({ field: 'concept_id', message: c[0]! });
  }
  if (r.concept_ids !== undefined && r.concept_ids !== null) {
    if (!Array.isArray(r.concept_ids)) {
      errors.push({ field: 'concept_ids', message: 'must be an array of concept ids' });
    } else if (r.concept_ids.length > MAX_CONCEPTS) {
      errors.push({ field: 'concept_ids', message: `must hold at most ${MAX_CONCEPTS} ids` });
    } else {
      r.concept_ids.forEach((v, i) => {
        const c = externalId(v);
        if (typeof c === 'string') concepts.push(c);
        else errors.push({ field: `concept_ids.${i}`, message: c[0]! });
      });
    }
  }
  const conceptIds = concepts.length < 2 ? concepts : [...new Set(concepts)];
  if (
    typeof type === 'string' &&
    NEEDS_CONCEPT.has(type) &&
    conceptIds.length === 0 &&
    errors.length === 0
  ) {
    errors.push({
      field: 'concept_id',
      message: `is required for ${type} (concept_id or concept_ids)`,
    });
  }

  let correct: boolean | null = null;
  if (r.correct !== undefined && r.correct !== null) {
    if (r.correct === true || r.correct === 1) correct = true;
    else if (r.correct === false || r.correct === 0) correct = false;
    else errors.push({ field: 'correct', message: 'must be true or false' });
  }
  let score: number | null = null;
  if (r.score !== undefined && r.score !== null) {
    if (typeof r.score !== 'number' || !(r.score >= 0 && r.score <= 1)) {
      errors.push({ field: 'score', message: 'must be a number from 0 to 1' });
    } else score = r.score;
  }
  if (typeof type === 'string' && NO_OUTCOME.has(type)) {
    const message = `is for answers (quiz_attempt, assignment_submitted or an x- type), not ${type}`;
    if (correct !== null) errors.push({ field: 'correct', message });
    if (score !== null) errors.push({ field: 'score', message });
  }
  if (type === 'quiz_attempt' && correct === null && score === null && errors.length === 0) {
    errors.push({ field: 'correct', message: 'a quiz_attempt needs correct or score' });
  }

  let durationMs: number | null = null;
  if (r.duration_ms !== undefined && r.duration_ms !== null) {
    const d = r.duration_ms;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 2_147_483_647) {
      errors.push({
        field: 'duration_ms',
        message: 'must be a whole number of milliseconds from 0 to 2147483647',
      });
    } else durationMs = d;
  }

  let occurredAt = nowIso;
  if (r.occurred_at !== undefined && r.occurred_at !== null) {
    const sent = sentInstant(r.occurred_at, nowIso);
    if (sent === 'invalid') {
      errors.push({
        field: 'occurred_at',
        message: 'must be an ISO-8601 date-time, e.g. 2026-01-05T09:30:00Z',
      });
    } else if (sent === 'ahead') errors.push({ field: 'occurred_at', message: AHEAD_MESSAGE });
    else occurredAt = sent;
  }

  let context: Record<string, unknown> | null = null;
  if (r.context !== undefined && r.context !== null) {
    if (typeof r.context !== 'object' || Array.isArray(r.context)) {
      errors.push({ field: 'context', message: 'must be a JSON object' });
    } else if (deeperThan(r.context, MAX_CONTEXT_DEPTH)) {
      errors.push({
        field: 'context',
        message: `must nest objects and arrays at most ${MAX_CONTEXT_DEPTH} levels deep`,
      });
    } else if (Buffer.byteLength(JSON.stringify(r.context)) > MAX_CONTEXT_BYTES) {
      errors.push({
        field: 'context',
        message: `must be at most ${MAX_CONTEXT_BYTES} bytes of JSON`,
      });
    } else context = r.context as Record<string, unknown>;
  }

  let id: string | null = null;
  if (r.id !== undefined && r.id !== null) {
    if (typeof r.id !== 'string' || !UUID_RE.test(r.id)) {
      errors.push({
        field: 'id',
        message: 'must be a UUID, e.g. 0190f5c4-8a8e-7c52-9d3e-5b1a2c3d4e5f',
      });
    } else id = r.id.toLowerCase();
  }

  if (errors.length > 0) return { ok: false, errors };
  const event: ValidEvent = {
    id: id ?? newEventId(),
    generatedId: id === null,
    event_type: type as string,
    user_id: userId as string,
    class_id: classId,
    course_id: courseId,
    lesson_id: lessonId,
    concept_ids: conceptIds,
    correct,
    score,
    duration_ms: durationMs,
    occurred_at: occurredAt,
    context,
    fingerprint: '',
  };
  // A retry of an event that left occurred_at to the server must still match its first copy.
  const sentAt = r.occurred_at === undefined || r.occurred_at === null ? null : occurredAt;
  event.fingerprint = hash('sha256', contentText(event, sentAt), 'base64url');
  return { ok: true, event };
}
