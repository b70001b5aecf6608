import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import { AppError, notFound } from '../../http/errors.ts';
import { DEFAULT_BKT_PARAMS, fitBkt, MASTERED_THRESHOLD } from '../../models/bkt.ts';
import * as repo from './learning.repository.ts';
import type { ConceptMasteryTable } from './learning.table.ts';
import {
  type AttemptLike,
  compareAttempts,
  fold,
  type MasteryState,
  masteryView,
  paramsFrom,
} from './mastery.model.ts';

type Attempt = AttemptLike & { user_id: string; concept_id: string };
const key = (u: string, c: string) => `${u}\u0000${c}`;
/** Fewer attempts than this give parameters that say more about noise than about the concept. */
export const MIN_FIT_ATTEMPTS = 30;

/** Per-(learner, concept) mastery: a projection of the attempts in the event log. */
export class MasteryService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly log?: FastifyBaseLogger,
  ) {}

  /**
   * Folds newly stored attempts into the projection, inside the intake transaction. An attempt
   * older than the last one applied to its (learner, concept) triggers a replay of that pair
   * from the log, so the state is the same as if everything had arrived in order.
   */
  async apply(trx: Kysely<Database>, attempts: Attempt[]): Promise<void> {
    if (attempts.length === 0) return;
    const byKey = new Map<string, Attempt[]>();
    for (const a of attempts) {
      const k = key(a.user_id, a.concept_id);
      const list = byKey.get(k);
      if (list) list.push(a);
      else byKey.set(k, [a]);
    }
    const keys = [...byKey.values()].map((l) => ({
      user_id: l[0]!.user_id,
      concept_id: l[0]!.concept_id,
    }));
    const current = new Map(
      (await repo.masteryOf(trx, keys)).map((r) => [key(r.user_id, r.concept_id), r]),
    );
    const params = await repo.paramsOf(trx, [...new Set(keys.map((k) => k.concept_id))]);
    const out: ConceptMasteryTable[] = [];
    for (const [k, list] of byKey) {
      list.sort(compareAttempts);
      const { user_id, concept_id } = list[0]!;
      const p = paramsFrom(params.get(concept_id));
      const state = current.get(k);
      const late =
        state !== undefined &&
        compareAttempts(list[0]!, {
          occurred_at: state.last_attempt_at,
          event_id: state.last_event_id,
        }) < 0;
      const next: MasteryState = late
        ? fold(undefined, await repo.attemptsOf(trx, user_id, concept_id), p)
        : fold(state, list, p);
      out.push({ user_id, concept_id, ...next });
    }
    await repo.saveMastery(trx, this.dialect, out);
  }

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

  /** Rebuilds the given learners' states from the log (replaces what is stored). */
  private async rebuild(
    trx: Kysely<Database>,
    userIds: string[],
  ): Promise<{ concepts: number; attempts: number }> {
    const attempts = await repo.attemptsOfLearners(trx, userIds);
    const params = await repo.paramsOf(trx, [...new Set(attempts.map((a) => a.concept_id))]);
    const out: ConceptMasteryTable[] = [];
    let i = 0;
    while (i < attempts.length) {
      const { user_id, concept_id } = attempts[i]!;
      let j = i;
      while (
        j < attempts.length &&
        attempts[j]!.user_id === user_id &&
        attempts[j]!.concept_id === concept_id
      )
        j++;
      out.push({
        user_id,
        concept_id,
        ...fold(undefined, attempts.slice(i, j), paramsFrom(params.get(concept_id))),
      });
      i = j;
    }
    await repo.deleteMasteryOf(trx, userIds);
    await repo.saveMastery(trx, this.dialect, out);
    return { concepts: out.length, attempts: attempts.length };
  }

  async recomputeLearner(userId: string) {
    const started = performance.now();
    if (!(await repo.learnerExists(this.db, userId)))
      throw notFound(`Learner ${JSON.stringify(userId)} has no events`);
    const r = await this.db.transaction().execute((trx) => this.rebuild(trx, [userId]));
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
      const ids = await repo.learnersPage(this.db, after, chunk);
      if (ids.length === 0) break;
      const r = await this.db.transaction().execute((trx) => this.rebuild(trx, ids));
      learners += ids.length;
      concepts += r.concepts;
      attempts += r.attempts;
      after = ids[ids.length - 1]!;
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
    const attempts = await repo.attemptsOfConcept(this.db, conceptId);
    if (attempts.length === 0)
      throw notFound(`Concept ${JSON.stringify(conceptId)} has no attempts`);
    const sequences: number[][] = [];
    let last: string | null = null;
    for (const a of attempts) {
      if (a.user_id !== last) sequences.push([]);
      sequences[sequences.length - 1]!.push(a.outcome >= 0.5 ? 1 : 0);
      last = a.user_id;
    }
    if (attempts.length < MIN_FIT_ATTEMPTS) {
      throw new AppError(
        422,
        'insufficient_data',
        `Concept ${JSON.stringify(conceptId)} has ${attempts.length} attempts; fitting needs at least ${MIN_FIT_ATTEMPTS}`,
        { attempts: attempts.length, required: MIN_FIT_ATTEMPTS },
      );
    }
    const fit = fitBkt(sequences);
    const fittedAt = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      await repo.saveParams(trx, {
        concept_id: conceptId,
        ...fit.params,
        sequences: fit.sequences,
        attempts: fit.attempts,
        log_likelihood: fit.logLikelihood,
        fit_ms: Math.round(fit.ms * 100) / 100,
        fitted_at: fittedAt,
      });
      const out: ConceptMasteryTable[] = [];
      let i = 0;
      while (i < attempts.length) {
        const user = attempts[i]!.user_id;
        let j = i;
        while (j < attempts.length && attempts[j]!.user_id === user) j++;
        out.push({
          user_id: user,
          concept_id: conceptId,
          ...fold(undefined, attempts.slice(i, j), fit.params),
        });
        i = j;
      }
      await repo.saveMastery(trx, this.dialect, out);
    });
    return this.conceptView(conceptId, fit.params, {
      sequences: fit.sequences,
      attempts: fit.attempts,
      log_likelihood: fit.logLikelihood,
      fit_ms: Math.round(fit.ms * 100) / 100,
      fitted_at: fittedAt,
    });
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
