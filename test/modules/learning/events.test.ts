import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECT, post, type TestApp } from '../../helpers/app.ts';

const EVENTS = '/api/v1/events';
const T0 = '2026-01-05T10:00:00.000Z';
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TYPE_MESSAGE =
  'must be one of quiz_attempt, video_watched, assignment_submitted, lesson_started, ' +
  'lesson_completed, hint_requested, or a custom type starting with x-';
const ID_MESSAGE = 'must be a UUID, e.g. 0190f5c4-8a8e-7c52-9d3e-5b1a2c3d4e5f';
const AHEAD_MESSAGE = "must not be more than 24 hours after the server's clock";
const OCCURRED_MESSAGE = 'must be an ISO-8601 date-time, e.g. 2026-01-05T09:30:00Z';
const DURATION_MESSAGE = 'must be a whole number of milliseconds from 0 to 2147483647';

type Ev = Record<string, unknown>;
interface FieldError {
  field: string;
  message: string;
}
interface Intake {
  inserted: number;
  duplicates: number;
  conflicts: { index: number; id: string }[];
  rejected: { index: number; errors: FieldError[] }[];
  ids: (string | null)[];
}
interface StoredEvent {
  id: string;
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
  received_at: string;
  context: Record<string, unknown> | null;
}
interface HistoryPage {
  user_id: string;
  events: StoredEvent[];
  next_cursor: string | null;
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** A valid quiz attempt; overrides replace (or, with undefined, remove) fields. */
const quiz = (overrides: Ev = {}): Ev => ({
  event_type: 'quiz_attempt',
  user_id: 'u1',
  concept_id: 'fractions',
  correct: true,
  occurred_at: T0,
  ...overrides,
});
/** A valid event of a type that needs nothing but a learner. */
const plain = (eventType: string, overrides: Ev = {}): Ev => ({
  event_type: eventType,
  user_id: 'u1',
  occurred_at: T0,
  ...overrides,
});
/** A client id, distinct per n and sorting by n (so ties on occurred_at have a known order). */
const cid = (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
/** The millisecond timestamp a UUIDv7 carries in its first 48 bits. */
const uuidTime = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

async function ingest(body: unknown, app: FastifyInstance = t.app): Promise<Intake> {
  const res = await post(app, EVENTS, body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Intake;
}

async function getEvent(id: string): Promise<StoredEvent> {
  const res = await t.app.inject(`${EVENTS}/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as StoredEvent;
}

function historyUrl(user: string, query: Record<string, string | number> = {}): string {
  const qs = new URLSearchParams(
    Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
  );
  return `/api/v1/learners/${encodeURIComponent(user)}/events${qs.size ? `?${qs}` : ''}`;
}

async function history(
  user: string,
  query: Record<string, string | number> = {},
): Promise<HistoryPage> {
  const res = await t.app.inject(historyUrl(user, query));
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as HistoryPage;
}

const historyIds = async (user: string, query: Record<string, string | number> = {}) =>
  (await history(user, { limit: 1000, ...query })).events.map((e) => e.id);

/** Posts the event next to a valid one and returns how the event was rejected ([] if not). */
async function rejectionOf(event: unknown): Promise<Intake['rejected']> {
  const body = await ingest([event, quiz({ user_id: 'rejection-companion' })]);
  expect(body.inserted).toBe(1);
  expect(body.ids[1]).toMatch(UUID_V7);
  return body.rejected;
}

/** Every page of a history walk, following next_cursor until it is null. */
async function walk(
  user: string,
  query: Record<string, string | number>,
  onPage: (page: HistoryPage) => Promise<void> = async () => {},
): Promise<HistoryPage[]> {
  const pages: HistoryPage[] = [];
  let cursor: string | null = null;
  do {
    const page = await history(user, cursor === null ? query : { ...query, cursor });
    pages.push(page);
    await onPage(page);
    cursor = page.next_cursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor !== null);
  return pages;
}

const errorOf = (res: { json(): unknown }) =>
  (res.json() as { error: { code: string; message: string; details?: unknown } }).error;

describe(`POST /api/v1/events (${DIALECT})`, () => {
  it('stores one event given as a bare object', async () => {
    const res = await post(t.app, EVENTS, quiz({ user_id: 'one' }));
    expect(res.statusCode).toBe(200);
    const body = res.json() as Intake;
    expect(body).toEqual({
      inserted: 1,
      duplicates: 0,
      conflicts: [],
      rejected: [],
      ids: [expect.stringMatching(UUID_V7)],
    });
    expect(await historyIds('one')).toEqual(body.ids);
  });

  it('stores an array and an {"events": [...]} envelope', async () => {
    const arr = await ingest([quiz({ user_id: 'arr' }), quiz({ user_id: 'arr', correct: false })]);
    expect(arr).toMatchObject({ inserted: 2, duplicates: 0, conflicts: [], rejected: [] });
    expect(arr.ids).toHaveLength(2);
    const env = await ingest({ events: [plain('lesson_started', { user_id: 'env' })] });
    expect(env).toMatchObject({ inserted: 1, duplicates: 0, conflicts: [], rejected: [] });
    expect(env.ids).toHaveLength(1);
    expect((await historyIds('arr')).sort()).toEqual([...arr.ids].sort());
    expect(await historyIds('env')).toEqual(env.ids);
  });

  it('accepts every built-in event type and custom x- types', async () => {
    const events = [
      quiz({ user_id: 'types' }),
      plain('video_watched', { user_id: 'types', duration_ms: 60_000 }),
      plain('assignment_submitted', { user_id: 'types', concept_ids: ['essays'], score: 0.5 }),
      plain('lesson_started', { user_id: 'types', lesson_id: 'l1' }),
      plain('lesson_completed', { user_id: 'types', lesson_id: 'l1' }),
      plain('hint_requested', { user_id: 'types', concept_id: 'fractions' }),
      plain('x-flashcard_flip', { user_id: 'types' }),
      plain('x-A.b-c_9', { user_id: 'types' }),
    ];
    const body = await ingest(events);
    expect(body).toMatchObject({ inserted: 8, rejected: [], conflicts: [] });
    const stored = await Promise.all(body.ids.map((id) => getEvent(id!)));
    expect(stored.map((e) => e.event_type)).toEqual(events.map((e) => e.event_type));
  });

  it('counts an answer of a custom type as an attempt, and a hint as none', async () => {
    const body = await ingest([
      plain('x-exit_ticket', { user_id: 'custom', concept_id: 'ratios', correct: false }),
      plain('x-exit_ticket', { user_id: 'custom', concept_id: 'ratios', score: 1 }),
      plain('hint_requested', { user_id: 'custom', concept_id: 'ratios' }),
    ]);
    expect(body).toMatchObject({ inserted: 3, rejected: [] });
    const res = await t.app.inject('/api/v1/learners/custom/mastery/ratios');
    expect(res.json()).toMatchObject({ attempts: 2, correct: 1, ratio: 50 });
  });

  it('gives server-made ids as time-ordered UUIDv7 and keeps client ids, lowercased', async () => {
    const before = Date.now();
    const first = await ingest([
      quiz({ user_id: 'ids' }),
      quiz({ user_id: 'ids', id: 'ABCDEF01-2345-4678-9ABC-DEF012345678' }),
      quiz({ user_id: 'ids' }),
      quiz({ user_id: 'ids' }),
    ]);
    const second = await ingest([quiz({ user_id: 'ids' })]);
    const after = Date.now();

    expect(first.ids[1]).toBe('abcdef01-2345-4678-9abc-def012345678');
    const made = [first.ids[0], first.ids[2], first.ids[3], second.ids[0]] as string[];
    for (const id of made) {
      expect(id).toMatch(UUID_V7);
      expect(uuidTime(id)).toBeGreaterThanOrEqual(before);
      expect(uuidTime(id)).toBeLessThanOrEqual(after);
    }
    // time-ordered: later ids sort after earlier ones, within a request and across requests
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect((await getEvent('abcdef01-2345-4678-9abc-def012345678')).user_id).toBe('ids');
  });

  describe('validation names the field', () => {
    const longId = 'u'.repeat(129);
    const cases: [string, unknown, FieldError[]][] = [
      [
        'event_type missing',
        quiz({ event_type: undefined }),
        [{ field: 'event_type', message: 'is required' }],
      ],
      [
        'event_type null',
        quiz({ event_type: null }),
        [{ field: 'event_type', message: 'is required' }],
      ],
      ['event_type unknown', plain('quiz'), [{ field: 'event_type', message: TYPE_MESSAGE }]],
      [
        'event_type of another case',
        plain('Quiz_Attempt'),
        [{ field: 'event_type', message: TYPE_MESSAGE }],
      ],
      [
        'event_type not a string',
        plain('x', { event_type: 7 }),
        [{ field: 'event_type', message: TYPE_MESSAGE }],
      ],
      ['event_type a bare x-', plain('x-'), [{ field: 'event_type', message: TYPE_MESSAGE }]],
      [
        'event_type x- with a space',
        plain('x-my type'),
        [{ field: 'event_type', message: TYPE_MESSAGE }],
      ],
      [
        'event_type x- too long',
        plain(`x-${'a'.repeat(64)}`),
        [{ field: 'event_type', message: TYPE_MESSAGE }],
      ],
      [
        'user_id missing',
        quiz({ user_id: undefined }),
        [{ field: 'user_id', message: 'is required' }],
      ],
      [
        'user_id empty',
        quiz({ user_id: '' }),
        [{ field: 'user_id', message: 'must not be empty' }],
      ],
      [
        'user_id blank',
        quiz({ user_id: '   ' }),
        [{ field: 'user_id', message: 'must not be empty' }],
      ],
      [
        'user_id over 128 characters',
        quiz({ user_id: longId }),
        [{ field: 'user_id', message: 'must be at most 128 characters' }],
      ],
      [
        'user_id with an unpaired surrogate',
        quiz({ user_id: 'learner\udbff' }),
        [
          {
            field: 'user_id',
            message: 'must be valid Unicode text (it holds an unpaired surrogate)',
          },
        ],
      ],
      [
        'user_id an object',
        quiz({ user_id: { id: 1 } }),
        [{ field: 'user_id', message: 'must be a string or a number' }],
      ],
      [
        'class_id an object',
        quiz({ class_id: {} }),
        [{ field: 'class_id', message: 'must be a string or a number' }],
      ],
      [
        'class_id empty',
        quiz({ class_id: '' }),
        [{ field: 'class_id', message: 'must not be empty' }],
      ],
      [
        'course_id a boolean',
        quiz({ course_id: true }),
        [{ field: 'course_id', message: 'must be a string or a number' }],
      ],
      [
        'lesson_id an array',
        quiz({ lesson_id: ['l1'] }),
        [{ field: 'lesson_id', message: 'must be a string or a number' }],
      ],
      [
        'lesson_id too long',
        quiz({ lesson_id: longId }),
        [{ field: 'lesson_id', message: 'must be at most 128 characters' }],
      ],
      [
        'quiz_attempt without a concept',
        quiz({ concept_id: undefined }),
        [
          {
            field: 'concept_id',
            message: 'is required for quiz_attempt (concept_id or concept_ids)',
          },
        ],
      ],
      [
        'quiz_attempt with empty concept_ids',
        quiz({ concept_id: undefined, concept_ids: [] }),
        [
          {
            field: 'concept_id',
            message: 'is required for quiz_attempt (concept_id or concept_ids)',
          },
        ],
      ],
      [
        'assignment_submitted without a concept',
        plain('assignment_submitted'),
        [
          {
            field: 'concept_id',
            message: 'is required for assignment_submitted (concept_id or concept_ids)',
          },
        ],
      ],
      [
        'concept_id an object',
        quiz({ concept_id: { a: 1 } }),
        [{ field: 'concept_id', message: 'must be a string or a number' }],
      ],
      [
        'concept_ids not an array',
        quiz({ concept_id: undefined, concept_ids: 'fractions' }),
        [{ field: 'concept_ids', message: 'must be an array of concept ids' }],
      ],
      [
        'concept_ids over 100',
        plain('hint_requested', { concept_ids: Array.from({ length: 101 }, (_, i) => `k${i}`) }),
        [{ field: 'concept_ids', message: 'must hold at most 100 ids' }],
      ],
      [
        'concept_ids with bad elements',
        quiz({ concept_id: undefined, concept_ids: ['fractions', {}, '', 'x'.repeat(129)] }),
        [
          { field: 'concept_ids.1', message: 'must be a string or a number' },
          { field: 'concept_ids.2', message: 'must not be empty' },
          { field: 'concept_ids.3', message: 'must be at most 128 characters' },
        ],
      ],
      [
        'correct a string',
        quiz({ correct: 'yes' }),
        [{ field: 'correct', message: 'must be true or false' }],
      ],
      [
        'correct the number 2',
        quiz({ correct: 2 }),
        [{ field: 'correct', message: 'must be true or false' }],
      ],
      [
        'score above 1',
        quiz({ correct: undefined, score: 1.01 }),
        [{ field: 'score', message: 'must be a number from 0 to 1' }],
      ],
      [
        'score below 0',
        quiz({ correct: undefined, score: -0.1 }),
        [{ field: 'score', message: 'must be a number from 0 to 1' }],
      ],
      [
        'score a string',
        quiz({ correct: undefined, score: '0.5' }),
        [{ field: 'score', message: 'must be a number from 0 to 1' }],
      ],
      [
        'quiz_attempt with neither correct nor score',
        quiz({ correct: undefined }),
        [{ field: 'correct', message: 'a quiz_attempt needs correct or score' }],
      ],
      [
        'duration_ms negative',
        plain('video_watched', { duration_ms: -1 }),
        [{ field: 'duration_ms', message: DURATION_MESSAGE }],
      ],
      [
        'duration_ms fractional',
        plain('video_watched', { duration_ms: 1.5 }),
        [{ field: 'duration_ms', message: DURATION_MESSAGE }],
      ],
      [
        'duration_ms a string',
        plain('video_watched', { duration_ms: '100' }),
        [{ field: 'duration_ms', message: DURATION_MESSAGE }],
      ],
      [
        'duration_ms too large',
        plain('video_watched', { duration_ms: 2_147_483_648 }),
        [{ field: 'duration_ms', message: DURATION_MESSAGE }],
      ],
      [
        'occurred_at malformed',
        quiz({ occurred_at: 'yesterday' }),
        [{ field: 'occurred_at', message: OCCURRED_MESSAGE }],
      ],
      [
        'occurred_at 30 February',
        quiz({ occurred_at: '2026-02-30T10:00:00Z' }),
        [{ field: 'occurred_at', message: OCCURRED_MESSAGE }],
      ],
      [
        'occurred_at 29 February of a common year, stored form',
        quiz({ occurred_at: '2025-02-29T10:00:00.000Z' }),
        [{ field: 'occurred_at', message: OCCURRED_MESSAGE }],
      ],
      [
        'occurred_at hour 24',
        quiz({ occurred_at: '2026-01-05T24:00:00Z' }),
        [{ field: 'occurred_at', message: OCCURRED_MESSAGE }],
      ],
      [
        'occurred_at a number',
        quiz({ occurred_at: 1767607200000 }),
        [{ field: 'occurred_at', message: OCCURRED_MESSAGE }],
      ],
      [
        'occurred_at more than a day after the server clock',
        quiz({ occurred_at: new Date(Date.now() + 25 * 3_600_000).toISOString() }),
        [{ field: 'occurred_at', message: AHEAD_MESSAGE }],
      ],
      [
        'occurred_at in the year 9999',
        quiz({ occurred_at: '9999-12-31T23:59:59Z' }),
        [{ field: 'occurred_at', message: AHEAD_MESSAGE }],
      ],
      [
        'correct on a video_watched',
        plain('video_watched', { concept_id: 'fractions', correct: true }),
        [
          {
            field: 'correct',
            message:
              'is for answers (quiz_attempt, assignment_submitted or an x- type), not video_watched',
          },
        ],
      ],
      [
        'score on a lesson_completed',
        plain('lesson_completed', { concept_id: 'fractions', score: 0.8 }),
        [
          {
            field: 'score',
            message:
              'is for answers (quiz_attempt, assignment_submitted or an x- type), not lesson_completed',
          },
        ],
      ],
      ['id not a UUID', quiz({ id: 'evt-1' }), [{ field: 'id', message: ID_MESSAGE }]],
      [
        'id a UUID without dashes',
        quiz({ id: '0190f5c48a8e7c529d3e5b1a2c3d4e5f' }),
        [{ field: 'id', message: ID_MESSAGE }],
      ],
      ['id a number', quiz({ id: 12345 }), [{ field: 'id', message: ID_MESSAGE }]],
      [
        'context a string',
        quiz({ context: 'ipad' }),
        [{ field: 'context', message: 'must be a JSON object' }],
      ],
      [
        'context an array',
        quiz({ context: [1, 2] }),
        [{ field: 'context', message: 'must be a JSON object' }],
      ],
      [
        'context over 16 KB',
        quiz({ context: { p: 'x'.repeat(16_377) } }),
        [{ field: 'context', message: 'must be at most 16384 bytes of JSON' }],
      ],
      [
        'context over 16 KB in bytes, not characters',
        quiz({ context: { p: 'é'.repeat(8_200) } }),
        [{ field: 'context', message: 'must be at most 16384 bytes of JSON' }],
      ],
      [
        'context nested past 32 levels',
        quiz({ context: { a: JSON.parse('['.repeat(32) + ']'.repeat(32)) } }),
        [{ field: 'context', message: 'must nest objects and arrays at most 32 levels deep' }],
      ],
      [
        'a string instead of an event',
        'quiz',
        [{ field: 'event', message: 'must be a JSON object' }],
      ],
      ['null instead of an event', null, [{ field: 'event', message: 'must be a JSON object' }]],
      [
        'an array instead of an event',
        [quiz()],
        [{ field: 'event', message: 'must be a JSON object' }],
      ],
    ];

    it.each(cases)('%s', async (_name, event, errors) => {
      expect(await rejectionOf(event)).toEqual([{ index: 0, errors }]);
    });

    it('refuses a context nested thousands of levels deep within 16 KB, keeping the rest', async () => {
      // Sent as text: the test's own JSON.stringify would run out of stack on it.
      const deep = `{"a":${'['.repeat(7_000)}${']'.repeat(7_000)}}`;
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: { 'content-type': 'application/json' },
        payload: `[{"event_type":"x-deep","user_id":"deep","context":${deep}},${JSON.stringify(quiz({ user_id: 'deep' }))}]`,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        inserted: 1,
        rejected: [
          {
            index: 0,
            errors: [
              { field: 'context', message: 'must nest objects and arrays at most 32 levels deep' },
            ],
          },
        ],
      });
    });

    it('takes an occurred_at up to a day after the server clock, in any zone', async () => {
      const soon = new Date(Date.now() + 23 * 3_600_000);
      // The same instant written two hours east of UTC.
      const east = new Date(soon.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      const body = await ingest([
        quiz({ user_id: 'ahead', occurred_at: soon.toISOString() }),
        quiz({ user_id: 'ahead', occurred_at: east }),
      ]);
      expect(body.rejected).toEqual([]);
      expect((await getEvent(body.ids[1]!)).occurred_at).toBe(soon.toISOString());
    });

    it('reports every bad field of one event, in field order', async () => {
      const rejected = await rejectionOf({
        event_type: 'nope',
        user_id: '',
        class_id: false,
        course_id: {},
        lesson_id: [],
        concept_id: '',
        concept_ids: [1, null],
        correct: 'no',
        score: 2,
        duration_ms: -5,
        occurred_at: '2026-13-01T00:00:00Z',
        context: 'x',
        id: 'nope',
      });
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.errors.map((e) => e.field)).toEqual([
        'event_type',
        'user_id',
        'class_id',
        'course_id',
        'lesson_id',
        'concept_id',
        'concept_ids.1',
        'correct',
        'score',
        'duration_ms',
        'occurred_at',
        'context',
        'id',
      ]);
    });

    it('accepts the values at the edges of each rule', async () => {
      const body = await ingest([
        quiz({ user_id: 'v'.repeat(128) }),
        quiz({ user_id: '😀'.repeat(128) }),
        quiz({ user_id: 42, class_id: 7, course_id: 8, lesson_id: 9, concept_id: 10 }),
        quiz({ user_id: 'edges', correct: undefined, score: 0 }),
        quiz({ user_id: 'edges', correct: undefined, score: 1 }),
        quiz({ user_id: 'edges', correct: false, score: 0.25 }),
        plain('video_watched', { user_id: 'edges', duration_ms: 0 }),
        plain('video_watched', { user_id: 'edges', duration_ms: 2_147_483_647 }),
        quiz({ user_id: 'edges', context: { p: 'x'.repeat(16_376) } }),
        quiz({ user_id: 'edges', concept_ids: Array.from({ length: 100 }, (_, i) => `k${i}`) }),
        plain(`x-${'a'.repeat(63)}`, { user_id: 'edges' }),
        quiz({ user_id: 'edges', occurred_at: '2024-02-29T10:00:00.000Z' }),
        quiz({ user_id: 'edges', class_id: null, context: null, id: null, score: null }),
        quiz({ user_id: 'edges', context: { a: JSON.parse('['.repeat(31) + ']'.repeat(31)) } }),
      ]);
      expect(body.rejected).toEqual([]);
      expect(body.inserted).toBe(14);
      const numeric = await getEvent(body.ids[2]!);
      expect(numeric).toMatchObject({
        user_id: '42',
        class_id: '7',
        course_id: '8',
        lesson_id: '9',
        concept_ids: ['10'],
      });
      expect((await getEvent(body.ids[7]!)).duration_ms).toBe(2_147_483_647);
      expect((await getEvent(body.ids[9]!)).concept_ids).toHaveLength(101);
      // 32 levels: the context's own object and 31 arrays.
      expect(JSON.stringify((await getEvent(body.ids[13]!)).context)).toBe(
        `{"a":${'['.repeat(31)}${']'.repeat(31)}}`,
      );
    });
  });

  it('stores the valid events of a partial batch; ids line up with the input', async () => {
    const res = await post(t.app, EVENTS, [
      quiz({ user_id: 'partial', occurred_at: '2026-01-05T10:00:00Z' }),
      quiz({ user_id: 'partial', score: 3 }),
      plain('video_watched', { user_id: 'partial', occurred_at: '2026-01-05T11:00:00Z' }),
      plain('bogus', { user_id: 'partial' }),
      quiz({ user_id: 'partial', id: cid(0x9001), occurred_at: '2026-01-05T12:00:00Z' }),
    ]);
    expect(res.statusCode).toBe(200);
    const body = res.json() as Intake;
    expect(body).toEqual({
      inserted: 3,
      duplicates: 0,
      conflicts: [],
      rejected: [
        { index: 1, errors: [{ field: 'score', message: 'must be a number from 0 to 1' }] },
        { index: 3, errors: [{ field: 'event_type', message: TYPE_MESSAGE }] },
      ],
      ids: [
        expect.stringMatching(UUID_V7),
        null,
        expect.stringMatching(UUID_V7),
        null,
        cid(0x9001),
      ],
    });
    expect(await historyIds('partial', { order: 'asc' })).toEqual([
      body.ids[0],
      body.ids[2],
      body.ids[4],
    ]);
    expect((await getEvent(body.ids[2]!)).event_type).toBe('video_watched');
  });

  it('answers 422 all_events_rejected with the details when no event is valid', async () => {
    const res = await post(t.app, EVENTS, [
      quiz({ user_id: 'allbad', correct: 'maybe' }),
      quiz({ user_id: 'allbad', occurred_at: 'soon' }),
    ]);
    expect(res.statusCode).toBe(422);
    expect(errorOf(res)).toEqual({
      code: 'all_events_rejected',
      message: expect.any(String),
      details: {
        inserted: 0,
        duplicates: 0,
        conflicts: [],
        rejected: [
          { index: 0, errors: [{ field: 'correct', message: 'must be true or false' }] },
          { index: 1, errors: [{ field: 'occurred_at', message: OCCURRED_MESSAGE }] },
        ],
      },
    });
    expect((await t.app.inject(historyUrl('allbad'))).statusCode).toBe(404);
  });

  it('answers 422 no_events for an empty batch', async () => {
    for (const body of [[], { events: [] }]) {
      const res = await post(t.app, EVENTS, body);
      expect(res.statusCode).toBe(422);
      expect(errorOf(res).code).toBe('no_events');
    }
  });

  it('answers 400 for a body that is neither an event, an array nor an envelope', async () => {
    const notArray = await post(t.app, EVENTS, { events: quiz() });
    expect(notArray.statusCode).toBe(400);
    expect(errorOf(notArray).details).toEqual([{ field: 'events', message: 'must be an array' }]);
    const scalar = await post(t.app, EVENTS, 5);
    expect(scalar.statusCode).toBe(400);
    expect(errorOf(scalar).details).toEqual([
      { field: 'body', message: 'must be a JSON object or array' },
    ]);
  });

  it('answers 400 invalid_json for malformed JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: EVENTS,
      headers: { 'content-type': 'application/json' },
      payload: '{"event_type": "quiz_attempt", "user_id": ',
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('invalid_json');
  });

  it('answers 415 for a body that is not JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await t.app.inject({
        method: 'POST',
        url: EVENTS,
        headers: { 'content-type': type },
        payload: JSON.stringify(quiz({ user_id: 'plaintext' })),
      });
      expect(res.statusCode, type).toBe(415);
      expect(errorOf(res).code).toBe('unsupported_media_type');
    }
    expect((await t.app.inject(historyUrl('plaintext'))).statusCode).toBe(404);
  });

  it('answers 413 past the per-request limit (MAX_RECORDS_PER_REQUEST) and stores nothing', async () => {
    const small = await createTestApp({ MAX_RECORDS_PER_REQUEST: '5' });
    try {
      const six = Array.from({ length: 6 }, () => quiz({ user_id: 'big' }));
      for (const body of [six, { events: six }]) {
        const res = await post(small.app, EVENTS, body);
        expect(res.statusCode).toBe(413);
        expect(errorOf(res)).toMatchObject({
          code: 'too_many_events',
          message: expect.stringContaining('5'),
        });
      }
      const missing = await small.app.inject(historyUrl('big'));
      expect(missing.statusCode).toBe(404);
      const five = await ingest(six.slice(0, 5), small.app);
      expect(five.inserted).toBe(5);
    } finally {
      await small.close();
    }
  });

  describe('duplicates and conflicts', () => {
    it('counts the same id and content in a later request as a duplicate, stored once', async () => {
      const id = cid(0xd001);
      const event = quiz({ user_id: 'dup-later', id, context: { attempt: 1 } });
      expect(await ingest(event)).toEqual({
        inserted: 1,
        duplicates: 0,
        conflicts: [],
        rejected: [],
        ids: [id],
      });
      const stored = await getEvent(id);
      const retry = await ingest([event, { ...event, id: id.toUpperCase() }]);
      expect(retry).toEqual({
        inserted: 0,
        duplicates: 2,
        conflicts: [],
        rejected: [],
        ids: [id, id],
      });
      expect(await historyIds('dup-later')).toEqual([id]);
      expect(await getEvent(id)).toEqual(stored);
    });

    it('counts the same id and content twice in one request as one event and one duplicate', async () => {
      const id = cid(0xd002);
      const event = quiz({ user_id: 'dup-same', id });
      const body = await ingest([event, quiz({ user_id: 'dup-same' }), event]);
      expect(body).toMatchObject({ inserted: 2, duplicates: 1, conflicts: [], rejected: [] });
      expect(body.ids[0]).toBe(id);
      expect(body.ids[2]).toBe(id);
      expect(await historyIds('dup-same')).toHaveLength(2);
    });

    it('treats an equal instant written differently as the same content', async () => {
      const id = cid(0xd003);
      await ingest(quiz({ user_id: 'dup-instant', id, occurred_at: '2026-01-05T09:30:00.000Z' }));
      const retry = await ingest(
        quiz({ user_id: 'dup-instant', id, occurred_at: '2026-01-05T10:30:00+01:00' }),
      );
      expect(retry).toMatchObject({ inserted: 0, duplicates: 1, conflicts: [] });
    });

    it('reports the same id with other content as a conflict by index, leaving the event as stored', async () => {
      const id = cid(0xd004);
      await ingest(quiz({ user_id: 'conflict', id, correct: true }));
      const stored = await getEvent(id);
      const body = await ingest([
        quiz({ user_id: 'conflict' }),
        quiz({ user_id: 'conflict', id, correct: false }),
      ]);
      expect(body).toEqual({
        inserted: 1,
        duplicates: 0,
        conflicts: [{ index: 1, id }],
        rejected: [],
        ids: [expect.stringMatching(UUID_V7), id],
      });
      // several conflicting copies in one request are each reported (in no promised order)
      const more = await ingest([
        quiz({ user_id: 'conflict', id, correct: false }),
        quiz({ user_id: 'conflict', id, occurred_at: '2026-01-05T10:00:01.000Z' }),
        quiz({ user_id: 'conflict', id, context: { a: 1 } }),
      ]);
      expect(more).toMatchObject({ inserted: 0, duplicates: 0, rejected: [], ids: [id, id, id] });
      expect([...more.conflicts].sort((x, y) => x.index - y.index)).toEqual([
        { index: 0, id },
        { index: 1, id },
        { index: 2, id },
      ]);
      expect(await getEvent(id)).toEqual(stored);
      expect((await historyIds('conflict')).filter((x) => x === id)).toHaveLength(1);
    });

    it('keeps the first copy when one request holds the same new id with different content', async () => {
      const id = cid(0xd005);
      const body = await ingest([
        quiz({ user_id: 'conflict-same', id, correct: true }),
        quiz({ user_id: 'conflict-same', id, correct: false }),
      ]);
      expect(body).toMatchObject({ inserted: 1, duplicates: 0, conflicts: [{ index: 1, id }] });
      expect((await getEvent(id)).correct).toBe(true);
    });

    it('counts a retry of an event that left occurred_at to the server as a duplicate', async () => {
      const id = cid(0xd006);
      const event = plain('lesson_started', { user_id: 'dup-now', id, occurred_at: undefined });
      await ingest(event);
      const stored = await getEvent(id);
      await new Promise((r) => setTimeout(r, 5));
      const retry = await ingest(event);
      expect(retry).toEqual({ inserted: 0, duplicates: 1, conflicts: [], rejected: [], ids: [id] });
      expect(await getEvent(id)).toEqual(stored);
    });

    it('counts a copy equal to the stored event as a duplicate even after a conflicting copy', async () => {
      const id = cid(0xd007);
      const event = quiz({ user_id: 'dup-after-conflict', id, correct: true });
      await ingest(event);
      const body = await ingest([{ ...event, correct: false }, event]);
      expect(body).toMatchObject({ inserted: 0, duplicates: 1, conflicts: [{ index: 0, id }] });
    });

    it('counts a concurrent retry equal to the stored event as a duplicate', async () => {
      const id = cid(0xd009);
      const event = quiz({ user_id: 'dup-concurrent', id, correct: true });
      await ingest(event);
      const [conflicting, retry] = await Promise.all([
        ingest({ ...event, correct: false }),
        ingest(event),
      ]);
      expect(conflicting).toMatchObject({ duplicates: 0, conflicts: [{ index: 0, id }] });
      expect(retry).toMatchObject({ inserted: 0, duplicates: 1, conflicts: [] });
    });

    it('counts a retry whose context lists the same keys in another order as a duplicate', async () => {
      const id = cid(0xd008);
      await ingest(quiz({ user_id: 'dup-keys', id, context: { a: 1, b: 2 } }));
      const retry = await ingest(quiz({ user_id: 'dup-keys', id, context: { b: 2, a: 1 } }));
      expect(retry).toMatchObject({ inserted: 0, duplicates: 1, conflicts: [] });
    });
  });

  describe('concurrent requests', () => {
    it('answers each of 20 concurrent requests with its own result', async () => {
      const shared = cid(0xc001);
      const at = (i: number) => `2026-02-01T10:${String(i).padStart(2, '0')}:00.000Z`;
      const bodies = Array.from({ length: 20 }, (_, i) =>
        i % 5 === 4
          ? [quiz({ user_id: 'conc', concept_id: '' })]
          : [
              quiz({ user_id: 'conc', occurred_at: at(i), context: { i } }),
              quiz({ user_id: 'conc', id: shared, occurred_at: T0 }),
            ],
      );
      const results = await Promise.all(bodies.map((b) => post(t.app, EVENTS, b)));

      let inserted = 0;
      let duplicates = 0;
      const own: string[] = [];
      for (const [i, res] of results.entries()) {
        if (i % 5 === 4) {
          expect(res.statusCode).toBe(422);
          expect(errorOf(res)).toMatchObject({
            code: 'all_events_rejected',
            details: {
              rejected: [
                { index: 0, errors: [{ field: 'concept_id', message: 'must not be empty' }] },
              ],
            },
          });
          continue;
        }
        expect(res.statusCode).toBe(200);
        const body = res.json() as Intake;
        expect(body.rejected).toEqual([]);
        expect(body.conflicts).toEqual([]);
        expect(body.inserted + body.duplicates).toBe(2);
        expect(body.ids[0]).toMatch(UUID_V7);
        expect(body.ids[1]).toBe(shared);
        inserted += body.inserted;
        duplicates += body.duplicates;
        own.push(body.ids[0]!);
        expect((await getEvent(body.ids[0]!)).context).toEqual({ i });
      }
      expect(inserted).toBe(17);
      expect(duplicates).toBe(15);
      expect(new Set(own).size).toBe(16);
      expect((await historyIds('conc')).sort()).toEqual([...own, shared].sort());
    });

    it('stores exactly one of 20 concurrent conflicting copies and reports the others', async () => {
      const id = cid(0xc002);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => ingest(quiz({ user_id: 'race', id, duration_ms: i }))),
      );
      const winners = results.flatMap((r, i) => (r.inserted === 1 ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const [i, r] of results.entries()) {
        if (i === winners[0]) expect(r).toMatchObject({ duplicates: 0, conflicts: [] });
        else expect(r).toMatchObject({ inserted: 0, duplicates: 0, conflicts: [{ index: 0, id }] });
        expect(r.ids).toEqual([id]);
      }
      expect((await getEvent(id)).duration_ms).toBe(winners[0]);
    });
  });
});

describe(`GET /api/v1/events/{id} (${DIALECT})`, () => {
  it('returns the stored event with its fields typed as sent', async () => {
    const id = cid(0xe001);
    const before = new Date().toISOString();
    await ingest({
      id,
      event_type: 'quiz_attempt',
      user_id: 'getter',
      class_id: 'c1',
      course_id: 'math-7',
      lesson_id: 'l3',
      concept_id: 'fractions',
      concept_ids: ['decimals', 'fractions', 'ratios', 'decimals'],
      correct: false,
      score: 0.75,
      duration_ms: 1234,
      occurred_at: '2026-01-05T10:30:00.5+01:00',
      context: { device: 'ipad', nested: { tries: [1, 2], ok: true, none: null }, é: 'ü' },
    });
    const after = new Date().toISOString();
    const e = await getEvent(id);
    expect(e).toEqual({
      id,
      event_type: 'quiz_attempt',
      user_id: 'getter',
      class_id: 'c1',
      course_id: 'math-7',
      lesson_id: 'l3',
      concept_ids: ['fractions', 'decimals', 'ratios'],
      correct: false,
      score: 0.75,
      duration_ms: 1234,
      occurred_at: '2026-01-05T09:30:00.500Z',
      received_at: expect.any(String),
      context: { device: 'ipad', nested: { tries: [1, 2], ok: true, none: null }, é: 'ü' },
    });
    expect(e.received_at >= before && e.received_at <= after).toBe(true);
    expect(new Date(e.received_at).toISOString()).toBe(e.received_at);
  });

  it('returns nulls and [] for what was not sent, and finds an id in upper case', async () => {
    const id = cid(0xe002);
    await ingest(plain('lesson_completed', { user_id: 'getter-min', id }));
    const e = await getEvent(id.toUpperCase());
    expect(e).toMatchObject({
      id,
      class_id: null,
      course_id: null,
      lesson_id: null,
      concept_ids: [],
      correct: null,
      score: null,
      duration_ms: null,
      occurred_at: T0,
      context: null,
    });
  });

  it('stores text with quotes, backslashes, braces, commas, NULL and non-ASCII, in one batch, as sent', async () => {
    // PostgreSQL receives a flush as one array per column: every odd character must survive.
    const odd = [
      'NULL',
      'a"b',
      'back\\slash',
      '{x,y}',
      'comma, space',
      '数学 é 😀',
      "it's",
      'tab\tend',
    ];
    const events = odd.map((s, k) =>
      quiz({
        id: cid(0xe100 + k),
        user_id: `odd ${s}`,
        class_id: `class ${s}`,
        course_id: s,
        lesson_id: `${s}\n`,
        concept_ids: [`k ${s}`, `${s} k`],
        concept_id: undefined,
        correct: k === 3 ? undefined : k % 2 === 0,
        score: k === 3 ? 1 / 3 : undefined,
        duration_ms: 2 ** 31 - 1 - k,
        context: { s, list: [s, null], '{"}': s },
      }),
    );
    const body = await ingest(events);
    expect(body).toMatchObject({
      inserted: odd.length,
      duplicates: 0,
      conflicts: [],
      rejected: [],
    });
    for (const [k, s] of odd.entries()) {
      const e = await getEvent(cid(0xe100 + k));
      expect(e).toMatchObject({
        user_id: `odd ${s}`,
        class_id: `class ${s}`,
        course_id: s,
        lesson_id: `${s}\n`,
        concept_ids: [`k ${s}`, `${s} k`],
        correct: k === 3 ? null : k % 2 === 0,
        score: k === 3 ? 1 / 3 : null,
        duration_ms: 2 ** 31 - 1 - k,
        context: { s, list: [s, null], '{"}': s },
      });
      expect(await historyIds(`odd ${s}`, { concept_id: `${s} k` })).toEqual([cid(0xe100 + k)]);
      const res = await t.app.inject(
        `/api/v1/learners/${encodeURIComponent(`odd ${s}`)}/mastery/${encodeURIComponent(`k ${s}`)}`,
      );
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        attempts: 1,
        correct: k === 3 ? 0.333 : k % 2 === 0 ? 1 : 0,
      });
    }
  });

  it('keeps false, 0 and an empty context apart from null', async () => {
    const id = cid(0xe003);
    await ingest(
      quiz({ user_id: 'getter-zero', id, correct: 0, score: 0, duration_ms: 0, context: {} }),
    );
    expect(await getEvent(id)).toMatchObject({
      correct: false,
      score: 0,
      duration_ms: 0,
      context: {},
    });
    const one = cid(0xe004);
    await ingest(quiz({ user_id: 'getter-zero', id: one, correct: 1 }));
    expect((await getEvent(one)).correct).toBe(true);
  });

  it('sets occurred_at to the time of receipt when the client leaves it out', async () => {
    const before = new Date().toISOString();
    const body = await ingest(
      plain('lesson_started', { user_id: 'getter-now', occurred_at: null }),
    );
    const after = new Date().toISOString();
    const e = await getEvent(body.ids[0]!);
    expect(e.occurred_at >= before && e.occurred_at <= after).toBe(true);
    expect(e.received_at >= e.occurred_at && e.received_at <= after).toBe(true);
  });

  it('answers 404 for an unknown id and for an id that is not a UUID', async () => {
    for (const id of [cid(0xe0ff), 'not-a-uuid', '12345', `${cid(0xe001)}x`]) {
      const res = await t.app.inject(`${EVENTS}/${id}`);
      expect(res.statusCode, id).toBe(404);
      expect(errorOf(res).code).toBe('not_found');
    }
  });
});

describe(`GET /api/v1/learners/{user_id}/events (${DIALECT})`, () => {
  // Six events of one learner, ids chosen so that the expected order is plain to read.
  const E = {
    e1: { id: cid(0xa001), at: '2026-03-01T08:00:00.000Z' },
    e2: { id: cid(0xa002), at: '2026-03-01T12:00:00.000Z' },
    e3: { id: cid(0xa003), at: '2026-03-01T23:59:59.999Z' },
    e4: { id: cid(0xa004), at: '2026-03-02T00:00:00.000Z' },
    e5: { id: cid(0xa005), at: '2026-03-02T09:00:00.000Z' },
    e6: { id: cid(0xa006), at: '2026-03-03T10:00:00.000Z' },
  };
  const USER = 'hist';

  beforeAll(async () => {
    await ingest([
      // sent out of order on purpose
      plain('x-note', { user_id: USER, id: E.e6.id, occurred_at: E.e6.at }),
      quiz({ user_id: USER, id: E.e1.id, occurred_at: E.e1.at, concept_id: 'frac' }),
      plain('hint_requested', {
        user_id: USER,
        id: E.e5.id,
        occurred_at: E.e5.at,
        concept_id: 'frac',
      }),
      plain('video_watched', {
        user_id: USER,
        id: E.e2.id,
        occurred_at: E.e2.at,
        concept_ids: ['dec', 'frac'],
      }),
      plain('lesson_started', { user_id: USER, id: E.e3.id, occurred_at: E.e3.at }),
      quiz({
        user_id: USER,
        id: E.e4.id,
        occurred_at: E.e4.at,
        concept_id: undefined,
        concept_ids: ['alg', 'dec'],
      }),
      // another learner's events, which no query of USER may return
      quiz({ user_id: 'hist-other', occurred_at: E.e3.at, concept_id: 'frac' }),
      quiz({ user_id: `${USER} `, occurred_at: E.e3.at, concept_id: 'frac' }),
    ]);
  });

  const ids = (...names: (keyof typeof E)[]) => names.map((n) => E[n].id);

  it('lists the learner’s events newest first by default, and oldest first with order=asc', async () => {
    const page = await history(USER);
    expect(page.user_id).toBe(USER);
    expect(page.next_cursor).toBeNull();
    expect(page.events.map((e) => e.id)).toEqual(ids('e6', 'e5', 'e4', 'e3', 'e2', 'e1'));
    expect(page.events.map((e) => e.occurred_at)).toEqual(
      [E.e6, E.e5, E.e4, E.e3, E.e2, E.e1].map((e) => e.at),
    );
    expect(page.events[2]).toMatchObject({
      event_type: 'quiz_attempt',
      concept_ids: ['alg', 'dec'],
      correct: true,
      received_at: expect.any(String),
    });
    expect(await historyIds(USER, { order: 'asc' })).toEqual(
      ids('e1', 'e2', 'e3', 'e4', 'e5', 'e6'),
    );
    expect(await historyIds(USER, { order: 'desc' })).toEqual(
      ids('e6', 'e5', 'e4', 'e3', 'e2', 'e1'),
    );
  });

  it('filters by type', async () => {
    expect(await historyIds(USER, { type: 'quiz_attempt' })).toEqual(ids('e4', 'e1'));
    expect(await historyIds(USER, { type: 'x-note' })).toEqual(ids('e6'));
    const none = await history(USER, { type: 'assignment_submitted' });
    expect(none).toEqual({ user_id: USER, events: [], next_cursor: null });
  });

  it('filters by concept_id, matching events that list it among several', async () => {
    expect(await historyIds(USER, { concept_id: 'frac' })).toEqual(ids('e5', 'e2', 'e1'));
    expect(await historyIds(USER, { concept_id: 'dec' })).toEqual(ids('e4', 'e2'));
    expect(await historyIds(USER, { concept_id: 'alg', order: 'asc' })).toEqual(ids('e4'));
    expect(await historyIds(USER, { concept_id: 'none' })).toEqual([]);
    expect(await historyIds(USER, { concept_id: 'frac', type: 'video_watched' })).toEqual(
      ids('e2'),
    );
  });

  it('filters by from (inclusive) and to (date-only: the whole UTC day; date-time: exclusive)', async () => {
    expect(await historyIds(USER, { from: E.e2.at })).toEqual(ids('e6', 'e5', 'e4', 'e3', 'e2'));
    expect(await historyIds(USER, { from: '2026-03-02' })).toEqual(ids('e6', 'e5', 'e4'));
    expect(await historyIds(USER, { to: '2026-03-01' })).toEqual(ids('e3', 'e2', 'e1'));
    expect(await historyIds(USER, { to: '2026-03-02T00:00:00Z' })).toEqual(ids('e3', 'e2', 'e1'));
    expect(await historyIds(USER, { to: '2026-03-02T00:00:00.001Z' })).toEqual(
      ids('e4', 'e3', 'e2', 'e1'),
    );
    expect(await historyIds(USER, { to: E.e2.at })).toEqual(ids('e1'));
    expect(await historyIds(USER, { from: '2026-03-01', to: '2026-03-01' })).toEqual(
      ids('e3', 'e2', 'e1'),
    );
    expect(
      await historyIds(USER, {
        from: '2026-03-01T12:00:00Z',
        to: '2026-03-02',
        concept_id: 'dec',
        order: 'asc',
      }),
    ).toEqual(ids('e2', 'e4'));
    expect(await historyIds(USER, { from: '2026-03-01T13:00:00+01:00' })).toEqual(
      ids('e6', 'e5', 'e4', 'e3', 'e2'),
    );
  });

  it('answers 400 naming from or to when they are not dates or out of order', async () => {
    for (const [query, field] of [
      [{ from: 'monday' }, 'from'],
      [{ to: '2026-02-30' }, 'to'],
      [{ from: '2026-03-02', to: '2026-03-01T12:00:00Z' }, 'to'],
    ] as const) {
      const res = await t.app.inject(historyUrl(USER, query));
      expect(res.statusCode, JSON.stringify(query)).toBe(400);
      expect(errorOf(res).details).toEqual([{ field, message: expect.any(String) }]);
    }
  });

  it('answers 400 naming limit when it is 0, above 1000 or not a number', async () => {
    for (const limit of ['0', '1001', '-1', 'ten', '2.5']) {
      const res = await t.app.inject(historyUrl(USER, { limit }));
      expect(res.statusCode, limit).toBe(400);
      expect(errorOf(res).details).toEqual([{ field: 'limit', message: expect.any(String) }]);
    }
    expect((await t.app.inject(historyUrl(USER, { limit: 1000 }))).statusCode).toBe(200);
    expect((await t.app.inject(historyUrl(USER, { limit: 1 }))).statusCode).toBe(200);
  });

  it('answers 400 naming cursor for a cursor it did not make, and order for an unknown order', async () => {
    const notOurs = [
      'garbage',
      '!!!',
      Buffer.from('["2026-03-01T08:00:00.000Z"]').toString('base64url'),
      Buffer.from('{"occurred_at":"x","id":"y"}').toString('base64url'),
      Buffer.from('[1, 2]').toString('base64url'),
      'x'.repeat(600),
    ];
    for (const cursor of notOurs) {
      const res = await t.app.inject(historyUrl(USER, { cursor }));
      expect(res.statusCode, cursor).toBe(400);
      expect(errorOf(res).details).toEqual([{ field: 'cursor', message: expect.any(String) }]);
    }
    const order = await t.app.inject(historyUrl(USER, { order: 'sideways' }));
    expect(order.statusCode).toBe(400);
    expect((errorOf(order).details as FieldError[])[0]!.field).toBe('order');
  });

  it('answers 404 for a learner with no events', async () => {
    for (const user of ['nobody', 'HIST', 'hist-']) {
      const res = await t.app.inject(historyUrl(user));
      expect(res.statusCode, user).toBe(404);
      expect(errorOf(res).code).toBe('not_found');
    }
  });

  describe('cursor pagination', () => {
    // Ten events with ties on occurred_at, so that the cursor must break ties by id.
    const PAGER = 'pager';
    const times = [
      '2026-04-01T10:00:00.000Z',
      '2026-04-01T10:00:00.000Z',
      '2026-04-01T10:00:00.000Z',
      '2026-04-01T10:00:00.001Z',
      '2026-04-02T10:00:00.000Z',
      '2026-04-02T10:00:00.000Z',
      '2026-04-03T10:00:00.000Z',
      '2026-04-04T10:00:00.000Z',
      '2026-04-04T10:00:00.000Z',
      '2026-04-05T10:00:00.000Z',
    ];
    const asc = times.map((_, i) => cid(0xb000 + i));

    beforeAll(async () => {
      // sent in a shuffled order so that insertion order cannot stand in for the sort
      const order = [7, 2, 9, 0, 5, 3, 8, 1, 6, 4];
      await ingest(
        order.map((i) =>
          (i % 3 === 0 ? quiz : (o: Ev) => plain('video_watched', o))({
            user_id: PAGER,
            id: asc[i],
            occurred_at: times[i],
          }),
        ),
      );
    });

    it('walks every event exactly once, in order, with limit=3', async () => {
      for (const order of ['desc', 'asc'] as const) {
        const pages = await walk(PAGER, { limit: 3, order });
        expect(pages.map((p) => p.events.length)).toEqual([3, 3, 3, 1]);
        pages.slice(0, -1).forEach((p) => expect(p.next_cursor).toEqual(expect.any(String)));
        expect(pages.at(-1)!.next_cursor).toBeNull();
        const walked = pages.flatMap((p) => p.events.map((e) => e.id));
        expect(walked).toEqual(order === 'asc' ? asc : [...asc].reverse());
      }
    });

    it('ends with next_cursor null and no empty page when the events fill the pages exactly', async () => {
      const pages = await walk(PAGER, { limit: 5 });
      expect(pages.map((p) => p.events.length)).toEqual([5, 5]);
      expect(pages[1]!.next_cursor).toBeNull();
      const one = await walk(PAGER, { limit: 10 });
      expect(one).toHaveLength(1);
      expect(one[0]!.next_cursor).toBeNull();
    });

    it('pages through filtered results', async () => {
      const pages = await walk(PAGER, { limit: 2, type: 'quiz_attempt', order: 'asc' });
      expect(pages.map((p) => p.events.length)).toEqual([2, 2]);
      expect(pages.flatMap((p) => p.events.map((e) => e.id))).toEqual([
        asc[0],
        asc[3],
        asc[6],
        asc[9],
      ]);
      const windowed = await walk(PAGER, {
        limit: 2,
        from: '2026-04-01T10:00:00.001Z',
        to: '2026-04-04',
      });
      expect(windowed.flatMap((p) => p.events.map((e) => e.id))).toEqual(
        [asc[3], asc[4], asc[5], asc[6], asc[7], asc[8]].reverse(),
      );
    });

    it('neither skips nor repeats events when others arrive while paging', async () => {
      let n = 0;
      for (const order of ['desc', 'asc'] as const) {
        const user = `live-${order}`;
        const base = 0xf000 + (order === 'asc' ? 0x100 : 0);
        const original = times.map((_, i) => cid(base + 0x40 + i));
        await ingest(
          times.map((at, i) => quiz({ user_id: user, id: original[i], occurred_at: at })),
        );
        const behind = new Set<string>();
        const pages = await walk(user, { limit: 3, order }, async (page) => {
          const last = page.events.at(-1);
          if (!last) return;
          const add = (offset: number, occurred_at: string) => {
            const id = cid(base + offset + n++);
            return { id, event: quiz({ user_id: user, id, occurred_at }) };
          };
          // before the cursor in the walk's order: already passed, must not show up
          const newer = add(0x80, '2026-05-01T00:00:00.000Z');
          const older = add(0x00, '2026-03-01T00:00:00.000Z');
          const tieBehind =
            order === 'desc' ? add(0x80, last.occurred_at) : add(0x00, last.occurred_at);
          const passed = order === 'desc' ? newer : older;
          // beyond the cursor: new, may show up later, but once at most
          const ahead = order === 'desc' ? older : newer;
          await ingest([passed.event, tieBehind.event, ahead.event]);
          behind.add(passed.id);
          behind.add(tieBehind.id);
        });
        const walked = pages.flatMap((p) => p.events);
        const walkedIds = walked.map((e) => e.id);
        expect(new Set(walkedIds).size, order).toBe(walkedIds.length);
        expect(walkedIds.filter((id) => original.includes(id))).toEqual(
          order === 'asc' ? original : [...original].reverse(),
        );
        expect(walkedIds.filter((id) => behind.has(id))).toEqual([]);
        // strictly in (occurred_at, id) order throughout
        const keys = walked.map((e) => `${e.occurred_at} ${e.id}`);
        const sorted = [...keys].sort();
        expect(keys).toEqual(order === 'asc' ? sorted : sorted.reverse());
        expect(pages.at(-1)!.next_cursor).toBeNull();
      }
    });
  });

  it('filters by a custom type of the longest length intake accepts', async () => {
    const type = `x-${'a'.repeat(63)}`;
    expect(type).toHaveLength(65);
    const body = await ingest(plain(type, { user_id: 'long-type' }));
    expect(await historyIds('long-type', { type })).toEqual(body.ids);
  });
});

describe(`API key on the learning routes (${DIALECT})`, () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ API_KEY: 'k' });
  });
  afterAll(() => a.close());

  const id = cid(0x4001);
  const event = quiz({ user_id: 'keyed', class_id: 'kc', concept_id: 'kfrac', id });
  const ROUTES: [method: 'GET' | 'POST', url: string, payload?: unknown][] = [
    ['POST', EVENTS, event],
    ['GET', `${EVENTS}/${id}`],
    ['GET', '/api/v1/learners/keyed/events'],
    ['GET', '/api/v1/learners/keyed/mastery'],
    ['GET', '/api/v1/learners/keyed/mastery/kfrac'],
    ['GET', '/api/v1/classes/kc/concepts/mastery'],
    ['POST', '/api/v1/learners/keyed/mastery/recompute'],
    ['POST', '/api/v1/mastery/recompute'],
    ['GET', '/api/v1/concepts/kfrac'],
    ['POST', '/api/v1/concepts/kfrac/fit'],
    ['POST', '/api/v1/concepts/fit'],
  ];

  it('answers 401 on every learning route without X-API-Key or with a wrong one', async () => {
    for (const headers of [{}, { 'x-api-key': '' }, { 'x-api-key': 'K' }, { 'x-api-key': 'kk' }]) {
      for (const [method, url, payload] of ROUTES) {
        const res = await a.app.inject({
          method,
          url,
          headers,
          ...(payload === undefined ? {} : { payload: payload as object }),
        });
        expect(res.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(errorOf(res).code).toBe('unauthorized');
      }
    }
    // nothing was stored by the refused POST
    const check = await a.app.inject({ url: `${EVENTS}/${id}`, headers: { 'x-api-key': 'k' } });
    expect(check.statusCode).toBe(404);
  });

  it('serves every learning route with the key', async () => {
    const headers = { 'x-api-key': 'k' };
    const statuses: number[] = [];
    for (const [method, url, payload] of ROUTES) {
      const res = await a.app.inject({
        method,
        url,
        headers,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).not.toBe(401);
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(500);
      statuses.push(res.statusCode);
    }
    // the event routes themselves answer with data
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    const page = await a.app.inject({ url: '/api/v1/learners/keyed/events', headers });
    expect((page.json() as HistoryPage).events.map((e) => e.id)).toEqual([id]);
  });
});
