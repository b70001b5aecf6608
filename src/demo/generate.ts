/**
 * A deterministic synthetic data set for trying Learntwin: a few classes, their students and
 * the in-class signals of a few school weeks. Pure apart from "today" (pass `until` to pin it):
 * every random draw comes from a PRNG keyed by (seed, class, student, day, lesson), so a day's
 * records are the same whatever the other options, and so are their event ids.
 */
import { classAt, type DemoClass, LESSON_MINUTES, PERIODS } from './profiles.ts';
import { clamp, gaussian, hash32, rngFor, uuidFor } from './random.ts';

export interface DemoOptions {
  classes: number;
  students: number;
  /** School days (weekdays) to cover, ending with `until`. */
  days: number;
  seed: number;
  /** Last calendar day to consider (YYYY-MM-DD, UTC); by default the day before today. */
  until?: string;
}

export const DEMO_DEFAULTS = { classes: 4, students: 30, days: 21, seed: 42 } as const;

export interface DemoRecord {
  class_id: string;
  student_id: string;
  stuck: 0 | 1;
  got_it: 0 | 1;
  pause: 0 | 1;
  example: 0 | 1;
  confidence: number;
  ts: string;
  event_id: string;
}

export interface DemoPlan {
  seed: number;
  classes: (DemoClass & { students: string[] })[];
  /** The school days covered, ascending (YYYY-MM-DD). */
  days: string[];
}

const DAY_MS = 86_400_000;

