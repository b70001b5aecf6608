import { describe, expect, it } from 'vitest';
import { DEFAULT_RULE_THRESHOLDS, priorityOf, recommend } from '../../src/models/class-rules.ts';

const calm = { stuck: 0.1, got_it: 0.5, pause: 0.1, example: 0.5, confidence: 6 };

describe('recommend', () => {
  it('recommends nothing for a class inside every threshold', () => {
    expect(recommend(calm)).toEqual([]);
  });

  it('fires recap_session on a high stuck rate and quotes the numbers', () => {
    const [rec, ...rest] = recommend({ ...calm, stuck: 0.42 });
    expect(rest).toEqual([]);
    expect(rec!.code).toBe('recap_session');
    expect(rec!.rationale).toContain('stuck rate 42% > 30%');
    expect(rec!.evidence).toContainEqual({
      metric: 'stuck',
      value: 0.42,
      comparison: '>',
      threshold: 0.3,
      triggered: true,
    });
  });

  it('fires recap_session on low confidence alone', () => {
    const recs = recommend({ ...calm, confidence: 4.2 });
    expect(recs.map((r) => r.code)).toEqual(['recap_session']);
    expect(recs[0]!.rationale).toContain('average confidence 4.2 < 5.0');
  });

  it('does not fire at exactly the threshold (strict comparisons)', () => {
    expect(recommend({ ...calm, stuck: 0.3, pause: 0.3, example: 0.3, confidence: 5 })).toEqual([]);
  });

  it('fires guided_examples and micro_breaks', () => {
    const codes = recommend({ ...calm, example: 0.1, pause: 0.5 }).map((r) => r.code);
    expect(codes.sort()).toEqual(['guided_examples', 'micro_breaks']);
  });

  it('fires enrichment only when got_it and confidence are both high (inclusive)', () => {
    expect(recommend({ ...calm, got_it: 0.7, confidence: 7 }).map((r) => r.code)).toEqual([
      'enrichment',
    ]);
    expect(recommend({ ...calm, got_it: 0.9, confidence: 6.9 })).toEqual([]);
    expect(recommend({ ...calm, got_it: 0.69, confidence: 9 })).toEqual([]);
  });

  it('grows priority with the distance from the threshold', () => {
    // room above 0.30 is 0.70: 0.35 → 7% (low), 0.45 → 21% (medium), 0.70 → 57% (high)
    expect(recommend({ ...calm, stuck: 0.35 })[0]!.priority).toBe('low');
    expect(recommend({ ...calm, stuck: 0.45 })[0]!.priority).toBe('medium');
    expect(recommend({ ...calm, stuck: 0.7 })[0]!.priority).toBe('high');
    // room below 5 is 4 points: 4 → 25% (medium), 2 → 75% (high)
    expect(recommend({ ...calm, confidence: 4 })[0]!.priority).toBe('medium');
    expect(recommend({ ...calm, confidence: 2 })[0]!.priority).toBe('high');
  });

  it('sorts high priority first', () => {
    const recs = recommend({ ...calm, stuck: 0.35, example: 0.02 });
    expect(recs.map((r) => [r.code, r.priority])).toEqual([
      ['guided_examples', 'high'],
      ['recap_session', 'low'],
    ]);
  });

  it('uses configured thresholds', () => {
    const t = { ...DEFAULT_RULE_THRESHOLDS, stuckRateHigh: 0.5 };
    expect(recommend({ ...calm, stuck: 0.42 }, t)).toEqual([]);
    expect(recommend({ ...calm, stuck: 0.6 }, t)[0]!.code).toBe('recap_session');
  });

  it('maps severity to priority bands', () => {
    expect(priorityOf(0.5, DEFAULT_RULE_THRESHOLDS)).toBe('high');
    expect(priorityOf(0.2, DEFAULT_RULE_THRESHOLDS)).toBe('medium');
    expect(priorityOf(0.19, DEFAULT_RULE_THRESHOLDS)).toBe('low');
  });
});
