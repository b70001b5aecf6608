import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'learntwin-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('learntwin CLI', () => {
  it('--help lists the commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['serve', 'migrate', 'demo', 'recompute']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    }
    const demo = await cli(['demo', '--help']);
    for (const opt of ['--classes', '--students', '--days', '--seed']) {
      expect(demo.stdout).toContain(opt);
    }
  });

  it('demo loads a small set into a SQLite file, prints a summary, and stores nothing twice', async () => {
    const env = { DATABASE_URL: join(dir, 'demo.db'), PORT: '8123' };
    const args = ['demo', '--classes', '1', '--students', '5', '--days', '3'];
    const r = await cli(args, env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /records\s+([\d,]+): ([\d,]+) inserted, 0 duplicates/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(m![1]).toBe(m![2]);
    expect(r.stdout).toMatch(/classes\s+1 \(5 students each/);
    expect(r.stdout).toMatch(/school days\s+3: \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}/);
    expect(r.stdout).toContain('math-7a');
    expect(r.stdout).toContain('GET http://127.0.0.1:8123/api/v1/classes\n');
    expect(r.stdout).toContain('GET http://127.0.0.1:8123/api/v1/classes/math-7a/recommendations');

    const again = await cli(args, env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${m![1]}: 0 inserted, ${m![1]} duplicates`);

    const migrate = await cli(['migrate'], env);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('Already up to date');
    const recompute = await cli(['recompute'], env);
    expect(recompute.code).toBe(0);
    expect(recompute.stdout).toMatch(
      /Rebuilt the projections of 1 class from the record log .* in \d+ ms/,
    );
  });

  it('fit estimates each concept with enough attempts, or one named, and says why it cannot', async () => {
    const env = { DATABASE_URL: join(dir, 'fit.db') };
    const demo = await cli(['demo', '--classes', '1', '--students', '20', '--days', '10'], env);
    expect(demo.code, demo.stderr).toBe(0);

    const all = await cli(['fit'], env);
    expect(all.code, all.stderr).toBe(0);
    const param = (name: string) => `${name} (0\\.\\d{3})`;
    const fitted = new RegExp(
      `^([\\w-]+): ${['p_init', 'p_learn', 'p_slip', 'p_guess'].map(param).join('  ')}  ` +
        '\\((\\d+) attempts of (\\d+) learners\\)$',
      'gm',
    );
    const lines = [...all.stdout.matchAll(fitted)];
    expect(lines.length, all.stdout).toBeGreaterThan(0);
    for (const l of lines) {
      // The usual bounds: slip and guess below one half.
      expect(Number(l[4])).toBeLessThanOrEqual(0.5);
      expect(Number(l[5])).toBeLessThanOrEqual(0.5);
      expect(Number(l[6])).toBeGreaterThanOrEqual(30);
    }
    expect(all.stdout).toContain(
      `Fitted ${lines.length} concept${lines.length === 1 ? '' : 's'}; mastery replayed`,
    );
    // One concept alone: the same data give the same estimate (the starting points are fixed).
    const concept = lines[0]![1]!;
    const one = await cli(['fit', '--concept', concept], env);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`${concept}: p_init ${lines[0]![2]}`);
    expect(one.stdout).toContain('Fitted 1 concept;');

    for (const id of ['no-such-concept', '']) {
      const r = await cli(['fit', '--concept', id], env);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`learntwin: Concept "${id}" has no attempts`);
    }
  });

  it('migrate lists the migrations it applied to a new database', async () => {
    const r = await cli(['migrate'], { DATABASE_URL: join(dir, 'fresh.db') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Applied \d+ migrations?:\n {2}\d{4}_/);
  });

  it('reports a configuration error in one line and exits non-zero', async () => {
    const r = await cli(['migrate'], { PORT: 'abc', DATABASE_URL: join(dir, 'x.db') });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'learntwin: configuration error: PORT must be an integer from 0 to 65535, got "abc"',
    );
  });

  it('reports an unreachable database in one line and exits non-zero', async () => {
    const r = await cli(['demo'], { DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('cannot reach the database at postgres://127.0.0.1:1/none');
    expect(r.stderr).not.toContain('secret');
  });

  it('rejects a bad option value', async () => {
    const r = await cli(['demo', '--students', 'many']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("option '--students <n>' argument 'many' is invalid");
    const future = await cli(['demo', '--until', '2999-01-01']);
    expect(future.code).toBe(1);
    expect(future.stderr).toContain('must not be after today (UTC)');
  });
});