/** The last `n` weekdays on or before `until`, ascending. */
export function schoolDays(until: string, n: number): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${until}T00:00:00Z`); out.length < n; t -= DAY_MS) {
    const wd = new Date(t).getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out.reverse();
}

export function planDemo(opts: DemoOptions): DemoPlan {
  const until = opts.until ?? new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
  const width = Math.max(2, String(opts.students).length);
  const classes = Array.from({ length: opts.classes }, (_, c) => {
    const cls = classAt(c);
    const students = Array.from(
      { length: opts.students },
      (_, s) => `${cls.id}-s${String(s + 1).padStart(width, '0')}`,
    );
    return { ...cls, students };
  });
  return { seed: opts.seed, classes, days: schoolDays(until, opts.days) };
}

export interface Student {
  id: string;
  ability: number;
  /** Personal lean towards looking at examples and towards pausing. */
  exampleBias: number;
  pauseBias: number;
}

/**
 * Latent traits. Roles go by a seeded ranking rather than a coin flip so that every class,
 * however small, has its struggling students (and larger ones their excellent ones).
 */
export function demoStudents(seed: number, cls: DemoPlan['classes'][number]): Student[] {
  const p = cls.profile;
  const n = cls.students.length;
  const nStruggling = Math.max(n >= 3 ? 1 : 0, Math.round(n * p.struggling));
  const nExcellent = Math.round(n * p.excellent);
  const ranked = [...cls.students].sort(
    (a, b) => hash32(seed, 'role', a) - hash32(seed, 'role', b) || (a < b ? -1 : 1),
  );
  const role = new Map(
    ranked.map((id, i) => [
      id,
      i < nStruggling ? 'struggling' : i < nStruggling + nExcellent ? 'excellent' : 'typical',
    ]),
  );
  return cls.students.map((id) => {
    const rand = rngFor(seed, 'student', cls.id, id);
    const r = role.get(id);
    const ability =
      r === 'struggling'
        ? 0.12 + 0.15 * rand()
        : r === 'excellent'
          ? 0.88 + 0.1 * rand()
          : clamp(p.abilityMean + 0.08 * gaussian(rand), 0.4, 0.92);
    return {
      id,
      ability,
      exampleBias: 0.06 * gaussian(rand),
      pauseBias: 0.04 * gaussian(rand),
    };
  });
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const bit = (b: boolean): 0 | 1 => (b ? 1 : 0);

/** The periods a class has on a day: the daily lesson, plus the extra one on its weekdays. */
export function lessonsOn(cls: DemoClass, day: string): number[] {
  const wd = new Date(`${day}T00:00:00Z`).getUTCDay();
  const [extra, weekdays] = cls.extra;
  return weekdays.includes(wd) ? [cls.daily, extra].sort((a, b) => a - b) : [cls.daily];
}

function* lessonRecords(
  seed: number,
  cls: DemoClass,
  s: Student,
  day: string,
  period: number,
  difficulty: number,
): Generator<DemoRecord> {
  const rand = rngFor(seed, 'lesson', cls.id, s.id, day, period);
  if (rand() < 0.04) return; // absent
  const start = Date.parse(`${day}T00:00:00Z`) + toMinutes(PERIODS[period]!) * 60_000;
  const friday = new Date(start).getUTCDay() === 5;
  // Energy dips over the school day and towards the end of the week.
  const dayFatigue = period / (PERIODS.length - 1) + (friday ? 0.3 : 0);
  const count = 3 + Math.floor(rand() * 3);
  const offsets = Array.from(
    { length: count },
    () => 60 + Math.floor(rand() * (LESSON_MINUTES - 2) * 60),
  );
  offsets.sort((a, b) => a - b);
  const p = cls.profile;
  for (let k = 0; k < count; k++) {
    const progress = offsets[k]! / (LESSON_MINUTES * 60);
    const fatigue = dayFatigue + Math.max(0, progress - 0.6);
    const a = clamp(s.ability - difficulty, 0.02, 0.98);
    const stuck =
      rand() < clamp(0.03 + 0.8 * (1 - a) ** 2 * (1.25 - 0.5 * progress) + 0.04 * fatigue, 0, 0.95);
    const gotIt =
      !stuck &&
      rand() < clamp(0.05 + 0.92 * a + 0.2 * (progress - 0.5) - 0.04 * fatigue, 0.02, 0.98);
    const example = rand() < clamp(p.exampleRate + s.exampleBias + (stuck ? 0.1 : 0), 0.01, 0.95);
    const pause = rand() < clamp(p.pauseRate + s.pauseBias + 0.1 * fatigue, 0.01, 0.95);
    // Confidence grows as the lesson goes on and follows whether the student just got it.
    const raw =
      1 +
      9 * (0.06 + 0.82 * a + 0.16 * (progress - 0.5) - 0.03 * fatigue) +
      (stuck ? -1.2 : 0) +
      (gotIt ? 0.5 : 0) +
      0.6 * gaussian(rand);
    yield {
      class_id: cls.id,
      student_id: s.id,
      stuck: bit(stuck),
      got_it: bit(gotIt),
      pause: bit(pause),
      example: bit(example),
      confidence: clamp(Math.round(raw), 1, 10),
      ts: new Date(start + offsets[k]! * 1000).toISOString(),
      event_id: uuidFor('learntwin-demo', seed, cls.id, s.id, day, period, k),
    };
  }
}

/** Every record of the plan, class by class and day by day (lazily: large plans stay cheap). */
export function* demoRecords(plan: DemoPlan): Generator<DemoRecord> {
  for (const cls of plan.classes) {
    const roster = demoStudents(plan.seed, cls);
    for (const day of plan.days) {
      // Some topics are harder than others, for the whole class at once.
      const difficulty = 0.05 * gaussian(rngFor(plan.seed, 'day', cls.id, day));
      for (const period of lessonsOn(cls, day)) {
        const lesson: DemoRecord[] = [];
        for (const s of roster)
          lesson.push(...lessonRecords(plan.seed, cls, s, day, period, difficulty));
        lesson.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
        yield* lesson;
      }
    }
  }
}

/** The plan and all of its records at once. */
export function generateDemo(opts: DemoOptions): { plan: DemoPlan; records: DemoRecord[] } {
  const plan = planDemo(opts);
  return { plan, records: [...demoRecords(plan)] };
}
