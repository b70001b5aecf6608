/**
 * Bayesian Knowledge Tracing (Corbett & Anderson 1995): a two-state hidden Markov model per
 * (learner, concept). The concept is either known or not; a known concept can still be answered
 * wrong (slip), an unknown one right (guess); after every attempt an unknown concept becomes
 * known with probability p_learn. No forgetting. Pure functions, no I/O.
 */

export interface BktParams {
  /** P(known) before the first attempt */
  p_init: number;
  /** P(unknown → known) at each attempt */
  p_learn: number;
  /** P(wrong | known) */
  p_slip: number;
  /** P(right | unknown) */
  p_guess: number;
}

/**
 * Defaults for a concept with no fitted parameters: the usual starting values in the BKT
 * literature (e.g. the BKT-BF / pyBKT examples). p_init 0.3 = most learners arrive not yet
 * knowing the concept; p_learn 0.1 = mastery takes roughly ten practice attempts; slip 0.1 and
 * guess 0.2 = answers are informative but noisy (a multiple-choice-ish guess rate), and both
 * stay well below 0.5 so a correct answer always raises p_known.
 */
export const DEFAULT_BKT_PARAMS: Readonly<BktParams> = Object.freeze({
  p_init: 0.3,
  p_learn: 0.1,
  p_slip: 0.1,
  p_guess: 0.2,
});

/** p_known at or above this counts as mastered (the conventional BKT mastery criterion). */
export const MASTERED_THRESHOLD = 0.95;

/** Probability that the next answer is correct given the current p_known. */
export function pCorrect(pKnown: number, params: BktParams): number {
  return pKnown * (1 - params.p_slip) + (1 - pKnown) * params.p_guess;
}

/**
 * p_known after one attempt: the posterior given the answer, then the learning transition.
 * A fractional score in [0, 1] is a soft observation: the posterior is the score-weighted mix
 * of the posteriors for a correct and an incorrect answer. That keeps score 1 ≡ correct and
 * score 0 ≡ incorrect, is monotone in the score, and treats e.g. 0.5 as "half the evidence of
 * each", which is what partial credit means here (the answer was neither right nor wrong).
 */
export function update(pKnown: number, correct: boolean | number, params: BktParams): number {
  const score = typeof correct === 'boolean' ? (correct ? 1 : 0) : correct;
  if (!(score >= 0 && score <= 1)) throw new RangeError(`score must be in [0, 1], got ${score}`);
  const { p_slip: slip, p_guess: guess, p_learn: learn } = params;
  let posterior = 0;
  if (score > 0) {
    const known = pKnown * (1 - slip);
    posterior += (score * known) / (known + (1 - pKnown) * guess);
  }
  if (score < 1) {
    const known = pKnown * slip;
    posterior += ((1 - score) * known) / (known + (1 - pKnown) * (1 - guess));
  }
  return posterior + (1 - posterior) * learn;
}

/** p_known after each answer of a sequence, starting from p_init. */
export function trace(answers: ArrayLike<boolean | number>, params: BktParams): number[] {
  const out = new Array<number>(answers.length);
  let p = params.p_init;
  for (let i = 0; i < answers.length; i++) {
    p = update(p, answers[i]!, params);
    out[i] = p;
  }
  return out;
}

/**
 * Many sequences in one buffer: sequence i is answers[offsets[i] .. offsets[i+1]), so
 * offsets.length = number of sequences + 1. This is the form the fitter works on.
 */
export interface FlatSequences {
  answers: Uint8Array;
  offsets: Uint32Array;
}

export interface FitOptions {
  /** stop when the log-likelihood improves by less than this per attempt (default 1e-7) */
  tolerance?: number;
  /** EM iterations per start (default 200) */
  maxIterations?: number;
  /** starting points; the fit with the best log-likelihood wins (default START_GRID) */
  starts?: readonly BktParams[];
  /** every parameter is kept in [minParam, 1 − minParam] (default 1e-4) */
  minParam?: number;
  /** slip and guess stay at or below this (default 0.5 − minParam) */
  maxSlipGuess?: number;
}

export interface BktFit {
  params: BktParams;
  sequences: number;
  attempts: number;
  /** natural-log likelihood of all answers under params */
  logLikelihood: number;
  /** EM iterations of the winning start */
  iterations: number;
  /** wall time of the whole fit, all starts */
  ms: number;
}

