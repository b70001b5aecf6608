import { describe, expect, it } from 'vitest';
import { auc, LOG_LOSS_EPS, logLoss, rmse } from '../../src/models/metrics.ts';

/** AUC by definition: share of (positive, negative) pairs ranked right, ties counting ½. */
function pairwiseAuc(labels: number[], preds: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < labels.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      wins += preds[i]! > preds[j]! ? 1 : preds[i] === preds[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe('auc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one, ½ when everything ties', () => {
    expect(auc([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9])).toBe(1);
    expect(auc([1, 1, 0, 0], [0.1, 0.2, 0.7, 0.9])).toBe(0);
    expect(auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
  });

  it('counts ranked pairs without ties', () => {
    // pairs (pos, neg): 0.35>0.1 ✓, 0.35<0.4 ✗, 0.8>0.1 ✓, 0.8>0.4 ✓ → 3/4
    expect(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
  });

  it('gives tied predictions their average rank', () => {
    // sorted: 0.2 0.2 | 0.5 0.5 | 0.9 → ranks 1.5 1.5 | 3.5 3.5 | 5
    // positive ranks 1.5 + 3.5 + 5 = 10; U = 10 − 3·4/2 = 4; AUC = 4 / (3·2) = 0.6667
    const labels = [0, 1, 0, 1, 1];
    const preds = [0.2, 0.2, 0.5, 0.5, 0.9];
    expect(auc(labels, preds)).toBeCloseTo(4 / 6, 12);
    expect(auc(labels, preds)).toBeCloseTo(pairwiseAuc(labels, preds), 12);
  });

  it('matches the pairwise definition on random data with many ties, in any order', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const labels: number[] = [];
    const preds: number[] = [];
    for (let i = 0; i < 300; i++) {
      const p = Math.round(rand() * 10) / 10; // 11 distinct values → many ties
      preds.push(p);
      labels.push(rand() < p ? 1 : 0);
    }
    const expected = pairwiseAuc(labels, preds);
    expect(auc(labels, preds)).toBeCloseTo(expected, 12);
    expect(
      auc(Float64Array.from(labels).reverse(), Float64Array.from(preds).reverse()),
    ).toBeCloseTo(expected, 12);
  });

  it('is NaN with a single class and rejects mismatched lengths', () => {
    expect(auc([1, 1], [0.2, 0.8])).toBeNaN();
    expect(auc([], [])).toBeNaN();
    expect(() => auc([1, 0], [0.5])).toThrow(RangeError);
  });
});

describe('rmse', () => {
  it('computes the root mean squared error', () => {
    // errors 0.2, 0.4, 0.5 → (0.04 + 0.16 + 0.25) / 3 = 0.15 → √0.15 = 0.387298…
    expect(rmse([1, 0, 1], [0.8, 0.4, 0.5])).toBeCloseTo(Math.sqrt(0.15), 12);
    expect(rmse([1, 0], [1, 0])).toBe(0);
    expect(rmse([], [])).toBeNaN();
    expect(() => rmse([1], [])).toThrow(RangeError);
  });
});

describe('logLoss', () => {
  it('computes the mean binary cross-entropy in nats', () => {
    // −(ln 0.8 + ln 0.6) / 2 = (0.223144 + 0.510826) / 2 = 0.366985…
    expect(logLoss([1, 0], [0.8, 0.4])).toBeCloseTo(0.366985, 6);
    expect(logLoss([1, 0], [0.5, 0.5])).toBeCloseTo(Math.LN2, 12);
  });

  it('clips predictions to [1e-7, 1 − 1e-7]', () => {
    // −ln(1e-7) = 16.118096
    expect(LOG_LOSS_EPS).toBe(1e-7);
    expect(logLoss([1], [0])).toBeCloseTo(16.118096, 6);
    expect(logLoss([0], [1])).toBeCloseTo(16.118096, 6);
    expect(logLoss([1], [1])).toBeCloseTo(1e-7, 12);
  });

  it('is NaN for no data and rejects mismatched lengths', () => {
    expect(logLoss([], [])).toBeNaN();
    expect(() => logLoss([1, 0], [0.5])).toThrow(RangeError);
  });
});
