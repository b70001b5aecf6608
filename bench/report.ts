/**
 * Results: one line per measurement, checked against its target, printed as a table and
 * written as JSON (bench/results/<timestamp>.json and bench/results/latest.json).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface Target {
  op: '>=' | '<=' | '==';
  value: number;
}

export interface Measurement {
  name: string;
  value: number | null;
  unit: string;
  target?: Target;
  /** pass/fail against the target; "info" when there is none or no value. */
  status: 'pass' | 'fail' | 'info';
  note?: string;
}

export class Report {
  readonly measurements: Measurement[] = [];

  add(name: string, value: number | null, unit: string, target?: Target, note?: string): void {
    let status: Measurement['status'] = 'info';
    if (target && value !== null && Number.isFinite(value)) {
      const ok =
        target.op === '>='
          ? value >= target.value
          : target.op === '<='
            ? value <= target.value
            : value === target.value;
      status = ok ? 'pass' : 'fail';
    }
    this.measurements.push({
      name,
      value,
      unit,
      ...(target ? { target } : {}),
      status,
      ...(note ? { note } : {}),
    });
  }

  get failures(): Measurement[] {
    return this.measurements.filter((m) => m.status === 'fail');
  }
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  const abs = Math.abs(v);
  const digits = abs >= 1000 || Number.isInteger(v) ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function formatTable(measurements: Measurement[]): string {
  const rows = [
    ['measurement', 'value', 'unit', 'target', 'result'],
    ...measurements.map((m) => [
      m.name,
      fmt(m.value),
      m.unit,
      m.target ? `${m.target.op} ${fmt(m.target.value)}` : '-',
      m.status === 'info' ? '' : m.status.toUpperCase(),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const right = new Set([1]);
  const line = (r: string[]) =>
    r
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

export function machineInfo(dialect: string, loadAverageAtStart: number) {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model ?? 'unknown',
    cpu_count: cpus.length,
    total_memory_mb: Math.round(os.totalmem() / 1024 / 1024),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node_version: process.version,
    dialect,
    /** 1-minute load average when the run started: other work on the machine skews figures. */
    load_average_at_start: Math.round(loadAverageAtStart * 100) / 100,
  };
}

/** The commit measured and whether the working tree differed from it. */
export function sourceInfo(root: string): { commit: string | null; changed_files: number | null } {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', 'HEAD').trim();
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return { commit, changed_files: changed };
  } catch {
    return { commit: null, changed_files: null };
  }
}

/** Writes the results and returns the path of the timestamped file. */
export function writeResults(dir: string, startedAt: Date, data: unknown): string {
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = `${JSON.stringify(data, null, 2)}\n`;
  const file = join(dir, `${stamp}.json`);
  writeFileSync(file, json);
  writeFileSync(join(dir, 'latest.json'), json);
  return file;
}
