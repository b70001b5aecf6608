import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs bin/learntwin.js as a user would, with only the given configuration in the environment;
 * `input` is piped to its standard input (which is closed either way).
 */
export function cli(args: string[], env: Record<string, string> = {}, input = ''): Promise<Run> {
  const base = { ...process.env };
  for (const k of ['DATABASE_URL', 'HOST', 'PORT', 'API_KEY', 'LOG_LEVEL']) delete base[k];
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/learntwin.js', ...args],
      { cwd: ROOT, env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}
