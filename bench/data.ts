/**
 * Synthetic metrics records, built straight as JSON text: 100 classes, 30 students each,
 * timestamps spread uniformly over a span ending now (by default the last 90 days). Seeded, so
 * runs are comparable.
 */

import { mulberry32 } from '../src/demo/random.ts';

export const CLASSES = 100;
export const STUDENTS_PER_CLASS = 30;
export const DAYS = 90;
export const DAY_MS = 86_400_000;

export class RecordGen {
  private readonly random: () => number;
  private readonly oldestMs: number;

  /** Records get timestamps in [nowMs - spanMs, nowMs); by default the last 90 days. */
  constructor(
    seed: number,
    spanMs: number = DAYS * DAY_MS,
    private readonly nowMs: number = Date.now(),
  ) {
    this.random = mulberry32(seed);
    this.oldestMs = nowMs - spanMs;
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  private bit(p: number): 0 | 1 {
    return this.random() < p ? 1 : 0;
  }

  /** One record as JSON; the class is given or drawn from c0..c99. */
  record(classId: string = `c${this.int(CLASSES)}`): string {
    const ts = new Date(this.oldestMs + this.int(this.nowMs - this.oldestMs)).toISOString();
    return (
      `{"class_id":"${classId}","student_id":"s${this.int(STUDENTS_PER_CLASS)}",` +
      `"stuck":${this.bit(0.3)},"got_it":${this.bit(0.6)},"pause":${this.bit(0.2)},` +
      `"example":${this.bit(0.4)},"confidence":${1 + this.int(10)},"ts":"${ts}"}`
    );
  }

  /** A JSON array of n records; classes drawn at random unless one is given. */
  batch(n: number, classId?: string): string {
    const parts = new Array<string>(n);
    for (let i = 0; i < n; i++) parts[i] = this.record(classId);
    return `[${parts.join(',')}]`;
  }

  /** A ring of prebuilt request bodies of `perBody` records each. */
  bodies(count: number, perBody: number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      out.push(Buffer.from(perBody === 1 ? this.record() : this.batch(perBody)));
    }
    return out;
  }
}
