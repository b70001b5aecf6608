/**
 * The demo classes. Each is tuned so that the class-level rules (src/models/class-rules.ts, with
 * the default thresholds) put a different recommendation first, which is what a teacher trying
 * the API wants to see: the same data model telling four classes apart.
 */

export type Focus =
  'enrichment' | 'recap_session' | 'guided_examples' | 'micro_breaks' | 'balanced';

export interface ClassProfile {
  /** The recommendation the class is designed to get first; `balanced` expects none. */
  focus: Focus;
  /** Mean latent ability (0–1) of the students who are neither struggling nor excellent. */
  abilityMean: number;
  /** Shares of clearly struggling and of excellent students. */
  struggling: number;
  excellent: number;
  /** Base chance that a signal comes with an example viewed, and with a pause. */
  exampleRate: number;
  pauseRate: number;
}

export const PROFILES: Record<Focus, ClassProfile> = {
  enrichment: {
    focus: 'enrichment',
    abilityMean: 0.88,
    struggling: 0.05,
    excellent: 0.3,
    exampleRate: 0.4,
    pauseRate: 0.06,
  },
  recap_session: {
    focus: 'recap_session',
    abilityMean: 0.4,
    struggling: 0.3,
    excellent: 0.03,
    exampleRate: 0.5,
    pauseRate: 0.1,
  },
  guided_examples: {
    focus: 'guided_examples',
    abilityMean: 0.62,
    struggling: 0.1,
    excellent: 0.1,
    exampleRate: 0.08,
    pauseRate: 0.08,
  },
  micro_breaks: {
    focus: 'micro_breaks',
    abilityMean: 0.62,
    struggling: 0.1,
    excellent: 0.1,
    exampleRate: 0.45,
    pauseRate: 0.42,
  },
  balanced: {
    focus: 'balanced',
    abilityMean: 0.62,
    struggling: 0.1,
    excellent: 0.1,
    exampleRate: 0.4,
    pauseRate: 0.1,
  },
};

/** The first classes, in order; past the list, names and profiles are derived (see classAt). */
const NAMED: [string, Focus][] = [
  ['math-7a', 'enrichment'],
  ['physics-8b', 'recap_session'],
  ['biology-9c', 'guided_examples'],
  ['history-7b', 'micro_breaks'],
  ['chemistry-8a', 'balanced'],
  ['english-9b', 'enrichment'],
  ['geography-7c', 'recap_session'],
  ['music-8c', 'micro_breaks'],
  ['french-9a', 'guided_examples'],
  ['computing-8a', 'balanced'],
];

const CYCLE: Focus[] = [
  'enrichment',
  'recap_session',
  'guided_examples',
  'micro_breaks',
  'balanced',
];

/** 45-minute periods of the school day, UTC. */
export const PERIODS = ['08:15', '09:10', '10:20', '11:15', '12:30', '13:25', '14:20'] as const;
export const LESSON_MINUTES = 45;

export interface DemoClass {
  id: string;
  profile: ClassProfile;
  /** Period index of the daily lesson. */
  daily: number;
  /** A second lesson on two weekdays (1 = Monday): [period index, weekdays]. */
  extra: [number, [number, number]];
}

export function classAt(index: number): DemoClass {
  const named = NAMED[index];
  const id = named ? named[0] : `class-${String(index + 1).padStart(2, '0')}`;
  const focus = named ? named[1] : CYCLE[index % CYCLE.length]!;
  // Spread the classes over the day; micro_breaks classes get the late periods, where energy dips.
  const daily = focus === 'micro_breaks' ? 4 + (index % 2) : index % 4;
  const extra = (daily + 2 + (index % 3)) % PERIODS.length;
  const weekdays: [number, number] = index % 2 === 0 ? [2, 4] : [1, 3 + (index % 3)];
  return { id, profile: PROFILES[focus], daily, extra: [extra, weekdays] };
}
