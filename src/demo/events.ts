/**
 * Learning events for the demo: every school day each present student answers a few quiz
 * questions on the class's current concept and now and then reviews an earlier one. Answers
 * come from a simulated learner (a hidden known/unknown state that can flip to known after
 * each attempt), so mastery rises over the weeks, slower for struggling students.
 */
import { type DemoPlan, demoStudents, lessonsOn } from './generate.ts';
import { PERIODS } from './profiles.ts';
import { clamp, rngFor, uuidFor } from './random.ts';

export interface DemoEvent {
  id: string;
  event_type: 'quiz_attempt' | 'lesson_completed';
  user_id: string;
  class_id: string;
  lesson_id: string;
  concept_id?: string;
  correct?: boolean;
  duration_ms?: number;
  occurred_at: string;
}

const SUBJECT_CONCEPTS: Record<string, string[]> = {
  math: ['fractions', 'decimals', 'ratios', 'linear-equations', 'angles', 'probability'],
  physics: ['units', 'speed', 'forces', 'energy', 'pressure', 'circuits'],
  biology: ['cells', 'photosynthesis', 'respiration', 'genetics', 'ecosystems', 'evolution'],
  history: ['sources', 'chronology', 'causes', 'empires', 'revolutions', 'interpretations'],
};

export function conceptsOf(classId: string): string[] {
  const subject = classId.split('-')[0] ?? '';
  return SUBJECT_CONCEPTS[subject] ?? [1, 2, 3, 4, 5, 6].map((k) => `${classId}-topic-${k}`);
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function* demoEvents(plan: DemoPlan): Generator<DemoEvent> {
  for (const cls of plan.classes) {
    const concepts = conceptsOf(cls.id);
    const roster = demoStudents(plan.seed, cls);
    const known = new Map<string, boolean>();
    for (const [d, day] of plan.days.entries()) {
      // The class moves through its concepts in order over the covered days.
      const current = Math.min(
        concepts.length - 1,
        Math.floor((d * concepts.length) / plan.days.length),
      );
      const period = lessonsOn(cls, day)[0]!;
      const start = Date.parse(`${day}T00:00:00Z`) + minutes(PERIODS[period]!) * 60_000;
      const lesson = `${cls.id}-${day}`;
      for (const s of roster) {
        const rand = rngFor(plan.seed, 'events', cls.id, s.id, day);
        if (rand() < 0.05) continue; // absent
        const asked = rand() < 0.5 ? [current, current] : [current];
        if (current > 0 && rand() < 0.4) asked.push(Math.floor(rand() * current));
        let t = start + (25 + Math.floor(rand() * 10)) * 60_000;
        for (const [k, c] of asked.entries()) {
          const concept = concepts[c]!;
          const key = `${s.id}\u0000${concept}`;
          let isKnown = known.get(key) ?? rand() < 0.02 + 0.25 * s.ability;
          const slip = 0.05 + 0.15 * (1 - s.ability);
          const guess = clamp(0.1 + 0.15 * s.ability, 0.05, 0.3);
          const correct = rand() < (isKnown ? 1 - slip : guess);
          if (!isKnown && rand() < 0.02 + 0.2 * s.ability) isKnown = true;
          known.set(key, isKnown);
          t += (1 + Math.floor(rand() * 3)) * 60_000;
          yield {
            id: uuidFor('learntwin-demo-event', plan.seed, cls.id, s.id, day, k),
            event_type: 'quiz_attempt',
            user_id: s.id,
            class_id: cls.id,
            lesson_id: lesson,
            concept_id: concept,
            correct,
            duration_ms: 20_000 + Math.floor(rand() * 90_000),
            occurred_at: new Date(t).toISOString(),
          };
        }
        yield {
          id: uuidFor('learntwin-demo-event', plan.seed, cls.id, s.id, day, 'done'),
          event_type: 'lesson_completed',
          user_id: s.id,
          class_id: cls.id,
          lesson_id: lesson,
          occurred_at: new Date(start + 44 * 60_000).toISOString(),
        };
      }
    }
  }
}
