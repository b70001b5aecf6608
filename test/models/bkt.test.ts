import { describe, expect, it } from 'vitest';
import {
  type BktParams,
  DEFAULT_BKT_PARAMS,
  fitBkt,
  flatten,
  MASTERED_THRESHOLD,
  pCorrect,
  trace,
  update,
} from '../../src/models/bkt.ts';
import { mulberry32 } from '../../src/demo/random.ts';

const P: BktParams = { p_init: 0.3, p_learn: 0.1, p_slip: 0.1, p_guess: 0.2 };

/** Answer sequences drawn from a known BKT: answer from the current state, then maybe learn. */
function simulate(params: BktParams, learners: number, attempts: number, seed: number) {
  const rand = mulberry32(seed);
  const out: Uint8Array[] = [];
  for (let l = 0; l < learners; l++) {
    const seq = new Uint8Array(attempts);
    let known = rand() < params.p_init;
    for (let t = 0; t < attempts; t++) {
      seq[t] = (known ? rand() >= params.p_slip : rand() < params.p_guess) ? 1 : 0;
      if (!known && rand() < params.p_learn) known = true;
    }
    out.push(seq);
  }
  return out;
}

describe('defaults', () => {
  it('are the documented standard values', () => {
    expect(DEFAULT_BKT_PARAMS).toEqual({ p_init: 0.3, p_learn: 0.1, p_slip: 0.1, p_guess: 0.2 });
    expect(MASTERED_THRESHOLD).toBe(0.95);
    expect(Object.isFrozen(DEFAULT_BKT_PARAMS)).toBe(true);
  });
});

describe('pCorrect', () => {
  it('mixes 1 − slip and guess by p_known', () => {
    // 0.3·0.9 + 0.7·0.2 = 0.27 + 0.14 = 0.41
    expect(pCorrect(0.3, P)).toBeCloseTo(0.41, 12);
    expect(pCorrect(1, P)).toBeCloseTo(0.9, 12);
    expect(pCorrect(0, P)).toBeCloseTo(0.2, 12);
  });
});

describe('update', () => {
  it('applies the posterior for a correct answer, then the learning step', () => {
    // posterior = 0.3·0.9 / (0.3·0.9 + 0.7·0.2) = 0.27 / 0.41 = 0.658537…
    // learning: 0.658537 + (1 − 0.658537)·0.1 = 28.4 / 41 = 0.692683…
    expect(update(0.3, true, P)).toBeCloseTo(0.692683, 6);
    expect(update(0.3, true, P)).toBeCloseTo(28.4 / 41, 12);
  });

  it('applies the posterior for an incorrect answer, then the learning step', () => {
    // posterior = 0.3·0.1 / (0.3·0.1 + 0.7·0.8) = 0.03 / 0.59 = 0.050847…
    // learning: 0.050847 + (1 − 0.050847)·0.1 = 8.6 / 59 = 0.145763…
    expect(update(0.3, false, P)).toBeCloseTo(0.145763, 6);
    expect(update(0.3, false, P)).toBeCloseTo(8.6 / 59, 12);
  });

  it('treats score 1 as correct, 0 as incorrect and mixes the posteriors in between', () => {
    expect(update(0.3, 1, P)).toBe(update(0.3, true, P));
    expect(update(0.3, 0, P)).toBe(update(0.3, false, P));
    // 0.5·0.658537 + 0.5·0.050847 = 0.354692; + (1 − 0.354692)·0.1 = 0.419223…
    expect(update(0.3, 0.5, P)).toBeCloseTo(0.419223, 6);
  });

  it('is monotone in the score and in the prior', () => {
    let prev = -1;
    for (let s = 0; s <= 1.0001; s += 0.1) {
      const next = update(0.4, Math.min(1, s), P);
      expect(next).toBeGreaterThan(prev);
      prev = next;
    }
    for (const answer of [true, false, 0.3]) {
      expect(update(0.6, answer, P)).toBeGreaterThan(update(0.5, answer, P));
    }
    expect(update(0.3, true, P)).toBeGreaterThan(0.3); // a correct answer always raises it
  });

  it('rejects scores outside [0, 1]', () => {
    expect(() => update(0.3, 1.5, P)).toThrow(RangeError);
    expect(() => update(0.3, -0.1, P)).toThrow(RangeError);
    expect(() => update(0.3, Number.NaN, P)).toThrow(RangeError);
  });
});