/**
 * Starting points of the EM. BKT's likelihood has several local optima (notably the
 * "p_init high, p_learn ~0" and "p_init low, p_learn high" explanations of the same data), so a
 * small fixed grid spanning both beats one start; fixed rather than random keeps fits
 * deterministic. A data-driven start (first-answer correctness) is added in fitBkt.
 */
export const START_GRID: readonly BktParams[] = Object.freeze([
  { p_init: 0.3, p_learn: 0.1, p_slip: 0.1, p_guess: 0.2 },
  { p_init: 0.7, p_learn: 0.05, p_slip: 0.1, p_guess: 0.3 },
  { p_init: 0.2, p_learn: 0.3, p_slip: 0.05, p_guess: 0.1 },
  { p_init: 0.5, p_learn: 0.15, p_slip: 0.2, p_guess: 0.35 },
]);

/** Packs an array of 0/1 sequences into the flat form; answers ≥ 0.5 count as correct. */
export function flatten(sequences: readonly ArrayLike<number | boolean>[]): FlatSequences {
  let total = 0;
  for (const s of sequences) total += s.length;
  const answers = new Uint8Array(total);
  const offsets = new Uint32Array(sequences.length + 1);
  let k = 0;
  for (let i = 0; i < sequences.length; i++) {
    const s = sequences[i]!;
    for (let j = 0; j < s.length; j++) answers[k++] = Number(s[j]) >= 0.5 ? 1 : 0;
    offsets[i + 1] = k;
  }
  return { answers, offsets };
}

const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);

/**
 * Fits the four parameters of one concept by Expectation-Maximisation (Baum-Welch) over every
 * learner's answer sequence on it. Several starts; the best log-likelihood wins. Empty input
 * returns the first start unchanged with logLikelihood 0.
 */
export function fitBkt(
  sequences: readonly ArrayLike<number | boolean>[] | FlatSequences,
  options: FitOptions = {},
): BktFit {
  const t0 = performance.now();
  const data = Array.isArray(sequences) ? flatten(sequences) : (sequences as FlatSequences);
  const { answers, offsets } = data;
  const nSeq = Math.max(0, offsets.length - 1);
  let attempts = 0;
  let maxLen = 0;
  let nonEmpty = 0;
  for (let i = 0; i < nSeq; i++) {
    const len = offsets[i + 1]! - offsets[i]!;
    attempts += len;
    if (len > 0) nonEmpty++;
    if (len > maxLen) maxLen = len;
  }
  const minParam = options.minParam ?? 1e-4;
  const maxSG = options.maxSlipGuess ?? 0.5 - minParam;
  const bounds = { lo: minParam, hi: 1 - minParam, sg: maxSG };
  const starts = [...(options.starts ?? START_GRID)];
  if (!options.starts && nonEmpty > 0) {
    // data-driven start: first answers are mostly generated by p_init (guessing aside)
    let firstRight = 0;
    for (let i = 0; i < nSeq; i++)
      if (offsets[i + 1]! > offsets[i]!) firstRight += answers[offsets[i]!]!;
    const p0 = firstRight / Math.max(1, nonEmpty);
    starts.push({
      p_init: clamp((p0 - 0.2) / 0.7, 0.05, 0.95),
      p_learn: 0.1,
      p_slip: 0.1,
      p_guess: 0.2,
    });
  }
  const first = starts[0] ?? DEFAULT_BKT_PARAMS;
  let best: Omit<BktFit, 'ms'> = {
    params: { ...first },
    sequences: nonEmpty,
    attempts,
    logLikelihood: attempts === 0 ? 0 : -Infinity,
    iterations: 0,
  };
  if (attempts > 0) {
    const alpha = new Float64Array(2 * maxLen);
    const tol = (options.tolerance ?? 1e-7) * attempts;
    const maxIter = options.maxIterations ?? 200;
    for (const start of starts) {
      const r = runEm(data, nonEmpty, start, alpha, tol, maxIter, bounds);
      if (r.logLikelihood > best.logLikelihood) best = { ...r, sequences: nonEmpty, attempts };
    }
  }
  return { ...best, ms: performance.now() - t0 };
}

interface Bounds {
  lo: number;
  hi: number;
  sg: number;
}

