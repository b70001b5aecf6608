/**
 * Reader for the ASSISTments 2009 "updated" files in the DKVMN layout (see the README next to
 * the data): three lines per learner — N, then N 1-based skill ids, then N 0/1 answers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ASSIST2009_DIR overrides the default ../shared/data/assist2009/ (relative to the project). */
export const DATA_DIR = process.env.ASSIST2009_DIR
  ? join(process.env.ASSIST2009_DIR, '/')
  : fileURLToPath(new URL('../../shared/data/assist2009/', import.meta.url));
export const TRAIN_FILE = 'assist2009_updated_train.csv';
export const TEST_FILE = 'assist2009_updated_test.csv';

/** One learner's answers in order: skills[i] was answered correct[i] (1) or not (0). */
export interface LearnerSequence {
  skills: Uint16Array;
  correct: Uint8Array;
}

export function dataAvailable(dir = DATA_DIR): boolean {
  return existsSync(join(dir, TRAIN_FILE)) && existsSync(join(dir, TEST_FILE));
}

function numbers(line: string, where: string): number[] {
  // some lines end with a stray comma, so empty fields are dropped
  return line
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '')
    .map((f) => {
      const n = Number(f);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: bad field "${f}"`);
      return n;
    });
}

export function parseAssist(text: string, name = 'input'): LearnerSequence[] {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length % 3 !== 0)
    throw new Error(`${name}: ${lines.length} lines, not a multiple of 3`);
  const out: LearnerSequence[] = [];
  for (let i = 0; i < lines.length; i += 3) {
    const where = `${name}:${i + 1}`;
    const n = Number(lines[i]!.replace(/,\s*$/, '').trim());
    const skills = numbers(lines[i + 1]!, where);
    const correct = numbers(lines[i + 2]!, where);
    if (!Number.isInteger(n) || skills.length !== n || correct.length !== n) {
      throw new Error(
        `${where}: N=${lines[i]} but ${skills.length} skills, ${correct.length} answers`,
      );
    }
    if (correct.some((c) => c > 1)) throw new Error(`${where}: answers must be 0 or 1`);
    if (skills.some((s) => s < 1)) throw new Error(`${where}: skill ids are 1-based`);
    out.push({ skills: Uint16Array.from(skills), correct: Uint8Array.from(correct) });
  }
  return out;
}

export function readAssist(file: string, dir = DATA_DIR): LearnerSequence[] {
  return parseAssist(readFileSync(join(dir, file), 'utf8'), file);
}
