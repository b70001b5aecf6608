import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import type { Writer } from '../../db/writer.ts';
import { notFound } from '../../http/errors.ts';
import { type Recommendation, type RuleThresholds, recommend } from '../../models/class-rules.ts';
import { windowOf, type WindowQuery } from '../../http/window.ts';
import { isMidnight, planWindow, type TimeWindow } from '../../models/time.ts';
import * as repo from './pulse.repository.ts';
import * as store from './pulse.store.ts';
import { RECORD_FIELDS, type SignalSums } from './pulse.table.ts';

export interface Averages {
  stuck: number | null;
  got_it: number | null;
  pause: number | null;
  example: number | null;
  confidence: number | null;
}

interface Summary {
  count: number;
  first_ts: string | null;
  last_ts: string | null;
  averages: Averages;
}

export interface ClassMastery extends Summary {
  class_id: string;
  students: number;
  from: string | null;
  to: string | null;
  by_student?: (Summary & { student_id: string })[];
  series?: (Summary & { day: string; students: number })[];
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
/** Records per export query: memory holds one page; each query sorts (part of) one day. */
const EXPORT_PAGE = 10_000;

function summarise(s: SignalSums | undefined): Summary {
  if (!s || s.n === 0) {
    return {
      count: 0,
      first_ts: null,
      last_ts: null,
      averages: { stuck: null, got_it: null, pause: null, example: null, confidence: null },
    };
  }
  const n = Number(s.n);
  return {
    count: n,
    first_ts: s.first_ts,
    last_ts: s.last_ts,
    averages: {
      stuck: round(Number(s.stuck) / n),
      got_it: round(Number(s.got_it) / n),
      pause: round(Number(s.pause) / n),
      example: round(Number(s.example) / n),
      confidence: round(Number(s.confidence_sum) / n),
    },
  };
}

function merge(into: SignalSums | undefined, s: SignalSums): SignalSums {
  if (!into) return { ...s, n: Number(s.n) };
  return {
    n: into.n + Number(s.n),
    stuck: Number(into.stuck) + Number(s.stuck),
    got_it: Number(into.got_it) + Number(s.got_it),
    pause: Number(into.pause) + Number(s.pause),
    example: Number(into.example) + Number(s.example),
    confidence_sum: Number(into.confidence_sum) + Number(s.confidence_sum),
    first_ts: s.first_ts < into.first_ts ? s.first_ts : into.first_ts,
    last_ts: s.last_ts > into.last_ts ? s.last_ts : into.last_ts,
  };
}

export class PulseService {
  private settling: Promise<number> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly thresholds: RuleThresholds,
    /**
     * the database's writer: on SQLite it adds the newest records to the students' sums and
     * the log's runs
     */
    private readonly writer: Writer,
  ) {}

  /**
   * SQLite: before a read of the students' daily sums or of the log through its runs, has the
   * writer add the records they lack yet (the writer holds them for up to a second, see
   * pulse.store.ts), so that an answer counts every record committed before it was asked for.
   */
  private async settled(): Promise<void> {
    if (this.dialect !== 'sqlite') return;
    await this.settleThrough(await repo.studentDaysLag(this.db));
  }

  /**
   * Has the writer add the log's records through id `last` to the students' sums and the
   * log's runs (0: none lag). Readers that come meanwhile share one settling; one that saw
   * records the shared one did not cover (committed after it ran) waits for the next.
   */
  private async settleThrough(last: number): Promise<void> {
    while (last > 0) {
      this.settling ??= this.writer
        .run('pulse.settle', null)
        .finally(() => (this.settling = undefined));
      if ((await this.settling) >= last) return;
    }
  }

  /** A class's all-time sums (on SQLite asking whether they lag in the same statement). */
  private async classTotals(classId: string): Promise<repo.TotalSums> {
    const t = await repo.classTotals(this.db, this.dialect, classId);
    const lag = Number(t.lag_to ?? 0);
    if (lag === 0) return t;
    await this.settleThrough(lag);
    return repo.classTotals(this.db, this.dialect, classId);
  }

