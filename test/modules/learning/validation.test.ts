import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/demo/random.ts';
import {
  contentText,
  stableJson,
  validateEvent,
} from '../../../src/modules/learning/learning.validation.ts';

const NOW = '2026-12-01T10:00:00.000Z';

function randomEvent(r: () => number): Record<string, unknown> {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const str = () =>
    pick(['a', 'k1', 'é"\\\n', '数学', '  x ', 'u-1.2', String(Math.floor(r() * 1e6))]);
  const e: Record<string, unknown> = {
    event_type: pick(['quiz_attempt', 'assignment_submitted', 'x-video_watched', 'x-custom.v1']),
    user_id: r() < 0.2 ? Math.floor(r() * 1000) : str(),
    concept_ids: Array.from({ length: 1 + Math.floor(r() * 3) }, str),
  };
  if (r() < 0.5) e.class_id = str();
  if (r() < 0.3) e.course_id = str();
  if (r() < 0.3) e.lesson_id = str();
  if (r() < 0.7) e.correct = r() < 0.5;
  else e.score = pick([0, 1, 0.5, 0.123456789, 1e-7]);
  if (r() < 0.5) e.duration_ms = Math.floor(r() * 1e6);
  if (r() < 0.7) e.occurred_at = pick(['2026-11-30T08:00:00.000Z', '2026-11-30T08:00:00+02:00']);
  if (r() < 0.5) {
    e.context = {
      z: [1, 'two', { b: null, a: true }],
      a: { y: 2.5, x: str() },
      [str()]: r() < 0.5 ? null : [],
    };
  }
  return e;
}

describe('event fingerprints', () => {
  it('hash the same text as stableJson of the content, as earlier versions stored them', () => {
    const r = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const input = randomEvent(r);
      const res = validateEvent(input, NOW);
      if (!res.ok) throw new Error(`event ${i} refused: ${JSON.stringify(res.errors)}`);
      const e = res.event;
      const sent = {
        event_type: e.event_type,
        user_id: e.user_id,
        class_id: e.class_id,
        course_id: e.course_id,
        lesson_id: e.lesson_id,
        concept_ids: e.concept_ids,
        correct: e.correct,
        score: e.score,
        duration_ms: e.duration_ms,
        occurred_at: input.occurred_at === undefined ? null : e.occurred_at,
        context: e.context,
      };
      expect(contentText(e, sent.occurred_at)).toBe(stableJson(sent));
      const old = createHash('sha256').update(stableJson(sent)).digest('base64url');
      expect(e.fingerprint).toBe(old);
    }
  });

  it('do not depend on the order of keys, and match a retry that left the time to the server', () => {
    const a = validateEvent(
      {
        event_type: 'quiz_attempt',
        user_id: 'u',
        concept_id: 'k',
        correct: true,
        context: { a: 1, b: { c: 2, d: 3 } },
      },
      NOW,
    );
    const b = validateEvent(
      {
        context: { b: { d: 3, c: 2 }, a: 1 },
        correct: true,
        concept_ids: ['k'],
        user_id: 'u',
        event_type: 'quiz_attempt',
      },
      '2026-12-02T00:00:00.000Z',
    );
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.event.occurred_at).not.toBe(b.event.occurred_at);
    expect(a.event.fingerprint).toBe(b.event.fingerprint);
  });

  it('differ when the content differs', () => {
    const base = { event_type: 'quiz_attempt', user_id: 'u', concept_id: 'k', occurred_at: NOW };
    const prints = [
      { ...base, correct: true },
      { ...base, correct: false },
      { ...base, score: 1 },
      { ...base, correct: true, concept_ids: ['k', 'j'] },
      { ...base, correct: true, occurred_at: '2026-12-01T10:00:00.001Z' },
      { ...base, correct: true, context: { a: 1 } },
    ].map((e) => {
      const res = validateEvent(e, NOW);
      if (!res.ok) throw new Error(JSON.stringify(res.errors));
      return res.event.fingerprint;
    });
    expect(new Set(prints).size).toBe(prints.length);
  });
});
