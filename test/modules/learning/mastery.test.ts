import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { mulberry32 } from '../../../src/demo/random.ts';
import { packEvents } from '../../../src/modules/learning/events.write.ts';
import { validateEvent } from '../../../src/modules/learning/learning.validation.ts';
import { createTestApp, DIALECT, post, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const attempt = (
  user: string,
  concept: string | string[],
  correct: boolean | null,
  at: string,
  extra = {},
) => ({
  event_type: 'quiz_attempt',
  user_id: user,
  ...(Array.isArray(concept) ? { concept_ids: concept } : { concept_id: concept }),
  ...(correct === null ? {} : { correct }),
  occurred_at: at,
  ...extra,
});
const events = async (body: unknown) => {
  const res = await post(t.app, '/api/v1/events', body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const get = async (url: string) => t.app.inject(url);

describe(`concept mastery (${DIALECT})`, () => {
  it('tracks BKT p_known and the plain ratio with hand-computed values', async () => {
    await events([
      attempt('ann', 'fractions', true, '2026-01-05T10:00:00Z'),
      attempt('ann', 'fractions', false, '2026-01-05T10:01:00Z'),
    ]);
    const res = await get('/api/v1/learners/ann/mastery/fractions');
    expect(res.statusCode).toBe(200);
    // defaults (0.3, 0.1, 0.1, 0.2). Correct: 0.27/0.41 = 0.658537, learn → 0.692683.
    // Wrong: 0.0692683/(0.0692683 + 0.307317·0.8) = 0.219814, learn → 0.297833.
    const m = res.json();
    expect(m.p_known).toBeCloseTo(0.297833, 5);
    expect(m).toMatchObject({
      user_id: 'ann',
      concept_id: 'fractions',
      attempts: 2,
      correct: 1,
      ratio: 50,
      mastery: 30,
      mastered: false,
      last_attempt_at: '2026-01-05T10:01:00.000Z',
    });
  });

  it('lists every concept a learner attempted, and ignores events that are no attempt', async () => {
    await events([
      attempt('bob', ['algebra', 'geometry'], true, '2026-01-05T10:00:00Z'),
      {
        event_type: 'video_watched',
        user_id: 'bob',
        concept_id: 'calculus',
        occurred_at: '2026-01-05T10:02:00Z',
      },
      {
        event_type: 'assignment_submitted',
        user_id: 'bob',
        concept_id: 'graded',
        score: 0.5,
        occurred_at: '2026-01-05T10:03:00Z',
      },
    ]);
    const m = (await get('/api/v1/learners/bob/mastery')).json();
    expect(m.concepts.map((c: { concept_id: string }) => c.concept_id)).toEqual([
      'algebra',
      'geometry',
      'graded',
    ]);
    const graded = m.concepts[2];
    expect(graded).toMatchObject({ attempts: 1, correct: 0.5, ratio: 50 });
    // half the evidence of each: 0.5·0.658537 + 0.5·0.050847 = 0.354692, learn → 0.419223
    expect(graded.p_known).toBeCloseTo(0.419223, 5);
  });

  it('gives late events the same state as in-order arrival', async () => {
    const answers = [true, false, true, true, false, true, true, true];
    const at = (i: number) => new Date(Date.UTC(2026, 0, 5, 9, i)).toISOString();
    await events(answers.map((c, i) => attempt('inorder', 'k', c, at(i))));
    // the same answers in a scrambled order, in three requests
    const order = [3, 7, 0, 5, 1, 6, 2, 4];
    for (const part of [order.slice(0, 3), order.slice(3, 5), order.slice(5)]) {
      await events(part.map((i) => attempt('scrambled', 'k', answers[i]!, at(i))));
    }
    const a = (await get('/api/v1/learners/inorder/mastery/k')).json();
    const b = (await get('/api/v1/learners/scrambled/mastery/k')).json();
    expect({ ...b, user_id: 'inorder' }).toEqual(a);
  });

  it('marks a concept mastered once p_known reaches 0.95', async () => {
    const at = (i: number) => new Date(Date.UTC(2026, 0, 6, 9, i)).toISOString();
    await events(Array.from({ length: 12 }, (_, i) => attempt('star', 'easy', true, at(i))));
    const m = (await get('/api/v1/learners/star/mastery/easy')).json();
    expect(m.p_known).toBeGreaterThanOrEqual(0.95);
    expect(m).toMatchObject({ mastered: true, ratio: 100, attempts: 12 });
  });

  it('answers 404 for an unknown learner and for a concept without attempts', async () => {
    expect((await get('/api/v1/learners/nobody/mastery')).statusCode).toBe(404);
    expect((await get('/api/v1/learners/ann/mastery/astronomy')).statusCode).toBe(404);
    const res = await get('/api/v1/learners/nobody/mastery/fractions');
    expect(res.json().error.code).toBe('not_found');
  });

  it('shows a class its mastery per concept and the learner × concept matrix', async () => {
    await events([
      attempt('c-1', 'sets', true, '2026-01-07T09:00:00Z', { class_id: 'math' }),
      attempt('c-2', 'sets', false, '2026-01-07T09:00:00Z', { class_id: 'math' }),
      attempt('c-2', 'logic', true, '2026-01-07T09:01:00Z', { class_id: 'math' }),
    ]);
    const res = await get('/api/v1/classes/math/concepts/mastery');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.matrix.learners).toEqual(['c-1', 'c-2']);
    expect(body.matrix.concepts).toEqual(['logic', 'sets']);
    expect(body.matrix.values).toEqual([
      [null, 69],
      [69, 15],
    ]);
    expect(body.concepts).toEqual([
      { concept_id: 'logic', learners: 1, mean_mastery: 69.3, share_mastered: 0 },
      { concept_id: 'sets', learners: 2, mean_mastery: 41.9, share_mastered: 0 },
    ]);
    expect((await get('/api/v1/classes/nope/concepts/mastery')).statusCode).toBe(404);
  });

  it('lists a learner of a class whose first events were in a flush that failed', async () => {
    const db = t.database.db;
    // The flush fails when it writes the mastery of concept "boom", after its class membership.
    if (DIALECT === 'postgres') {
      await sql`create function refuse_boom() returns trigger language plpgsql as $$
        begin raise exception 'refused'; end $$`.execute(db);
      await sql`create trigger refuse_boom before insert on concept_mastery for each row
        when (new.concept_id = 'boom') execute function refuse_boom()`.execute(db);
    } else {
      await sql`create trigger refuse_boom before insert on concept_mastery
        when new.concept_id = 'boom' begin select raise(abort, 'refused'); end`.execute(db);
    }
    const now = new Date().toISOString();
    const valid = (e: unknown) => {
      const v = validateEvent(e, now);
      if (!v.ok) throw new Error(JSON.stringify(v.errors));
      return { index: 0, event: v.event };
    };
    try {
      const first = attempt('r-1', 'boom', true, '2026-01-08T09:00:00Z', { class_id: 'retry' });
      await expect(
        t.database.writer.run('learning.events', packEvents([[valid(first)]], now)),
      ).rejects.toThrow(/refused/);
    } finally {
      if (DIALECT === 'postgres') {
        await sql`drop trigger refuse_boom on concept_mastery`.execute(db);
        await sql`drop function refuse_boom()`.execute(db);
      } else {
        await sql`drop trigger refuse_boom`.execute(db);
      }
    }
    expect((await get('/api/v1/classes/retry/concepts/mastery')).statusCode).toBe(404);
    await events(attempt('r-1', 'sets', true, '2026-01-08T09:01:00Z', { class_id: 'retry' }));
    const res = await get('/api/v1/classes/retry/concepts/mastery');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().matrix.learners).toEqual(['r-1']);
  });

  it('recomputes from the log to exactly the incremental state', async () => {
    const before = (await get('/api/v1/learners/scrambled/mastery')).json();
    const one = await post(t.app, '/api/v1/learners/scrambled/mastery/recompute', undefined);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ learners: 1, concepts: 1, attempts: 8 });
    expect((await get('/api/v1/learners/scrambled/mastery')).json()).toEqual(before);

    const everyone = ['ann', 'bob', 'inorder', 'star', 'c-1', 'c-2'];
    const states = await Promise.all(
      everyone.map(async (u) => (await get(`/api/v1/learners/${u}/mastery`)).json()),
    );
    const all = await post(t.app, '/api/v1/mastery/recompute', undefined);
    expect(all.statusCode).toBe(200);
    expect(all.json().learners).toBeGreaterThanOrEqual(everyone.length + 1);
    const again = await Promise.all(
      everyone.map(async (u) => (await get(`/api/v1/learners/${u}/mastery`)).json()),
    );
    expect(again).toEqual(states);
    expect(
      (await post(t.app, '/api/v1/learners/nobody/mastery/recompute', undefined)).statusCode,
    ).toBe(404);
  });
});

