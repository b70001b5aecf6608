import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Writer } from '../../db/writer.ts';
import type { Database } from '../../db/schema.ts';
import { AppError, notFound } from '../../http/errors.ts';
import { DEFAULT_BKT_PARAMS, MASTERED_THRESHOLD } from '../../models/bkt.ts';
import * as repo from './learning.repository.ts';
import { MIN_FIT_ATTEMPTS, type RebuildResult } from './mastery.rebuild.ts';
import { masteryView } from './mastery.model.ts';

/** Per-(learner, concept) mastery: a projection of the attempts in the event log. */
export class MasteryService {
  constructor(
    private readonly db: Kysely<Database>,
    /** rebuilds and fits are write tasks: they run where intake batches do */
    private readonly writer: Writer,
    private readonly log?: FastifyBaseLogger,
  ) {}

  async learner(userId: string) {
    const rows = await repo.masteryOfLearner(this.db, userId);
    if (rows.length === 0 && !(await repo.learnerExists(this.db, userId))) {
      throw notFound(`Learner ${JSON.stringify(userId)} has no events`);
    }
    return { user_id: userId, concepts: rows.map(masteryView) };
  }

  async learnerConcept(userId: string, conceptId: string) {
    const [row] = await repo.masteryOfLearner(this.db, userId, conceptId);
    if (!row) {
      throw notFound(
        `Learner ${JSON.stringify(userId)} has no attempts on concept ${JSON.stringify(conceptId)}`,
      );
    }
    return { user_id: userId, ...masteryView(row) };
  }

  /** Per concept: the class's mean mastery and share mastered; and the learner × concept matrix. */
  async classConcepts(classId: string) {
    const learners = await repo.learnersOfClass(this.db, classId);
    if (learners.length === 0)
      throw notFound(`Class ${JSON.stringify(classId)} has no learning events`);
    const rows = await repo.masteryOfLearners(this.db, learners);
    const concepts = [...new Set(rows.map((r) => r.concept_id))].sort();
    const col = new Map(concepts.map((c, i) => [c, i]));
    const rowOf = new Map(learners.map((u, i) => [u, i]));
    const matrix: (number | null)[][] = learners.map(() => concepts.map(() => null));
    const stats = concepts.map(() => ({ sum: 0, mastered: 0, n: 0 }));
    for (const r of rows) {
      const j = col.get(r.concept_id)!;
      matrix[rowOf.get(r.user_id)!]![j] = Math.round(100 * r.p_known);
      const s = stats[j]!;
      s.sum += 100 * r.p_known;
      s.n++;
      if (r.p_known >= MASTERED_THRESHOLD) s.mastered++;
    }
    return {
      class_id: classId,
      concepts: concepts.map((concept_id, j) => {
        const s = stats[j]!;
        return {
          concept_id,
          learners: s.n,
          mean_mastery: Math.round((s.sum / s.n) * 10) / 10,
          share_mastered: Math.round((s.mastered / s.n) * 1000) / 1000,
        };
      }),
      matrix: { learners, concepts, values: matrix },
    };
  }

  async recomputeLearner(userId: string) {
    const started = performance.now();
    if (!(await repo.learnerExists(this.db, userId)))
      throw notFound(`Learner ${JSON.stringify(userId)} has no events`);
    const {
      learners: _,
      last: __,
      ...r
    } = await this.writer.run('mastery.rebuild', {
      userIds: [userId],
      after: null,
      chunk: 1,
    });
    return { learners: 1, ...r, duration_ms: Math.round(performance.now() - started) };
  }

  /** Rebuilds every learner, a chunk of learners per transaction, logging progress. */
  async recomputeAll(chunk = 500) {
    const started = performance.now();
    let learners = 0;
    let concepts = 0;
    let attempts = 0;
    let after: string | null = null;
    for (;;) {
      const r: RebuildResult = await this.writer.run('mastery.rebuild', {
        userIds: null,
        after,
        chunk,
      });
      if (r.last === null) break;
      learners += r.learners;
      concepts += r.concepts;
      attempts += r.attempts;
      after = r.last;
      this.log?.info({ learners, attempts }, 'mastery recompute progress');
    }
    const duration_ms = Math.round(performance.now() - started);
    this.log?.info({ learners, concepts, attempts, duration_ms }, 'mastery recompute done');
    return { learners, concepts, attempts, duration_ms };
  }

  /**
   * Fits BKT parameters for one concept by EM over every learner's attempt sequence, stores
   * them, and replays the concept's states with them so the projection stays rebuildable.
   */
  async fitConcept(conceptId: string) {
    const out = await this.writer.run('mastery.fit', conceptId);
    if (out.status === 'no_attempts') {
      throw notFound(`Concept ${JSON.stringify(conceptId)} has no attempts`);
    }
    if (out.status === 'too_few') {
      throw new AppError(
        422,
        'insufficient_data',
        `Concept ${JSON.stringify(conceptId)} has ${out.attempts} attempts; fitting needs at least ${MIN_FIT_ATTEMPTS}`,
        { attempts: out.attempts, required: MIN_FIT_ATTEMPTS },
      );
    }
    const { concept_id: _, p_init: _i, p_learn: _l, p_slip: _s, p_guess: _g, ...fit } = out.row;
    return this.conceptView(conceptId, out.params, fit);
  }

  /** Fits every concept with enough attempts; the others keep their parameters and are listed. */
  async fitAll() {
    const started = performance.now();
    const concepts = [];
    const skipped: { concept_id: string; reason: string }[] = [];
    for (const c of await repo.conceptsWithAttempts(this.db)) {
      try {
        concepts.push(await this.fitConcept(c));
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'insufficient_data')) throw err;
        skipped.push({ concept_id: c, reason: err.message });
      }
    }
    return { concepts, skipped, duration_ms: Math.round(performance.now() - started) };
  }

  private conceptView(
    conceptId: string,
    params: typeof DEFAULT_BKT_PARAMS,
    fit: {
      sequences: number;
      attempts: number;
      log_likelihood: number;
      fit_ms: number;
      fitted_at: string;
    } | null,
  ) {
    return {
      concept_id: conceptId,
      source: fit ? ('fitted' as const) : ('default' as const),
      params: { ...params },
      fit,
    };
  }

  async concept(conceptId: string) {
    const row = (await repo.paramsOf(this.db, [conceptId])).get(conceptId);
    if (row) {
      const { concept_id: _, p_init, p_learn, p_slip, p_guess, ...fit } = row;
      return this.conceptView(conceptId, { p_init, p_learn, p_slip, p_guess }, fit);
    }
    if (!(await repo.conceptHasAttempts(this.db, conceptId))) {
      throw notFound(`Concept ${JSON.stringify(conceptId)} has no attempts and no parameters`);
    }
    return this.conceptView(conceptId, DEFAULT_BKT_PARAMS, null);
  }
}
