import { type Static, type TSchema, Type } from 'typebox';
import { ID_MAX_CHARS } from '../../http/input.ts';

// `type: [t, 'null']` rather than anyOf: the response serializer writes it without running a
// validator for each field.
const Nullable = <T extends TSchema & { type: string }>(t: T) =>
  Type.Unsafe<Static<T> | null>({ ...t, type: [t.type, 'null'] });
const Flag = Type.Union([Type.Integer({ minimum: 0, maximum: 1 }), Type.Boolean()]);
const ExternalId = Type.Union([
  Type.String({ minLength: 1, maxLength: ID_MAX_CHARS }),
  Type.Number(),
]);

export const MetricRecordIn = Type.Object(
  {
    class_id: ExternalId,
    student_id: ExternalId,
    stuck: Flag,
    got_it: Flag,
    pause: Flag,
    example: Flag,
    confidence: Type.Number({ minimum: 1, maximum: 10 }),
    ts: Type.Optional(
      Type.String({
        description:
          'ISO-8601; no zone means UTC; from 1970 to 24 hours after the server clock; ' +
          'default: the time of receipt',
        examples: ['2026-01-05T09:30:00Z'],
      }),
    ),
    event_id: Type.Optional(
      Type.String({ format: 'uuid', description: 'Client id; a repeat is a duplicate' }),
    ),
  },
  {
    examples: [
      {
        class_id: 'c1',
        student_id: '42',
        stuck: 0,
        got_it: 1,
        pause: 0,
        example: 1,
        confidence: 8,
      },
    ],
  },
);

export const IngestBody = Type.Union(
  [
    MetricRecordIn,
    Type.Array(MetricRecordIn),
    Type.Object({ records: Type.Array(MetricRecordIn) }),
  ],
  { description: 'One record, an array of records, or {"records": [...]}' },
);

const FieldError = Type.Object({ field: Type.String(), message: Type.String() });

export const IngestResponse = Type.Object({
  inserted: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Array(Type.Object({ index: Type.Integer(), errors: Type.Array(FieldError) })),
});

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});

export const ClassParams = Type.Object({
  class_id: Type.String({ minLength: 1, maxLength: ID_MAX_CHARS * 4 }),
});

const Bound = (desc: string) => Type.Optional(Type.String({ description: desc }));
export const WindowQuery = Type.Object({
  from: Bound('ISO date or date-time, inclusive; a date starts at 00:00 UTC'),
  to: Bound('ISO date (that whole UTC day included) or date-time (exclusive)'),
});

export const MasteryQuery = Type.Object({
  ...WindowQuery.properties,
  by: Type.Optional(Type.Literal('student', { description: 'add a per-student breakdown' })),
  bucket: Type.Optional(Type.Literal('day', { description: 'add a daily series' })),
});

export const ExportQuery = Type.Object({
  ...WindowQuery.properties,
  format: Type.Optional(
    Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { default: 'csv' }),
  ),
});

const Averages = Type.Object({
  stuck: Nullable(Type.Number()),
  got_it: Nullable(Type.Number()),
  pause: Nullable(Type.Number()),
  example: Nullable(Type.Number()),
  confidence: Nullable(Type.Number()),
});

const SummaryFields = {
  count: Type.Integer(),
  first_ts: Nullable(Type.String()),
  last_ts: Nullable(Type.String()),
  averages: Averages,
};

export const MasteryResponse = Type.Object({
  class_id: Type.String(),
  count: Type.Integer(),
  students: Type.Integer(),
  from: Nullable(Type.String()),
  to: Nullable(Type.String()),
  first_ts: Nullable(Type.String()),
  last_ts: Nullable(Type.String()),
  averages: Averages,
  by_student: Type.Optional(
    Type.Array(Type.Object({ student_id: Type.String(), ...SummaryFields })),
  ),
  series: Type.Optional(
    Type.Array(Type.Object({ day: Type.String(), students: Type.Integer(), ...SummaryFields })),
  ),
});

const Evidence = Type.Object({
  metric: Type.String(),
  value: Type.Number(),
  comparison: Type.String(),
  threshold: Type.Number(),
  triggered: Type.Boolean(),
});

export const RecommendationsResponse = Type.Object({
  class_id: Type.String(),
  from: Nullable(Type.String()),
  to: Nullable(Type.String()),
  based_on: Type.Object({ count: Type.Integer(), students: Type.Integer(), averages: Averages }),
  recommendations: Type.Array(
    Type.Object({
      code: Type.String(),
      title: Type.String(),
      action: Type.String(),
      rationale: Type.String(),
      priority: Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')]),
      evidence: Type.Array(Evidence),
    }),
  ),
});

export const ClassesResponse = Type.Object({
  classes: Type.Array(
    Type.Object({
      class_id: Type.String(),
      records: Type.Integer(),
      students: Type.Integer(),
      first_ts: Type.String(),
      last_ts: Type.String(),
    }),
  ),
});

export const CsvResponse = Type.String({
  description: 'text/csv (or application/x-ndjson with format=ndjson)',
});

export const LearnerPulseParams = Type.Object({
  user_id: Type.String({ minLength: 1, maxLength: ID_MAX_CHARS * 4 }),
});

export const LearnerPulseResponse = Type.Object({
  user_id: Type.String(),
  from: Nullable(Type.String({ description: 'start of the first whole UTC day counted' })),
  to: Nullable(Type.String({ description: 'end (exclusive) of the last whole UTC day counted' })),
  ...SummaryFields,
  series: Type.Array(Type.Object({ day: Type.String(), ...SummaryFields })),
});