describe(`BKT parameters per concept (${DIALECT})`, () => {
  it('shows the defaults for a concept that was never fitted', async () => {
    const res = await get('/api/v1/concepts/fractions');
    expect(res.json()).toEqual({
      concept_id: 'fractions',
      source: 'default',
      params: { p_init: 0.3, p_learn: 0.1, p_slip: 0.1, p_guess: 0.2 },
      fit: null,
    });
    expect((await get('/api/v1/concepts/never-seen')).statusCode).toBe(404);
  });

  it('refuses to fit a concept with too few attempts', async () => {
    const res = await post(t.app, '/api/v1/concepts/fractions/fit', undefined);
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: 'insufficient_data',
      details: { attempts: 2, required: 30 },
    });
    expect((await post(t.app, '/api/v1/concepts/never-seen/fit', undefined)).statusCode).toBe(404);
  });

  it('fits by EM, stores the fit, and replays mastery with it', async () => {
    // 300 learners × 12 attempts from a known BKT: init 0.2, learn 0.2, slip 0.1, guess 0.25.
    const rand = mulberry32(7);
    const batch = [];
    for (let u = 0; u < 300; u++) {
      let known = rand() < 0.2;
      for (let i = 0; i < 12; i++) {
        const correct = known ? rand() >= 0.1 : rand() < 0.25;
        batch.push(
          attempt(
            `fit-${u}`,
            'synthetic',
            correct,
            new Date(Date.UTC(2026, 1, 1, 8, u, i)).toISOString(),
          ),
        );
        if (!known && rand() < 0.2) known = true;
      }
    }
    await events(batch);
    const res = await post(t.app, '/api/v1/concepts/synthetic/fit', undefined);
    expect(res.statusCode).toBe(200);
    const fit = res.json();
    expect(fit.source).toBe('fitted');
    expect(fit.fit).toMatchObject({ sequences: 300, attempts: 3600 });
    expect(fit.params.p_init).toBeCloseTo(0.2, 1);
    expect(fit.params.p_learn).toBeCloseTo(0.2, 1);
    expect(fit.params.p_slip).toBeCloseTo(0.1, 1);
    expect(fit.params.p_guess).toBeCloseTo(0.25, 1);
    expect((await get('/api/v1/concepts/synthetic')).json()).toEqual(fit);

    // states now follow the fitted parameters, and a recompute gives the same
    const state = (await get('/api/v1/learners/fit-0/mastery/synthetic')).json();
    await post(t.app, '/api/v1/learners/fit-0/mastery/recompute', undefined);
    expect((await get('/api/v1/learners/fit-0/mastery/synthetic')).json()).toEqual(state);

    // a later attempt is applied with the fitted parameters: p' = update(p, correct)
    const p = state.p_known;
    const { p_learn: l, p_slip: s, p_guess: g } = fit.params;
    const post1 = (p * (1 - s)) / (p * (1 - s) + (1 - p) * g);
    await events([attempt('fit-0', 'synthetic', true, '2026-03-01T00:00:00Z')]);
    const next = (await get('/api/v1/learners/fit-0/mastery/synthetic')).json();
    expect(next.p_known).toBeCloseTo(post1 + (1 - post1) * l, 10);
  });

  it('fits every concept with enough data and lists the ones it skipped', async () => {
    const res = await post(t.app, '/api/v1/concepts/fit', undefined);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.concepts.map((c: { concept_id: string }) => c.concept_id)).toEqual(['synthetic']);
    expect(body.skipped.map((c: { concept_id: string }) => c.concept_id)).toContain('fractions');
  });
});