  private async requireClass(classId: string): Promise<void> {
    if (!(await repo.classExists(this.db, classId))) {
      throw notFound(`Class ${JSON.stringify(classId)} has no records`);
    }
  }

  /** Per-student sums over the window: whole days from the projection, edges from the log. */
  private async studentSums(classId: string, w: TimeWindow): Promise<Map<string, SignalSums>> {
    const out = new Map<string, SignalSums>();
    const add = (rows: repo.StudentSums[]) => {
      for (const { student_id, ...s } of rows) out.set(student_id, merge(out.get(student_id), s));
    };
    await this.settled();
    if (w.from === null && w.to === null) {
      add(await repo.studentTotals(this.db, classId));
      return out;
    }
    const plan = planWindow(w);
    if (!plan.noWholeDays) {
      add(await repo.studentSumsInDays(this.db, classId, plan.dayFrom, plan.dayTo));
    }
    for (const e of plan.edges)
      add(await repo.studentSumsInRange(this.db, this.dialect, classId, e.from, e.to));
    return out;
  }

  private async daySeries(classId: string, w: TimeWindow): Promise<ClassMastery['series']> {
    const plan = planWindow(w);
    const days = new Map<string, { sums: SignalSums; students: number }>();
    if (!plan.noWholeDays) {
      for (const { day, students, ...s } of await repo.daySumsInDays(
        this.db,
        classId,
        plan.dayFrom,
        plan.dayTo,
      )) {
        days.set(day, { sums: merge(undefined, s), students: Number(students) });
      }
    }
    // The edges read the log through its runs: mastery() has settled them (studentSums).
    for (const e of plan.edges) {
      const rows = await repo.studentSumsInRange(this.db, this.dialect, classId, e.from, e.to);
      if (rows.length === 0) continue;
      let sums: SignalSums | undefined;
      for (const { student_id: _, ...s } of rows) sums = merge(sums, s);
      days.set(e.from.slice(0, 10), { sums: sums!, students: rows.length });
    }
    return [...days.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([day, v]) => ({ day, students: v.students, ...summarise(v.sums) }));
  }

  async mastery(
    classId: string,
    q: WindowQuery & { by?: 'student'; bucket?: 'day' },
  ): Promise<ClassMastery> {
    const w = windowOf(q);
    const plan = w.from === null && w.to === null ? null : planWindow(w);
    let total: SignalSums | undefined;
    let students: number;
    let perStudent: Map<string, SignalSums> | undefined;
    if (q.by !== 'student' && (plan === null || plan.edges.length === 0)) {
      // Whole days only and no breakdown: one row of sums from the projections.
      const t = plan
        ? await repo.totalsInDays(this.db, classId, plan.dayFrom, plan.dayTo)
        : await this.classTotals(classId);
      students = Number(t.students);
      if (Number(t.n) > 0) total = merge(undefined, t);
    } else {
      perStudent = await this.studentSums(classId, w);
      students = perStudent.size;
      for (const s of perStudent.values()) total = merge(total, s);
    }
    // Only an empty answer needs telling an unknown class from a quiet window.
    if (students === 0) await this.requireClass(classId);
    const result: ClassMastery = {
      class_id: classId,
      students,
      from: w.from,
      to: w.to,
      ...summarise(total),
    };
    if (perStudent && q.by === 'student') {
      result.by_student = [...perStudent.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([student_id, s]) => ({ student_id, ...summarise(s) }));
    }
    if (q.bucket === 'day') result.series = await this.daySeries(classId, w);
    return result;
  }

  async recommendations(classId: string, q: WindowQuery) {
    const m = await this.mastery(classId, q);
    const a = m.averages;
    const recommendations: Recommendation[] =
      m.count === 0
        ? []
        : recommend(
            {
              stuck: a.stuck!,
              got_it: a.got_it!,
              pause: a.pause!,
              example: a.example!,
              confidence: a.confidence!,
            },
            this.thresholds,
          );
    return {
      class_id: classId,
      from: m.from,
      to: m.to,
      based_on: { count: m.count, students: m.students, averages: m.averages },
      recommendations,
    };
  }

