/**
 * Synthetic learning events, built straight as JSON text: `quiz_attempt`s of 2,000 learners
 * (u0..u1999, 40 per class lc0..lc49) on 50 concepts (k0..k49). Whether an answer is right is
 * drawn from a per-(learner, concept) probability that rises with practice, as BKT expects:
 * P(known after n attempts) = 1 − (1 − k0)(1 − learn)^n, P(correct) = known·(1 − slip) +
 * (1 − known)·guess, with k0 from the learner's ability and the concept's difficulty. Seeded,
 * so runs are comparable.
 */
import { mulberry32 } from '../src/demo/random.ts';
import type { LearnerSequence } from '../eval/assist2009.ts';

export const LEARNERS = 2000;
export const CONCEPTS = 50;
export const LEARNER_CLASSES = 50;
const PER_CLASS = LEARNERS / LEARNER_CLASSES;
const SLIP = 0.1;
const GUESS = 0.2;

/** Lag of a live event: it reaches the server this long after it happened. */
export const LIVE_LAG_MS = 3000;

export class EventGen {
  private readonly random: () => number;
  /** attempts so far per (learner, concept), index learner·CONCEPTS + concept */
  private readonly practice = new Uint32Array(LEARNERS * CONCEPTS);
  private readonly ability = new Float64Array(LEARNERS);
  private readonly difficulty = new Float64Array(CONCEPTS);
  private readonly learn = new Float64Array(CONCEPTS);
  /** events generated so far, for the spread timestamps */
  private made = 0;

  constructor(seed: number) {
    this.random = mulberry32(seed);
    // The learner and concept traits come from a fixed seed: every generator sees the same
    // population, only the draws differ.
    const traits = mulberry32(20_091);
    for (let u = 0; u < LEARNERS; u++) this.ability[u] = 0.2 + 0.6 * traits();
    for (let k = 0; k < CONCEPTS; k++) {
      this.difficulty[k] = 0.3 + 0.6 * traits();
      this.learn[k] = 0.05 + 0.2 * traits();
    }
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** One attempt as JSON with the given occurred_at. */
  event(occurredAt: string): string {
    const u = this.int(LEARNERS);
    const k = this.int(CONCEPTS);
    const n = this.practice[u * CONCEPTS + k]!++;
    const k0 = this.ability[u]! * (1 - this.difficulty[k]!);
    const known = 1 - (1 - k0) * (1 - this.learn[k]!) ** n;
    const correct = this.random() < known * (1 - SLIP) + (1 - known) * GUESS;
    return (
      `{"event_type":"quiz_attempt","user_id":"u${u}","class_id":"lc${Math.floor(u / PER_CLASS)}",` +
      `"concept_id":"k${k}","correct":${correct},"occurred_at":"${occurredAt}"}`
    );
  }

  /** A live body: n events that happened LIVE_LAG_MS ago (one instant, so each request is in order). */
  liveBody(n: number): string {
    const at = new Date(Date.now() - LIVE_LAG_MS).toISOString();
    const parts = new Array<string>(n);
    for (let i = 0; i < n; i++) parts[i] = this.event(at);
    return `[${parts.join(',')}]`;
  }

  /**
   * A backfill body: of `total` events this generator will make, event i happened at
   * oldestMs + i/total of the span up to nowMs, so the history is in time order as practised.
   */
  spreadBody(n: number, total: number, oldestMs: number, nowMs: number): string {
    const parts = new Array<string>(n);
    const step = (nowMs - oldestMs) / Math.max(1, total);
    for (let i = 0; i < n; i++) {
      const at = new Date(oldestMs + Math.floor(this.made++ * step)).toISOString();
      parts[i] = this.event(at);
    }
    return `[${parts.join(',')}]`;
  }
}

/**
 * ASSISTments answers as events: learner i is `a<i>`, the concept is the skill id, and each
 * learner's answers are one second apart from startMs on, so their order is kept.
 */
export function assistEvents(learners: LearnerSequence[], startMs: number): string[] {
  const out: string[] = [];
  learners.forEach(({ skills, correct }, i) => {
    for (let j = 0; j < skills.length; j++) {
      const at = new Date(startMs + j * 1000).toISOString();
      out.push(
        `{"event_type":"quiz_attempt","user_id":"a${i}","concept_id":"${skills[j]}",` +
          `"correct":${correct[j] === 1},"occurred_at":"${at}"}`,
      );
    }
  });
  return out;
}
