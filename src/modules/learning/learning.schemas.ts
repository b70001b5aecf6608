import { type Static, type TSchema, Type } from 'typebox';
import { ID_MAX_CHARS } from '../../http/input.ts';
import { EVENT_TYPES, MAX_CONCEPTS } from './learning.validation.ts';

const Nullable = <T extends TSchema & { type: string }>(t: T) =>
  Type.Unsafe<Static<T> | null>({ ...t, type: [t.type, 'null'] });
const Id = Type.String({ minLength: 1, maxLength: ID_MAX_CHARS });

export const EventIn = Type.Object(
  {
    event_type: Type.String({
      description: `${EVENT_TYPES.join(', ')}, or a custom type starting with x-`,
    }),
    user_id: Id,
    class_id: Type.Optional(Id),
    course_id: Type.Optional(Id),
    lesson_id: Type.Optional(Id),
    concept_id: Type.Optional(Id),
    concept_ids: Type.Optional(Type.Array(Id, { maxItems: MAX_CONCEPTS })),
    correct: Type.Optional(
      Type.Boolean({
        description:
          'the answer was right; for quiz_attempt, assignment_submitted and x- types, which it ' +
          'makes an attempt on each concept named',
      }),
    ),
    score: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'share of a right answer, used when correct is absent; as for correct',
      }),
    ),
    duration_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
    occurred_at: Type.Optional(
      Type.String({
        description:
          'ISO-8601; no zone means UTC; from 1970 to 24 hours after the server clock; ' +
          'default: the time of receipt',
      }),
    ),
    id: Type.Optional(
      Type.String({ format: 'uuid', description: 'client id; a repeat is a duplicate' }),
    ),
    context: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description: 'at most 16 KB of JSON, nested at most 32 levels deep',
        },
      ),
    ),
  },
  {
    examples: [
      {
        event_type: 'quiz_attempt',
        user_id: 'u42',
        class_id: 'c1',
        concept_id: 'fractions',
        correct: true,
      },
    ],
  },
);

export const EventsBody = Type.Union(
  [EventIn, Type.Array(EventIn), Type.Object({ events: Type.Array(EventIn) })],
  {
    description: 'One event, an array of events, or {"events": [...]}',
  },
);

const FieldError = Type.Object({ field: Type.String(), message: Type.String() });
export const EventsResponse = Type.Object({
  inserted: Type.Integer(),
  duplicates: Type.Integer(),
  conflicts: Type.Array(Type.Object({ index: Type.Integer(), id: Type.String() })),
  rejected: Type.Array(Type.Object({ index: Type.Integer(), errors: Type.Array(FieldError) })),
  ids: Type.Array(Nullable(Type.String())),
});

export const EventOut = Type.Object({
  id: Type.String(),
  event_type: Type.String(),
  user_id: Type.String(),
  class_id: Nullable(Type.String()),
  course_id: Nullable(Type.String()),
  lesson_id: Nullable(Type.String()),
  concept_ids: Type.Array(Type.String()),
  correct: Nullable(Type.Boolean()),
  score: Nullable(Type.Number()),
  duration_ms: Nullable(Type.Integer()),
  occurred_at: Type.String(),
  received_at: Type.String(),
  context: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
});

export const UserParams = Type.Object({ user_id: Type.String({ minLength: 1, maxLength: 1024 }) });
export const UserConceptParams = Type.Object({
  user_id: Type.String({ minLength: 1, maxLength: 1024 }),
  concept_id: Type.String({ minLength: 1, maxLength: 1024 }),
});
export const ConceptParams = Type.Object({
  concept_id: Type.String({ minLength: 1, maxLength: 1024 }),
});
export const EventIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 1024 }) });

export const HistoryQuery = Type.Object({
  order: Type.Optional(
    Type.Union([Type.Literal('desc'), Type.Literal('asc')], { default: 'desc' }),
  ),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  concept_id: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  from: Type.Optional(Type.String({ description: 'ISO date or date-time, inclusive' })),
  to: Type.Optional(
    Type.String({ description: 'ISO date (whole day included) or date-time (exclusive)' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(
    Type.String({ maxLength: 512, description: 'next_cursor of the previous page' }),
  ),
});

export const HistoryResponse = Type.Object({
  user_id: Type.String(),
  events: Type.Array(EventOut),
  next_cursor: Nullable(Type.String()),
});

const MasteryFields = {
  concept_id: Type.String(),
  attempts: Type.Integer(),
  correct: Type.Number({ description: 'successes (a score counts as its fraction)' }),
  ratio: Type.Number({ description: 'the plain success ratio, 0–100' }),
  p_known: Type.Number({ description: 'BKT probability that the concept is known, 0–1' }),
  mastery: Type.Integer({ description: '100·p_known, rounded' }),
  mastered: Type.Boolean({ description: 'p_known ≥ 0.95' }),
  last_attempt_at: Type.String(),
};
export const LearnerMasteryResponse = Type.Object({
  user_id: Type.String(),
  concepts: Type.Array(Type.Object(MasteryFields)),
});
export const LearnerConceptResponse = Type.Object({ user_id: Type.String(), ...MasteryFields });

export const ClassConceptsResponse = Type.Object({
  class_id: Type.String(),
  concepts: Type.Array(
    Type.Object({
      concept_id: Type.String(),
      learners: Type.Integer(),
      mean_mastery: Type.Number(),
      share_mastered: Type.Number(),
    }),
  ),
  matrix: Type.Object({
    learners: Type.Array(Type.String()),
    concepts: Type.Array(Type.String()),
    values: Type.Array(Type.Array(Nullable(Type.Integer())), {
      description: 'mastery 0–100 by [learner][concept]',
    }),
  }),
});

export const RecomputeResponse = Type.Object({
  learners: Type.Integer(),
  concepts: Type.Integer(),
  attempts: Type.Integer(),
  duration_ms: Type.Number(),
});

const Params = Type.Object({
  p_init: Type.Number(),
  p_learn: Type.Number(),
  p_slip: Type.Number(),
  p_guess: Type.Number(),
});
export const ConceptResponse = Type.Object({
  concept_id: Type.String(),
  source: Type.Union([Type.Literal('fitted'), Type.Literal('default')]),
  params: Params,
  fit: Type.Union([
    Type.Object({
      sequences: Type.Integer(),
      attempts: Type.Integer(),
      log_likelihood: Type.Number(),
      fit_ms: Type.Number(),
      fitted_at: Type.String(),
    }),
    Type.Null(),
  ]),
});
export const FitAllResponse = Type.Object({
  concepts: Type.Array(ConceptResponse),
  skipped: Type.Array(Type.Object({ concept_id: Type.String(), reason: Type.String() })),
  duration_ms: Type.Number(),
});