/** One EM run from one start; returns the final params and their log-likelihood. */
function runEm(
  { answers, offsets }: FlatSequences,
  nonEmpty: number,
  start: BktParams,
  alpha: Float64Array,
  tol: number,
  maxIter: number,
  b: Bounds,
): { params: BktParams; logLikelihood: number; iterations: number } {
  let pi = clamp(start.p_init, b.lo, b.hi);
  let learn = clamp(start.p_learn, b.lo, b.hi);
  let slip = clamp(start.p_slip, b.lo, b.sg);
  let guess = clamp(start.p_guess, b.lo, b.sg);
  let prevLl = -Infinity;
  let ll = -Infinity;
  let iter = 0;
  for (;;) {
    iter++;
    // emission probabilities indexed by the answer: e0 = P(o | unknown), e1 = P(o | known)
    const e0w = 1 - guess;
    const e0r = guess;
    const e1w = slip;
    const e1r = 1 - slip;
    const stay = 1 - learn;
    let sumInit = 0; // Σ P(known at first attempt)
    let learnNum = 0; // Σ P(unknown at t, known at t+1)
    let learnDen = 0; // Σ P(unknown at t), t < last
    let guessNum = 0; // Σ P(unknown at t) · [right]
    let unknownAll = 0; // Σ P(unknown at t)
    let slipNum = 0; // Σ P(known at t) · [wrong]
    let knownAll = 0; // Σ P(known at t)
    ll = 0;
    for (let s = 0; s + 1 < offsets.length; s++) {
      const from = offsets[s]!;
      const len = offsets[s + 1]! - from;
      if (len === 0) continue;
      // forward pass, scaled so each alpha pair sums to 1; log of the scales = log-likelihood
      let o = answers[from]!;
      let a0 = (1 - pi) * (o ? e0r : e0w);
      let a1 = pi * (o ? e1r : e1w);
      let c = a0 + a1;
      ll += Math.log(c);
      a0 /= c;
      a1 /= c;
      alpha[0] = a0;
      alpha[1] = a1;
      for (let t = 1; t < len; t++) {
        o = answers[from + t]!;
        const n0 = a0 * stay * (o ? e0r : e0w);
        const n1 = (a0 * learn + a1) * (o ? e1r : e1w);
        c = n0 + n1;
        ll += Math.log(c);
        a0 = n0 / c;
        a1 = n1 / c;
        alpha[2 * t] = a0;
        alpha[2 * t + 1] = a1;
      }
      // backward pass; beta is rescaled by its own sum (gamma is renormalised anyway)
      let b0 = 1;
      let b1 = 1;
      for (let t = len - 1; t >= 0; t--) {
        const x0 = alpha[2 * t]!;
        const x1 = alpha[2 * t + 1]!;
        const g0 = x0 * b0;
        const g1 = x1 * b1;
        const gs = g0 + g1;
        const p0 = g0 / gs;
        const p1 = g1 / gs;
        o = answers[from + t]!;
        unknownAll += p0;
        knownAll += p1;
        if (o) guessNum += p0;
        else slipNum += p1;
        if (t === 0) {
          sumInit += p1;
          break;
        }
        // transition into t from t−1: only unknown→known carries information about p_learn
        const e0 = o ? e0r : e0w;
        const e1 = o ? e1r : e1w;
        const y0 = alpha[2 * t - 2]!;
        const y1 = alpha[2 * t - 1]!;
        const m00 = y0 * stay * e0 * b0;
        const m01 = y0 * learn * e1 * b1;
        const m11 = y1 * e1 * b1;
        const ms = m00 + m01 + m11;
        learnNum += m01 / ms;
        learnDen += (m00 + m01) / ms;
        const nb0 = stay * e0 * b0 + learn * e1 * b1;
        const nb1 = e1 * b1;
        const bs = nb0 + nb1;
        b0 = nb0 / bs;
        b1 = nb1 / bs;
      }
    }
    // stop before the M-step so the returned params are exactly the ones ll was computed for
    if (iter >= maxIter || (iter > 1 && ll - prevLl < tol)) break;
    prevLl = ll;
    pi = clamp(sumInit / nonEmpty, b.lo, b.hi);
    if (learnDen > 0) learn = clamp(learnNum / learnDen, b.lo, b.hi);
    if (unknownAll > 0) guess = clamp(guessNum / unknownAll, b.lo, b.sg);
    if (knownAll > 0) slip = clamp(slipNum / knownAll, b.lo, b.sg);
  }
  return {
    params: { p_init: pi, p_learn: learn, p_slip: slip, p_guess: guess },
    logLikelihood: ll,
    iterations: iter,
  };
}
