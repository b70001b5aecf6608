/**
 * Teaching recommendations from a class's averaged in-class signals.
 * Pure functions: the thresholds come in, recommendations go out.
 */

export interface ClassAverages {
  stuck: number;
  got_it: number;
  pause: number;
  example: number;
  confidence: number;
}

export interface RuleThresholds {
  /** stuck rate above this → recap_session */
  stuckRateHigh: number;
  /** average confidence below this → recap_session */
  confidenceLow: number;
  /** example rate below this → guided_examples */
  exampleRateLow: number;
  /** pause rate above this → micro_breaks */
  pauseRateHigh: number;
  /** got_it rate at or above this, with confidence at or above confidenceHigh → enrichment */
  gotItRateHigh: number;
  confidenceHigh: number;
  /** severity (0–1, share of the way from threshold to the scale's end) for `high` */
  priorityHigh: number;
  /** severity for `medium`; below it a triggered rule is `low` */
  priorityMedium: number;
}

export const DEFAULT_RULE_THRESHOLDS: Readonly<RuleThresholds> = Object.freeze({
  stuckRateHigh: 0.3,
  confidenceLow: 5,
  exampleRateLow: 0.3,
  pauseRateHigh: 0.3,
  gotItRateHigh: 0.7,
  confidenceHigh: 7,
  priorityHigh: 0.5,
  priorityMedium: 0.2,
});

export type Priority = 'high' | 'medium' | 'low';
type Metric = keyof ClassAverages;
type Comparison = '>' | '<' | '>=';

export interface Evidence {
  metric: Metric;
  value: number;
  comparison: Comparison;
  threshold: number;
  triggered: boolean;
}

export interface Recommendation {
  code: 'recap_session' | 'guided_examples' | 'micro_breaks' | 'enrichment';
  title: string;
  action: string;
  rationale: string;
  priority: Priority;
  evidence: Evidence[];
}

const SCALE: Record<Metric, [number, number]> = {
  stuck: [0, 1],
  got_it: [0, 1],
  pause: [0, 1],
  example: [0, 1],
  confidence: [1, 10],
};

interface Check {
  evidence: Evidence;
  /** how far past the threshold, as a share of the room between threshold and scale end */
  severity: number;
}

function check(
  avg: ClassAverages,
  metric: Metric,
  comparison: Comparison,
  threshold: number,
): Check {
  const value = avg[metric];
  const [lo, hi] = SCALE[metric];
  const triggered =
    comparison === '>'
      ? value > threshold
      : comparison === '<'
        ? value < threshold
        : value >= threshold;
  const room = comparison === '<' ? threshold - lo : hi - threshold;
  const distance = comparison === '<' ? threshold - value : value - threshold;
  const severity = !triggered ? 0 : room <= 0 ? 1 : Math.min(1, Math.max(0, distance / room));
  return { evidence: { metric, value, comparison, threshold, triggered }, severity };
}

export function priorityOf(severity: number, t: RuleThresholds): Priority {
  if (severity >= t.priorityHigh) return 'high';
  if (severity >= t.priorityMedium) return 'medium';
  return 'low';
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const conf = (x: number) => (Math.round(x * 10) / 10).toFixed(1);
const LABEL: Record<Metric, string> = {
  stuck: 'stuck rate',
  got_it: 'got-it rate',
  pause: 'pause rate',
  example: 'example rate',
  confidence: 'average confidence',
};

function describe(e: Evidence): string {
  const fmt = e.metric === 'confidence' ? conf : pct;
  const op = e.comparison === '>=' ? '≥' : e.comparison;
  return `${LABEL[e.metric]} ${fmt(e.value)} ${op} ${fmt(e.threshold)}`;
}

const PRIORITY_ORDER: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

/**
 * Evaluates the default rule set. Rules that fire come back sorted by priority, then by
 * severity, so the most urgent action is first.
 */
export function recommend(
  avg: ClassAverages,
  t: RuleThresholds = DEFAULT_RULE_THRESHOLDS,
): Recommendation[] {
  const out: { rec: Recommendation; severity: number }[] = [];

  const stuck = check(avg, 'stuck', '>', t.stuckRateHigh);
  const lowConf = check(avg, 'confidence', '<', t.confidenceLow);
  if (stuck.evidence.triggered || lowConf.evidence.triggered) {
    const fired = [stuck, lowConf].filter((c) => c.evidence.triggered);
    const severity = Math.max(...fired.map((c) => c.severity));
    out.push({
      severity,
      rec: {
        code: 'recap_session',
        title: 'Run a recap session',
        action:
          'Revisit the last concept with a short recap and a worked example before moving on; check understanding with a quick poll.',
        rationale: `The class is struggling: ${fired.map((c) => describe(c.evidence)).join(' and ')}.`,
        priority: priorityOf(severity, t),
        evidence: [stuck.evidence, lowConf.evidence],
      },
    });
  }

  const examples = check(avg, 'example', '<', t.exampleRateLow);
  if (examples.evidence.triggered) {
    out.push({
      severity: examples.severity,
      rec: {
        code: 'guided_examples',
        title: 'Add guided examples',
        action:
          'Walk through more worked examples step by step, then let students try a similar one.',
        rationale: `Few students are seeing examples: ${describe(examples.evidence)}.`,
        priority: priorityOf(examples.severity, t),
        evidence: [examples.evidence],
      },
    });
  }

  const pause = check(avg, 'pause', '>', t.pauseRateHigh);
  if (pause.evidence.triggered) {
    out.push({
      severity: pause.severity,
      rec: {
        code: 'micro_breaks',
        title: 'Plan micro-breaks',
        action:
          'Break the lesson into shorter segments with a 2–3 minute pause or activity change between them.',
        rationale: `Students are pausing often: ${describe(pause.evidence)}.`,
        priority: priorityOf(pause.severity, t),
        evidence: [pause.evidence],
      },
    });
  }

  const gotIt = check(avg, 'got_it', '>=', t.gotItRateHigh);
  const highConf = check(avg, 'confidence', '>=', t.confidenceHigh);
  if (gotIt.evidence.triggered && highConf.evidence.triggered) {
    const severity = Math.min(gotIt.severity, highConf.severity);
    out.push({
      severity,
      rec: {
        code: 'enrichment',
        title: 'Offer enrichment tasks',
        action:
          'Give the class stretch problems or an extension activity; let confident students explain to peers.',
        rationale: `The class is ready for more: ${describe(gotIt.evidence)} and ${describe(highConf.evidence)}.`,
        priority: priorityOf(severity, t),
        evidence: [gotIt.evidence, highConf.evidence],
      },
    });
  }

  out.sort(
    (a, b) =>
      PRIORITY_ORDER[a.rec.priority] - PRIORITY_ORDER[b.rec.priority] || b.severity - a.severity,
  );
  return out.map((o) => o.rec);
}