describe(`incremental mastery = recompute, over random arrival orders (${DIALECT})`, () => {
  /** Every stored state, exactly as stored (the API rounds `correct`). */
  const storedStates = () =>
    t.database.db
      .selectFrom('concept_mastery')
      .selectAll()
      .where('user_id', 'like', 'prop-%')
      .orderBy('user_id')
      .orderBy('concept_id')
      .execute();

  it('gives the same states for any order of arrival and for a rebuild in chunks', async () => {
    for (const seed of [1, 2, 3]) {
      const rand = mulberry32(seed);
      const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
      const users = Array.from({ length: 7 }, (_, i) => `prop-${seed}-${i}`);
      const concepts = ['pa', 'pb', 'pc'];
      // A few instants only, so that many attempts share one and the event id orders them.
      const instants = Array.from({ length: 5 }, (_, i) =>
        new Date(Date.UTC(2026, 2, seed, 9, i)).toISOString(),
      );
      const log = Array.from({ length: 150 }, (_, i) => {
        const kind = rand();
        const base = {
          id: `0190${String(seed).padStart(4, '0')}-0000-7000-8000-${String(i).padStart(12, '0')}`,
          user_id: pick(users),
          occurred_at: pick(instants),
        };
        if (kind < 0.1) return { ...base, event_type: 'video_watched', concept_id: pick(concepts) };
        if (kind < 0.4) {
          // scores that no short decimal writes exactly
          const score = [1 / 3, 2 / 7, 0.1, 0, 1, Math.PI / 4][Math.floor(rand() * 6)];
          return { ...base, event_type: 'assignment_submitted', concept_id: pick(concepts), score };
        }
        const ids = kind < 0.5 ? ['pa', 'pc'] : [pick(concepts)];
        return { ...base, event_type: 'quiz_attempt', concept_ids: ids, correct: rand() < 0.6 };
      });
      // Arrival: shuffled, in requests of 1 to 20 events.
      const shuffled = [...log];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      for (let i = 0; i < shuffled.length;) {
        const n = 1 + Math.floor(rand() * 20);
        await events(shuffled.slice(i, i + n));
        i += n;
      }
      const incremental = await storedStates();
      expect(incremental.length).toBeGreaterThan(seed * 10);

      // A rebuild of every learner, three per chunk, so that chunks end inside the set.
      const r = await t.app.services.mastery.recomputeAll(3);
      expect(r.attempts).toBeGreaterThanOrEqual(log.length * 0.9);
      expect(await storedStates()).toEqual(incremental);
    }
    // The states of every seed's learners, rebuilt once more by the route.
    const before = await storedStates();
    expect((await post(t.app, '/api/v1/mastery/recompute', undefined)).statusCode).toBe(200);
    expect(await storedStates()).toEqual(before);
  });

  it('drops stored states that no attempt in the log backs, and repairs wrong ones', async () => {
    const before = await storedStates();
    const bogus = (user_id: string, concept_id: string) => ({
      user_id,
      concept_id,
      attempts: 3,
      correct: 3,
      p_known: 0.99,
      last_attempt_at: '2026-03-01T00:00:00.000Z',
      last_event_id: 'x',
    });
    // a concept the learner never attempted; learners with no attempt at all, one between
    // learners that have attempts and one after every learner
    await t.database.db
      .insertInto('concept_mastery')
      .values([
        bogus('prop-1-0', 'never'),
        bogus('prop-1-00', 'pa'),
        bogus('prop-9', 'pa'),
        bogus('zzz-last', 'pa'),
      ])
      .execute();
    // and stored states gone wrong, each in one field, by as little as a double can
    const wrong = before.slice(0, 5);
    const changes = [
      { p_known: wrong[0]!.p_known + 2 ** -40 },
      { correct: wrong[1]!.correct + 1 },
      { attempts: wrong[2]!.attempts + 1 },
      { last_attempt_at: '2020-01-01T00:00:00.000Z' },
      { last_event_id: 'x' },
    ];
    for (const [i, change] of changes.entries()) {
      await t.database.db
        .updateTable('concept_mastery')
        .set(change)
        .where('user_id', '=', wrong[i]!.user_id)
        .where('concept_id', '=', wrong[i]!.concept_id)
        .execute();
    }
    expect(await storedStates()).not.toEqual(before);
    await t.app.services.mastery.recomputeAll(2);
    expect(await storedStates()).toEqual(before);
    const rest = await t.database.db
      .selectFrom('concept_mastery')
      .select('user_id')
      .where('user_id', '=', 'zzz-last')
      .execute();
    expect(rest).toEqual([]);
  });
});
