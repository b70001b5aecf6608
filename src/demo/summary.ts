import type { Config } from '../config.ts';
import type { DemoAccount } from './accounts.ts';
import type { LoadDemoResult } from './load.ts';

const n = (x: number) => x.toLocaleString('en-US');

/** Base URL a browser or curl on this machine can use, even when the server binds every interface. */
export function localBaseUrl(config: Pick<Config, 'host' | 'port'>): string {
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

export interface SummaryInput {
  result: LoadDemoResult;
  /** Where the data went, without credentials, and on which dialect. */
  location: string;
  dialect: string;
  seconds: number;
  /** Top recommendation per class, as the API answers now ("none" when no rule fires). */
  top: Map<string, string>;
  config: Pick<Config, 'host' | 'port' | 'apiKey'>;
  accounts?: DemoAccount[];
}

/** The text `learntwin demo` prints: what was loaded, and where to look at it. */
export function demoSummary(s: SummaryInput): string {
  const r = s.result;
  const perClass = r.classes[0]?.students ?? 0;
  const lines = [
    `Learntwin demo data loaded into ${s.location} (${s.dialect}) in ${s.seconds.toFixed(1)} s`,
    `  classes      ${r.classes.length} (${perClass} students each, ${n(r.students)} in all)`,
    `  school days  ${r.days.length}: ${r.days[0] ?? '-'} to ${r.days.at(-1) ?? '-'} (weekdays; times in UTC)`,
    `  records      ${n(r.records)}: ${n(r.inserted)} inserted, ${n(r.duplicates)} duplicates` +
      (r.rejected ? `, ${n(r.rejected)} rejected` : ''),
  ];
  lines.push(
    `  events       ${n(r.events.total)} quiz attempts and lessons: ${n(r.events.inserted)} inserted, ${n(r.events.duplicates)} duplicates`,
  );
  if (r.records > 0 && r.inserted === 0) {
    lines.push('  (every record was already stored by an earlier run with this seed)');
  }
  const w = Math.max(5, ...r.classes.map((c) => c.id.length));
  lines.push(
    '',
    `  ${'class'.padEnd(w)}  students  records  top recommendation`,
    ...r.classes.map(
      (c) =>
        `  ${c.id.padEnd(w)}  ${String(c.students).padStart(8)}  ${n(c.records).padStart(7)}  ${s.top.get(c.id) ?? 'none'}`,
    ),
  );
  const first = r.classes[0];
  if (first) {
    const base = localBaseUrl(s.config);
    const cls = `${base}/api/v1/classes/${encodeURIComponent(first.id)}`;
    lines.push(
      '',
      'Look at it (with the server running: npm start, or npx learntwin serve):',
      `  GET ${base}/api/v1/classes`,
      `  GET ${cls}/mastery?by=student`,
      `  GET ${cls}/recommendations`,
      `  GET ${cls}/export?format=csv`,
      `  GET ${cls}/concepts/mastery`,
      `  Dashboard: ${base}/   ·   API docs: ${base}/docs`,
    );
    if (s.config.apiKey !== undefined)
      lines.push('  (API_KEY is set: send it as the X-API-Key header)');
  }
  if (s.accounts?.length) {
    lines.push('', 'Demo accounts (sign in with POST /api/v1/auth/login):');
    for (const a of s.accounts) {
      const what =
        a.role === 'admin'
          ? 'administrator'
          : a.role === 'instructor'
            ? `instructor of ${a.class_id}`
            : `learner ${a.learner_id} in ${a.class_id}`;
      const pw = a.password ?? '(exists already; its password was shown when it was made)';
      lines.push(`  ${a.email.padEnd(26)} ${pw.padEnd(18)} ${what}`);
    }
    if (s.accounts.some((a) => a.password)) {
      lines.push(
        '  These passwords are shown this once; change them with POST /api/v1/auth/password.',
      );
    }
  }
  return lines.join('\n');
}
