/**
 * Mastery-model evaluation on ASSISTments 2009 (DKVMN train/test split).
 *
 *   npx tsx eval/mastery.ts        (npm run eval:mastery)
 *   ASSIST2009_DIR=/path/to/assist2009 npx tsx eval/mastery.ts
 *
 * Every test answer is predicted from the state just before it, per learner per skill, by
 *   ratio        correct / attempts of that learner on that skill so far (0.5 before the first)
 *   bkt-default  BKT with DEFAULT_BKT_PARAMS for every skill
 *   bkt-fitted   BKT with parameters fitted by EM on the train file per skill (defaults for
 *                skills not seen in train)
 * and scored with AUC, RMSE and log-loss. Prints a table and writes eval/results/mastery.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BktFit,
  type BktParams,
  DEFAULT_BKT_PARAMS,
  type FlatSequences,
  fitBkt,
  pCorrect,
  update,
} from '../src/models/bkt.ts';
import { auc, logLoss, rmse } from '../src/models/metrics.ts';
import {
  DATA_DIR,
  dataAvailable,
  type LearnerSequence,
  readAssist,
  TEST_FILE,
  TRAIN_FILE,
} from './assist2009.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = fileURLToPath(new URL('./results/mastery.json', import.meta.url));

/** Per skill, every learner's answers on it in order, in the flat form fitBkt takes. */
function bySkill(learners: LearnerSequence[]): Map<number, FlatSequences> {
  const answers = new Map<number, number[]>();
  const offsets = new Map<number, number[]>();
  for (const { skills, correct } of learners) {
    for (let i = 0; i < skills.length; i++) {
      const s = skills[i]!;
      let a = answers.get(s);
      if (!a) {
        a = [];
        answers.set(s, a);
        offsets.set(s, [0]);
      }
      a.push(correct[i]!);
    }
    // a learner's answers on a skill are one sequence: close it when the learner ends
    for (const s of new Set(skills)) offsets.get(s)!.push(answers.get(s)!.length);
  }
  const out = new Map<number, FlatSequences>();
  for (const [s, a] of answers) {
    out.set(s, { answers: Uint8Array.from(a), offsets: Uint32Array.from(offsets.get(s)!) });
  }
  return out;
}

interface Scores {
  auc: number;
  rmse: number;
  logLoss: number;
}

function score(labels: Float64Array, predictions: Float64Array): Scores {
  return {
    auc: auc(labels, predictions),
    rmse: rmse(labels, predictions),
    logLoss: logLoss(labels, predictions),
  };
}

function evaluate(test: LearnerSequence[], fitted: Map<number, BktParams>) {
  const n = test.reduce((sum, l) => sum + l.skills.length, 0);
  const labels = new Float64Array(n);
  const ratio = new Float64Array(n);
  const bktDefault = new Float64Array(n);
  const bktFitted = new Float64Array(n);
  let k = 0;
  for (const { skills, correct } of test) {
    // per-skill state of this learner: [attempts, correct, p_known default, p_known fitted]
    const state = new Map<number, [number, number, number, number]>();
    for (let i = 0; i < skills.length; i++) {
      const s = skills[i]!;
      const c = correct[i]!;
      const params = fitted.get(s) ?? DEFAULT_BKT_PARAMS;
      let st = state.get(s);
      if (!st) {
        st = [0, 0, DEFAULT_BKT_PARAMS.p_init, params.p_init];
        state.set(s, st);
      }
      labels[k] = c;
      ratio[k] = st[0] === 0 ? 0.5 : st[1] / st[0];
      bktDefault[k] = pCorrect(st[2], DEFAULT_BKT_PARAMS);
      bktFitted[k] = pCorrect(st[3], params);
      k++;
      st[0]++;
      st[1] += c;
      st[2] = update(st[2], c === 1, DEFAULT_BKT_PARAMS);
      st[3] = update(st[3], c === 1, params);
    }
  }
  return {
    answers: n,
    ratio: score(labels, ratio),
    'bkt-default': score(labels, bktDefault),
    'bkt-fitted': score(labels, bktFitted),
  };
}

function main(): number {
  if (!dataAvailable()) {
    console.error(
      `ASSISTments 2009 data not found: expected ${TRAIN_FILE} and ${TEST_FILE} in ${DATA_DIR}\n` +
        'Put the DKVMN assist2009_updated files there or point ASSIST2009_DIR at them.',
    );
    return 2;
  }
  const train = readAssist(TRAIN_FILE);
  const test = readAssist(TEST_FILE);
  const skills = bySkill(train);

  const fits = new Map<number, BktFit>();
  const t0 = performance.now();
  for (const [s, data] of [...skills].sort((a, b) => a[0] - b[0])) fits.set(s, fitBkt(data));
  const fitMs = performance.now() - t0;
  const fitted = new Map([...fits].map(([s, f]) => [s, f.params]));

  const result = evaluate(test, fitted);
  const trainAnswers = train.reduce((sum, l) => sum + l.skills.length, 0);
  const testSkills = new Set(test.flatMap((l) => [...l.skills]));
  const unseen = [...testSkills].filter((s) => !fits.has(s)).length;

  const rows = (['ratio', 'bkt-default', 'bkt-fitted'] as const).map((m) => {
    const r = result[m];
    return `${m.padEnd(12)} ${r.auc.toFixed(4).padStart(7)} ${r.rmse.toFixed(4).padStart(7)} ${r.logLoss.toFixed(4).padStart(8)}`;
  });
  console.log(
    `ASSISTments 2009: train ${train.length} learners / ${trainAnswers} answers / ${skills.size} skills; ` +
      `test ${test.length} learners / ${result.answers} answers (${unseen} skills unseen in train)`,
  );
  console.log(
    `${'model'.padEnd(12)} ${'AUC'.padStart(7)} ${'RMSE'.padStart(7)} ${'logloss'.padStart(8)}`,
  );
  for (const r of rows) console.log(r);
  console.log(
    `EM fit of ${fits.size} skills: ${fitMs.toFixed(0)} ms (${os.cpus()[0]?.model ?? '?'})`,
  );

  const round = (x: number, d = 6) => Math.round(x * 10 ** d) / 10 ** d;
  const json = {
    data: { dir: relative(ROOT, DATA_DIR), train: TRAIN_FILE, test: TEST_FILE },
    train: { learners: train.length, answers: trainAnswers, skills: skills.size },
    test: { learners: test.length, answers: result.answers, skillsUnseenInTrain: unseen },
    metrics: {
      ratio: result.ratio,
      'bkt-default': result['bkt-default'],
      'bkt-fitted': result['bkt-fitted'],
    },
    fit: {
      skills: fits.size,
      ms: round(fitMs, 1),
      node: process.version,
      cpu: os.cpus()[0]?.model,
    },
    defaults: DEFAULT_BKT_PARAMS,
    params: Object.fromEntries(
      [...fits].map(([s, f]) => [
        s,
        {
          p_init: round(f.params.p_init),
          p_learn: round(f.params.p_learn),
          p_slip: round(f.params.p_slip),
          p_guess: round(f.params.p_guess),
          sequences: f.sequences,
          attempts: f.attempts,
          logLikelihood: round(f.logLikelihood, 3),
          iterations: f.iterations,
        },
      ]),
    ),
  };
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify(json, null, 2) + '\n');
  console.log(`wrote ${RESULTS_FILE}`);
  return 0;
}

process.exitCode = main();