describe('trace', () => {
  it('returns p_known after each answer', () => {
    // after 1: 28.4/41 = 0.692683; then wrong: known 2.84/41, unknown (12.6/41)·0.8 = 10.08/41
    // posterior 2.84 / 12.92 = 0.219814; learning: (2.84 + 1.008) / 12.92 = 0.297833…
    const t = trace([1, 0], P);
    expect(t).toHaveLength(2);
    expect(t[0]).toBeCloseTo(0.692683, 6);
    expect(t[1]).toBeCloseTo(3.848 / 12.92, 12);
    expect(trace([], P)).toEqual([]);
    expect(trace([true, false], P)).toEqual(t);
  });

  it('reaches mastery after a run of correct answers', () => {
    // 0.3 → 0.692683 → 0.919231 → 0.982763: the third correct answer crosses 0.95
    const t = trace([1, 1, 1, 1, 1, 1], P);
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
    expect(t[1]!).toBeCloseTo(0.919231, 6);
    expect(t[1]!).toBeLessThan(MASTERED_THRESHOLD);
    expect(t[2]!).toBeGreaterThanOrEqual(MASTERED_THRESHOLD);
  });
});

describe('fitBkt', () => {
  const truth: BktParams = { p_init: 0.2, p_learn: 0.15, p_slip: 0.1, p_guess: 0.25 };
  const data = simulate(truth, 2000, 20, 42);

  it('recovers the parameters of a known BKT', () => {
    const fit = fitBkt(data);
    expect(fit.sequences).toBe(2000);
    expect(fit.attempts).toBe(40_000);
    for (const k of ['p_init', 'p_learn', 'p_slip', 'p_guess'] as const) {
      expect(Math.abs(fit.params[k] - truth[k])).toBeLessThan(0.05);
    }
    expect(fit.iterations).toBeGreaterThan(1);
    expect(fit.ms).toBeGreaterThanOrEqual(0);
    // EM from the truth cannot find a worse optimum than the truth itself
    const atTruth = fitBkt(data, { starts: [truth], maxIterations: 1 });
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(atTruth.logLikelihood);
  });

  it('reports the log-likelihood of the predictions update/pCorrect make', () => {
    // P(o_1..o_T) = Π P(o_t | o_<t), with P(right | past) = pCorrect(p_known before t)
    const seqs = [[1, 0, 1, 1], [0, 0], [1]];
    let expected = 0;
    for (const seq of seqs) {
      let k = P.p_init;
      for (const o of seq) {
        const p = pCorrect(k, P);
        expected += Math.log(o ? p : 1 - p);
        k = update(k, o === 1, P);
      }
    }
    const fit = fitBkt(seqs, { starts: [P], maxIterations: 1 });
    expect(fit.params).toEqual(P);
    expect(fit.logLikelihood).toBeCloseTo(expected, 10);
  });

  it('is deterministic and accepts the flat form', () => {
    const { ms: _a, ...first } = fitBkt(data);
    const { ms: _b, ...second } = fitBkt(flatten(data));
    expect(second).toEqual(first);
  });

  it('keeps slip and guess below 0.5 and every parameter inside (0, 1) on adversarial data', () => {
    const rightThenWrong = Array.from({ length: 200 }, () => [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    const allRight = Array.from({ length: 50 }, () => [1, 1, 1, 1]);
    const allWrong = Array.from({ length: 50 }, () => [0, 0, 0]);
    for (const seqs of [rightThenWrong, allRight, allWrong, [[1], [0]]]) {
      const { params, logLikelihood } = fitBkt(seqs);
      expect(params.p_slip).toBeLessThan(0.5);
      expect(params.p_guess).toBeLessThan(0.5);
      for (const v of Object.values(params)) {
        expect(v).toBeGreaterThanOrEqual(1e-4);
        expect(v).toBeLessThanOrEqual(1 - 1e-4);
      }
      expect(Number.isFinite(logLikelihood)).toBe(true);
    }
  });

  it('handles empty input and empty sequences', () => {
    const empty = fitBkt([]);
    expect(empty).toMatchObject({ sequences: 0, attempts: 0, logLikelihood: 0, iterations: 0 });
    const withEmpty = fitBkt([[], [1, 1, 0], []]);
    expect(withEmpty.sequences).toBe(1);
    expect(withEmpty.attempts).toBe(3);
  });
});