  /**
   * A learner's own signals per UTC day across their classes. The window is taken in whole
   * days: every day it touches counts whole.
   */
  async learnerPulse(studentId: string, q: WindowQuery) {
    const w = windowOf(q);
    const dayFrom = w.from === null ? null : w.from.slice(0, 10);
    const dayTo =
      w.to === null
        ? null
        : isMidnight(w.to)
          ? w.to.slice(0, 10)
          : new Date(Date.parse(w.to.slice(0, 10)) + 86_400_000).toISOString().slice(0, 10);
    await this.settled();
    const rows = await repo.learnerDaySums(this.db, studentId, dayFrom, dayTo);
    if (rows.length === 0 && !(await repo.studentKnown(this.db, studentId))) {
      throw notFound(`Learner ${JSON.stringify(studentId)} has no signals`);
    }
    let total: SignalSums | undefined;
    for (const { day: _d, classes: _c, ...s } of rows) total = merge(total, s);
    return {
      user_id: studentId,
      from: dayFrom === null ? null : `${dayFrom}T00:00:00.000Z`,
      to: dayTo === null ? null : `${dayTo}T00:00:00.000Z`,
      ...summarise(total),
      series: rows.map(({ day, classes: _c, ...s }) => ({
        day,
        ...summarise(merge(undefined, s)),
      })),
    };
  }

  /** The classes with data, limited to those the caller may see. */
  async classes(only: ReadonlySet<string> | 'all' = 'all') {
    await this.settled();
    const rows = await repo.listClasses(this.db, only);
    return {
      classes: rows.map((r) => ({
        class_id: r.class_id,
        records: Number(r.records),
        students: Number(r.students),
        first_ts: r.first_ts,
        last_ts: r.last_ts,
      })),
    };
  }

  /**
   * The class's records in time order as a stream, read page by page so that memory stays
   * flat and no database connection is held between pages.
   */
  async export(classId: string, q: WindowQuery, format: 'csv' | 'ndjson'): Promise<Readable> {
    const w = windowOf(q);
    await this.requireClass(classId);
    // Every record committed before the request is in the runs the export reads.
    await this.settled();
    const { db, dialect } = this;
    // Day by day (the days with records, from the daily sums), each in pages.
    async function* rows() {
      const toDay = w.to === null ? null : w.to.slice(0, 10);
      for (const day of await repo.daysOf(db, classId, w.from?.slice(0, 10) ?? null, toDay)) {
        let after: { ts: string; id: number } | null = null;
        for (;;) {
          const page = await repo.recordsOfDay(
            db,
            dialect,
            classId,
            day,
            w.from,
            w.to,
            after,
            EXPORT_PAGE,
          );
          for (const r of page) yield r;
          if (page.length < EXPORT_PAGE) break;
          const last = page[page.length - 1]!;
          after = { ts: last.ts, id: Number(last.id) };
        }
      }
    }
    const columns = ['id', ...RECORD_FIELDS] as const;
    if (format === 'ndjson') {
      return Readable.from(
        (async function* () {
          for await (const r of rows()) {
            const o: Record<string, unknown> = {};
            for (const c of columns) o[c] = c === 'id' ? Number(r.id) : r[c];
            yield `${JSON.stringify(o)}\n`;
          }
        })(),
      );
    }
    const csv = stringify({
      header: true,
      columns: [...columns],
      record_delimiter: 'windows',
      quote_record_delimiter: true,
    });
    const source = Readable.from(rows());
    source.on('error', (err) => csv.destroy(err));
    return source.pipe(csv);
  }

  /** Rebuilds the class projections from the log, one class per transaction. */
  async recompute(): Promise<{ classes: number; duration_ms: number }> {
    const started = performance.now();
    const classes = await store.rebuildProjections(this.db, this.dialect);
    return { classes, duration_ms: Math.round(performance.now() - started) };
  }
}
