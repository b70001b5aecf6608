/**
 * The write side of the class pulse: appending records to the log and keeping the projections
 * current in the same transaction, rolling up finished days, and rebuilding from the log.
 *
 * Projections (see pulse.table.ts): class_student_day_stats holds every record's sums by
 * (class, UTC day, student); class_students holds the same sums by (class, student) for the
 * days before pulse_rollup.rolled_before; class_day_stats holds them by (class, day) with the
 * set of the day's students. So a record of today, the common case, updates two projection
 * rows (its student's day and its class's day); a record of an earlier day updates three.
 * On SQLite the writer holds the students' day sums and the log's runs of its newest records
 * in memory and writes them about once a second (see HeldRows); readers of those tables first
 * have it write what is missing (settleHeld).
 */
import { type Kysely, sql } from 'kysely';
import { bitmapOf } from '../../db/bitmap.ts';
import { BulkStatement, type PgColumnType } from '../../db/bulk.ts';
import type { Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import type { SqliteHandle } from '../../db/sqlite.ts';
import { rosterNumbers } from './pulse.roster.ts';
import {
  type ClassDayStatsTable,
  type ClassStudentDayStatsTable,
  type MetricRecordRunTable,
  RECORD_FIELDS,
  type SignalSums,
  SUM_FIELDS,
} from './pulse.table.ts';
import type { ValidRecord } from './pulse.validation.ts';
import type { PackedRecords } from './pulse.write.ts';

type Q = Kysely<Database>;
type StoredRecord = ValidRecord & { received_at: string };

const RECORD_COLUMNS = [...RECORD_FIELDS, 'received_at'] as const;
/** The UTC day of a stored timestamp, as SQL (PostgreSQL's class index of the log is on it). */
export const DAY_OF_TS = sql<string>`substr(ts, 1, 10)`;

// PostgreSQL: every row of a flush in one statement, one array per column.
const RECORD_TYPES = [
  ['class_id', 'text'],
  ['student_id', 'text'],
  ['stuck', 'smallint'],
  ['got_it', 'smallint'],
  ['pause', 'smallint'],
  ['example', 'smallint'],
  ['confidence', 'double precision'],
  ['ts', 'text'],
  ['event_id', 'text'],
  ['received_at', 'text'],
] as const satisfies readonly (readonly [(typeof RECORD_COLUMNS)[number], PgColumnType])[];
const insertPlain = new BulkStatement<StoredRecord, Database>(RECORD_TYPES, (db, rows, columns) =>
  db.insertInto('metric_records').columns(columns).expression(rows).returning('id'),
);
const insertKeyed = new BulkStatement<StoredRecord, Database>(RECORD_TYPES, (db, rows, columns) =>
  db
    .insertInto('metric_records')
    .columns(columns)
    .expression(rows)
    .onConflict((oc) => oc.column('event_id').where('event_id', 'is not', null).doNothing())
    .returning(['id', 'event_id']),
);

/** `column = <old and new combined>` for a sums column of table `t`, in an upsert. */
function addExpr(c: (typeof SUM_FIELDS)[number], t: string): string {
  if (c === 'first_ts') {
    return `case when excluded.first_ts < ${t}.first_ts then excluded.first_ts else ${t}.first_ts end`;
  }
  if (c === 'last_ts') {
    return `case when excluded.last_ts > ${t}.last_ts then excluded.last_ts else ${t}.last_ts end`;
  }
  return `${t}.${c} + excluded.${c}`;
}

/** The SET list of an upsert into sums table `t` that adds the new sums to the old. */
function addSetText(t: string): string {
  return SUM_FIELDS.map((c) => `${c} = ${addExpr(c, t)}`).join(', ');
}

function addSet(t: string) {
  return sql.raw(addSetText(t));
}

// The sums columns with their PostgreSQL types, in SUM_FIELDS order.
const SUM_TYPES = [
  ['n', 'integer'],
  ['stuck', 'integer'],
  ['got_it', 'integer'],
  ['pause', 'integer'],
  ['example', 'integer'],
  ['confidence_sum', 'double precision'],
  ['first_ts', 'text'],
  ['last_ts', 'text'],
] as const satisfies readonly (readonly [keyof SignalSums, PgColumnType])[];

// class_day_stats: a flush's sums per (class, day) with its set of students, added in.
const CLASS_DAY_TYPES = [
  ['class_id', 'text'],
  ['day', 'text'],
  ...SUM_TYPES,
  ['student_set', 'bit varying'],
] as const satisfies readonly (readonly [keyof ClassDayStatsTable, PgColumnType])[];
const CLASS_DAY_COLUMNS = CLASS_DAY_TYPES.map(([c]) => c);
/** Each column of an existing class_day_stats row, combined with the flush's. */
const CLASS_DAY_MERGE: [string, string][] = [
  ...SUM_FIELDS.map((c): [string, string] => [c, addExpr(c, 'class_day_stats')]),
  ['student_set', 'bitmap_or(class_day_stats.student_set, excluded.student_set)'],
];
const upsertClassDays = new BulkStatement<ClassDayStatsTable, Database>(
  CLASS_DAY_TYPES,
  (db, rows, columns) =>
    db
      .insertInto('class_day_stats')
      .columns(columns)
      .expression(rows)
      .onConflict((oc) =>
        oc
          .columns(['class_id', 'day'])
          .doUpdateSet(Object.fromEntries(CLASS_DAY_MERGE.map(([c, e]) => [c, sql.raw(e)]))),
      ),
);

// class_student_day_stats: a flush's sums per (class, day, student), added in.
const STUDENT_DAY_TYPES = [
  ['class_id', 'text'],
  ['day', 'text'],
  ['student_id', 'text'],
  ...SUM_TYPES,
] as const satisfies readonly (readonly [keyof ClassStudentDayStatsTable, PgColumnType])[];
const STUDENT_DAY_COLUMNS = STUDENT_DAY_TYPES.map(([c]) => c);
const upsertStudentDays = new BulkStatement<ClassStudentDayStatsTable, Database>(
  STUDENT_DAY_TYPES,
  (db, rows, columns) =>
    db
      .insertInto('class_student_day_stats')
      .columns(columns)
      .expression(rows)
      .onConflict((oc) =>
        oc
          .columns(['class_id', 'day', 'student_id'])
          .doUpdateSet(
            Object.fromEntries(
              SUM_FIELDS.map((c) => [c, sql.raw(addExpr(c, 'class_student_day_stats'))]),
            ),
          ),
      ),
);

// SQLite: prepared statements, no query building in between. Records without an event_id go
// BULK_ROWS to a statement: in process, 1.5 µs a row against 2.0 µs for one row a statement
// (4,000-row flushes; 20, 100 or 200 rows a statement measured within the noise of 50), and
// 100-record ingest +11 % in interleaved pairs. Records with one go one at a time, so that
// each tells whether it was stored.
const BULK_ROWS = 50;
const COLUMN_LIST = RECORD_COLUMNS.join(', ');
const PLACEHOLDERS = RECORD_COLUMNS.map(() => '?').join(', ');
const sqliteStatements = new WeakMap<SqliteHandle, ReturnType<typeof prepareSqlite>>();

function statementsOf(sqlite: SqliteHandle): ReturnType<typeof prepareSqlite> {
  let st = sqliteStatements.get(sqlite);
  if (!st) sqliteStatements.set(sqlite, (st = prepareSqlite(sqlite)));
  return st;
}

/**
 * SQLite: what a writer's latest flushes add to two projections, not yet written: the
 * students' daily sums (class_student_day_stats) and the log's runs (metric_record_runs).
 * Upserting a flush's student rows was the costliest part of storing records (about as many
 * rows as records, each dearer than the record's own insert); and when requests are small, a
 * flush's runs are about one per record, each an insert at its own place in the runs table.
 * Held here, a student's day is written once per HOLD_MS however many flushes touched it, and
 * the runs go in together, in key order.
 *
 * The memory holds what the log's records with ids in (from, through] add. It is used only
 * while `from` is the tables' line (pulse_student_days) and `through` the log's last id, both
 * read inside the writing transaction: when another process stored or summed records
 * meanwhile, or after a failed transaction (`through` is NaN while one is open), it is
 * dropped and the records past the line are summed, and their runs derived, from the log.
 */
interface HeldRows {
  from: number;
  through: number;
  /** counts the transactions that took the memory: only the last may mark it known again */
  taken: number;
  /** class → day → student → sums */
  sums: Map<string, Map<string, Map<string, ClassStudentDayStatsTable>>>;
  /** the runs of the records (sorted into key order when written out) */
  runs: MetricRecordRunTable[];
  /** student-day rows plus runs held */
  size: number;
  /** performance.now() when the memory got its first row since it was last emptied */
  since: number;
}

/** Held rows are written out once they are this old (ms), or this many. */
const HOLD_MS = 1_000;
const HOLD_MAX = 50_000;
const heldRows = new WeakMap<SqliteHandle, HeldRows>();

function heldOf(sqlite: SqliteHandle): HeldRows {
  let h = heldRows.get(sqlite);
  if (!h) {
    h = { from: NaN, through: NaN, taken: 0, sums: new Map(), runs: [], size: 0, since: 0 };
    heldRows.set(sqlite, h);
  }
  return h;
}

/** Empties the memory: it now starts after log id `line`. */
function restartHeld(h: HeldRows, line: number): void {
  h.from = line;
  h.sums = new Map();
  h.runs = [];
  h.size = 0;
  h.since = performance.now();
}

/** The held sums of a class's day, by student. */
function heldDay(h: HeldRows, classId: string, day: string) {
  let days = h.sums.get(classId);
  if (!days) h.sums.set(classId, (days = new Map()));
  let students = days.get(day);
  if (!students) days.set(day, (students = new Map()));
  return students;
}

/**
 * Adds the held sums to class_student_day_stats and the held runs to metric_record_runs, and
 * moves the line to `through`.
 */
function writeHeld(st: ReturnType<typeof prepareSqlite>, h: HeldRows, through: number) {
  // In key order, each run joined to the next when it goes on over the very next id (two
  // flushes in a row may end and begin with the same class and day).
  const runs = h.runs.sort(
    (a, b) => byText(a.class_id, b.class_id) || byText(a.day, b.day) || a.first_id - b.first_id,
  );
  for (let k = 0; k < runs.length;) {
    const r = runs[k]!;
    let last = r.last_id;
    for (k++; k < runs.length; k++) {
      const n = runs[k]!;
      if (n.first_id !== last + 1 || n.class_id !== r.class_id || n.day !== r.day) break;
      last = n.last_id;
    }
    st.run.run(r.class_id, r.day, r.first_id, last);
  }
  for (const days of h.sums.values()) {
    for (const students of days.values()) {
      for (const r of students.values()) {
        st.studentDay.run(...STUDENT_DAY_COLUMNS.map((c) => r[c]));
      }
    }
  }
  st.setSummedThrough.run(through);
  restartHeld(h, through);
}

/**
 * SQLite, inside a writing transaction: makes the memory hold exactly the records past the
 * tables' line (see HeldRows), taking from the log those it lacks. Marks it unknown
 * until the caller's transaction commits; returns what to call then, with the log's last id:
 * it marks the memory known again, unless another transaction has taken it since.
 */
async function takeHeld(
  trx: Q,
  st: ReturnType<typeof prepareSqlite>,
  h: HeldRows,
  lastId: number,
): Promise<(through: number) => void> {
  const line = st.summedThrough.get() as number;
  const intact = h.from === line && h.through === lastId;
  h.through = NaN;
  const taken = ++h.taken;
  const known = (through: number) => {
    if (h.taken === taken) h.through = through;
  };
  if (intact) return known;
  await settleFromLog(trx);
  restartHeld(h, lastId);
  return known;
}

/**
 * SQLite, run by the writer in a transaction of its own: class_student_day_stats and
 * metric_record_runs then hold every record of the log, from the writer's memory or from the
 * log. Readers of those tables ask for it first (PulseService), when the line lags the log.
 */
export async function settleHeld(
  trx: Q,
  sqlite: SqliteHandle,
): Promise<{ through: number; committed: () => void }> {
  const st = statementsOf(sqlite);
  const h = heldOf(sqlite);
  const lastId = (st.lastId.get() as number | null) ?? 0;
  const known = await takeHeld(trx, st, h, lastId);
  if (h.size > 0) writeHeld(st, h, lastId);
  return { through: lastId, committed: () => known(lastId) };
}

/**
 * SQLite, on any connection inside a transaction: adds the log's records past the line to
 * class_student_day_stats and their runs to metric_record_runs, from the log itself (a
 * writer's memory of them is dropped when it sees the line moved). For the rare writers that
 * need the tables whole: the roll-up, a class's rebuild, the runs' rederivation. Returns the
 * line, now the log's last id.
 */
async function settleFromLog(q: Q): Promise<number> {
  const { rows } = await sql<{ line: number; last: number }>`select
      (select summed_through from pulse_student_days where id = 1) as line,
      coalesce((select max(id) from metric_records), 0) as last`.execute(q);
  const { line, last } = rows[0]!;
  if (line < last) {
    await addToStudentDays(q, 'sqlite', { afterId: line });
    await deriveRuns(q, line, last);
  }
  if (line !== last) {
    await q
      .updateTable('pulse_student_days')
      .set({ summed_through: last })
      .where('id', '=', 1)
      .execute();
  }
  return last;
}
function prepareSqlite(sqlite: SqliteHandle) {
  return {
    lastId: sqlite.prepare('select max(id) from metric_records').pluck(),
    summedThrough: sqlite
      .prepare('select summed_through from pulse_student_days where id = 1')
      .pluck(),
    setSummedThrough: sqlite.prepare(
      'update pulse_student_days set summed_through = ? where id = 1',
    ),
    run: sqlite.prepare(
      'insert into metric_record_runs (class_id, day, first_id, last_id) values (?, ?, ?, ?)',
    ),
    plain: sqlite.prepare(`insert into metric_records (${COLUMN_LIST}) values (${PLACEHOLDERS})`),
    plainBulk: sqlite.prepare(
      `insert into metric_records (${COLUMN_LIST}) values ` +
        Array.from({ length: BULK_ROWS }, () => `(${PLACEHOLDERS})`).join(', '),
    ),
    keyed: sqlite.prepare(
      `insert into metric_records (${COLUMN_LIST}) values (${PLACEHOLDERS}) ` +
        'on conflict (event_id) where event_id is not null do nothing',
    ),
    studentDay: sqlite.prepare(
      `insert into class_student_day_stats (${STUDENT_DAY_COLUMNS.join(', ')}) ` +
        `values (${STUDENT_DAY_COLUMNS.map(() => '?').join(', ')}) ` +
        `on conflict (class_id, day, student_id) do update set ` +
        addSetText('class_student_day_stats'),
    ),
    classDay: sqlite.prepare(
      `insert into class_day_stats (${CLASS_DAY_COLUMNS.join(', ')}) ` +
        `values (${CLASS_DAY_COLUMNS.map(() => '?').join(', ')}) ` +
        `on conflict (class_id, day) do update set ` +
        CLASS_DAY_MERGE.map(([c, e]) => `${c} = ${e}`).join(', '),
    ),
  };
}

/** The day before which class_students holds the sums. */
export async function rolledBefore(
  q: Q,
  dialect: Dialect,
  lock: 'share' | 'alone' | null = null,
): Promise<string> {
  let query = q.selectFrom('pulse_rollup').select('rolled_before').where('id', '=', 1);
  // PostgreSQL: writers share the row while they store records; a roll-up or a class rebuild
  // takes it alone, so that no record is stored while the line moves or while a class is
  // summed again from the log (SQLite's write lock does both by itself).
  if (lock === 'share' && dialect === 'postgres') query = query.forShare();
  if (lock === 'alone' && dialect === 'postgres') query = query.forUpdate();
  return (await query.executeTakeFirstOrThrow()).rolled_before;
}

/**
 * Folds the daily sums of the days in [rolled_before, day) into class_students and moves the
 * line to `day`. Runs in its own transaction; a no-op when the line is there already.
 */
export async function rollUpTo(db: Q, dialect: Dialect, day: string): Promise<void> {
  if ((await rolledBefore(db, dialect)) >= day) return;
  await db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('pulse_rollup').select('rolled_before').where('id', '=', 1);
    if (dialect === 'postgres') query = query.forUpdate();
    const from = (await query.executeTakeFirstOrThrow()).rolled_before;
    if (from >= day) return;
    if (dialect === 'sqlite') await settleFromLog(trx);
    await sql`insert into class_students
        (class_id, student_id, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts)
      select class_id, student_id, sum(n), sum(stuck), sum(got_it), sum(pause), sum(example),
        sum(confidence_sum), min(first_ts), max(last_ts)
      from class_student_day_stats where day >= ${from} and day < ${day}
      group by class_id, student_id
      on conflict (class_id, student_id) do update set ${addSet('class_students')}`.execute(trx);
    await trx.updateTable('pulse_rollup').set({ rolled_before: day }).where('id', '=', 1).execute();
  });
}

/** What storeRecords did, for after its transaction. */
export interface Stored {
  /** per entry of `which`: 1 if it was stored, 0 if its event_id was stored already */
  stored: Uint8Array;
  /** Call once the transaction has committed (the writer then remembers roster numbers). */
  committed(): void;
}

/**
 * Appends the records at `which` (indexes into `p`) to the log and adds the stored ones to the
 * projections, all inside the caller's transaction.
 */
export async function storeRecords(
  trx: Q,
  ctx: { db: Q; dialect: Dialect; sqlite: SqliteHandle | undefined },
  p: PackedRecords,
  which: number[],
  receivedAt: string,
): Promise<Stored> {
  const rolled = await rolledBefore(trx, ctx.dialect, 'share');
  // Timestamps compare with a day as text: "2026-11-30T23:59…" < "2026-12-01".
  const anyRolled = which.some((i) => p.ts[i]! < rolled);
  const stored = new Uint8Array(which.length);
  if (ctx.sqlite) {
    const st = statementsOf(ctx.sqlite);
    const { plain, keyed } = st;
    // The transaction holds the write lock, so every row past this id is one of ours.
    const lastId = (st.lastId.get() as number | null) ?? 0;
    const held = heldOf(ctx.sqlite);
    const known = await takeHeld(trx, st, held, lastId);
    // The memory's age counts from its first row.
    if (held.size === 0) held.since = performance.now();
    let maxId = lastId;
    // Stored grouped by (class, day), a group's records take consecutive ids: one run each,
    // held in the writer's memory (see HeldRows).
    let run: MetricRecordRunTable | undefined;
    /** Record k of `which` was stored with this id: it joins its run. */
    const storedAs = (k: number, id: number) => {
      stored[k] = 1;
      if (id > maxId) maxId = id;
      const i = which[k]!;
      const classId = p.class_id[i]!;
      const day = p.ts[i]!.slice(0, 10);
      // A run extends only over the very next id, whatever the grouping did.
      if (run && run.last_id === id - 1 && run.class_id === classId && run.day === day) {
        run.last_id = id;
      } else {
        held.runs.push((run = { class_id: classId, day, first_id: id, last_id: id }));
        held.size++;
      }
    };
    /** Binds record i's columns into `args` from position `at`. */
    const bind = (args: unknown[], at: number, i: number) => {
      const f = p.flags[i]!;
      args[at] = p.class_id[i]!;
      args[at + 1] = p.student_id[i]!;
      args[at + 2] = f & 1;
      args[at + 3] = (f >> 1) & 1;
      args[at + 4] = (f >> 2) & 1;
      args[at + 5] = (f >> 3) & 1;
      args[at + 6] = p.confidence[i]!;
      args[at + 7] = p.ts[i]!;
      args[at + 8] = p.event_id[i]!;
      args[at + 9] = receivedAt;
    };
    const one = new Array<unknown>(RECORD_COLUMNS.length);
    const many = new Array<unknown>(RECORD_COLUMNS.length * BULK_ROWS);
    // Records without an event_id cannot conflict: they go BULK_ROWS to a statement, which
    // gives them the next ids in order (the transaction holds the write lock).
    const waiting: number[] = [];
    const insertWaiting = () => {
      let a = 0;
      for (; a + BULK_ROWS <= waiting.length; a += BULK_ROWS) {
        for (let j = 0; j < BULK_ROWS; j++)
          bind(many, j * RECORD_COLUMNS.length, which[waiting[a + j]!]!);
        const res = st.plainBulk.run(many);
        const last = Number(res.lastInsertRowid);
        if (res.changes !== BULK_ROWS || last !== maxId + BULK_ROWS) {
          throw new Error(`metric_records: ${BULK_ROWS} rows did not take the next ids`);
        }
        for (let j = 0; j < BULK_ROWS; j++) storedAs(waiting[a + j]!, last - BULK_ROWS + 1 + j);
      }
      for (; a < waiting.length; a++) {
        bind(one, 0, which[waiting[a]!]!);
        storedAs(waiting[a]!, Number(plain.run(one).lastInsertRowid));
      }
      waiting.length = 0;
    };
    for (const k of byClassDay(p, which)) {
      const i = which[k]!;
      if (p.event_id[i] === null) {
        waiting.push(k);
        continue;
      }
      insertWaiting();
      bind(one, 0, i);
      const res = keyed.run(one);
      if (res.changes > 0) storedAs(k, Number(res.lastInsertRowid));
    }
    insertWaiting();
    if (anyRolled) await addToRolledStudents(trx, ctx.dialect, { afterId: lastId }, rolled);
    // The students' sums and the runs go into the writer's memory (see HeldRows).
    const { classDays, committed } = await dailyRows(trx, ctx, p, which, stored, held);
    if (held.size >= HOLD_MAX || performance.now() - held.since >= HOLD_MS) {
      writeHeld(st, held, maxId);
    }
    for (const r of classDays) {
      st.classDay.run(...CLASS_DAY_COLUMNS.map((c) => r[c]));
    }
    return {
      stored,
      committed: () => {
        known(maxId);
        committed();
      },
    };
  }

  const plain: StoredRecord[] = [];
  const keyed: StoredRecord[] = [];
  const keyedAt = new Map<string, number>();
  which.forEach((i, k) => {
    const f = p.flags[i]!;
    const row: StoredRecord = {
      class_id: p.class_id[i]!,
      student_id: p.student_id[i]!,
      stuck: (f & 1) as 0 | 1,
      got_it: ((f >> 1) & 1) as 0 | 1,
      pause: ((f >> 2) & 1) as 0 | 1,
      example: ((f >> 3) & 1) as 0 | 1,
      confidence: p.confidence[i]!,
      ts: p.ts[i]!,
      event_id: p.event_id[i]!,
      received_at: receivedAt,
    };
    if (row.event_id === null) {
      plain.push(row);
      stored[k] = 1;
    } else {
      keyed.push(row);
      keyedAt.set(row.event_id, k);
    }
  });
  const ids: number[] = [];
  if (plain.length > 0) {
    const { rows } = await insertPlain.execute<{ id: number }>(trx, plain);
    for (const r of rows) ids.push(Number(r.id));
  }
  if (keyed.length > 0) {
    // In event_id order, so that two servers storing the same retried records wait for each
    // other's index entries in one order rather than deadlock.
    keyed.sort((a, b) => byText(a.event_id!, b.event_id!));
    const { rows } = await insertKeyed.execute<{ id: number; event_id: string }>(trx, keyed);
    for (const r of rows) {
      ids.push(Number(r.id));
      stored[keyedAt.get(r.event_id)!] = 1;
    }
  }
  if (ids.length === 0) return { stored, committed: () => undefined };
  if (anyRolled) await addToRolledStudents(trx, ctx.dialect, { ids }, rolled);
  const { classDays, studentDays, committed } = await dailyRows(trx, ctx, p, which, stored);
  await upsertStudentDays.execute(trx, studentDays);
  await upsertClassDays.execute(trx, classDays);
  return { stored, committed };
}

/** Orders two texts as JavaScript compares them (every writer of this code sorts alike). */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The positions in `which` ordered by the (class, day) of their records, each group in its
 * original order and the groups in order of first appearance (a counting sort).
 */
function byClassDay(p: PackedRecords, which: number[]): Int32Array {
  const n = which.length;
  const groupOf = new Int32Array(n);
  const sizes: number[] = [];
  const groups = new Map<string, Map<string, number>>();
  for (let k = 0; k < n; k++) {
    const i = which[k]!;
    const classId = p.class_id[i]!;
    const day = p.ts[i]!.slice(0, 10);
    let days = groups.get(classId);
    if (!days) groups.set(classId, (days = new Map()));
    let g = days.get(day);
    if (g === undefined) {
      days.set(day, (g = sizes.length));
      sizes.push(0);
    }
    groupOf[k] = g;
    sizes[g]!++;
  }
  const next = new Int32Array(sizes.length);
  for (let g = 1; g < sizes.length; g++) next[g] = next[g - 1]! + sizes[g - 1]!;
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[next[groupOf[k]!]!++] = k;
  return order;
}

/** A fresh row of sums holding nothing yet but the first timestamp. */
function emptySums(ts: string): SignalSums {
  return {
    n: 0,
    stuck: 0,
    got_it: 0,
    pause: 0,
    example: 0,
    confidence_sum: 0,
    first_ts: ts,
    last_ts: ts,
  };
}

/** Adds record i of `p` to the sums `r`. */
function addRecord(r: SignalSums, p: PackedRecords, i: number): void {
  const f = p.flags[i]!;
  const ts = p.ts[i]!;
  r.n++;
  r.stuck += f & 1;
  r.got_it += (f >> 1) & 1;
  r.pause += (f >> 2) & 1;
  r.example += (f >> 3) & 1;
  r.confidence_sum += p.confidence[i]!;
  if (ts < r.first_ts) r.first_ts = ts;
  if (ts > r.last_ts) r.last_ts = ts;
}

/**
 * The stored records' sums per (class, day), each with the set of its students, and per
 * (class, day, student), both in key order on PostgreSQL; students new to their class get
 * their roster numbers here. With `held` (SQLite), the students' sums are added to the
 * writer's memory instead of returned.
 */
async function dailyRows(
  trx: Q,
  ctx: { db: Q; dialect: Dialect },
  p: PackedRecords,
  which: number[],
  stored: Uint8Array,
  held?: HeldRows,
): Promise<{
  classDays: ClassDayStatsTable[];
  studentDays: ClassStudentDayStatsTable[];
  committed: () => void;
}> {
  const kept = which.filter((_, k) => stored[k] === 1);
  const roster = await rosterNumbers(
    trx,
    ctx.dialect,
    ctx.db,
    kept.map((i) => p.class_id[i]!),
    kept.map((i) => p.student_id[i]!),
  );
  // Nested maps rather than joined keys: a joined key is a new string to hash per record.
  const classDayOf = new Map<string, Map<string, number>>();
  const classDays: ClassDayStatsTable[] = [];
  const members: number[][] = [];
  const studentsOf: Map<string, ClassStudentDayStatsTable>[] = [];
  const studentDays: ClassStudentDayStatsTable[] = [];
  for (let k = 0; k < kept.length; k++) {
    const i = kept[k]!;
    const classId = p.class_id[i]!;
    const ts = p.ts[i]!;
    const day = ts.slice(0, 10);
    let days = classDayOf.get(classId);
    if (!days) classDayOf.set(classId, (days = new Map()));
    let g = days.get(day);
    if (g === undefined) {
      days.set(day, (g = classDays.length));
      classDays.push({ class_id: classId, day, ...emptySums(ts), student_set: '' });
      members.push([]);
      studentsOf.push(held ? heldDay(held, classId, day) : new Map());
    }
    addRecord(classDays[g]!, p, i);
    members[g]!.push(roster.numbers[k]!);
    const studentId = p.student_id[i]!;
    const students = studentsOf[g]!;
    let r = students.get(studentId);
    if (!r) {
      students.set(
        studentId,
        (r = { class_id: classId, day, student_id: studentId, ...emptySums(ts) }),
      );
      if (held) held.size++;
      else studentDays.push(r);
    }
    addRecord(r, p, i);
  }
  classDays.forEach((r, g) => (r.student_set = bitmapOf(ctx.dialect, members[g]!)));
  // Concurrent PostgreSQL writers lock the rows they update in one order.
  if (ctx.dialect === 'postgres') {
    classDays.sort((a, b) => byText(a.class_id, b.class_id) || byText(a.day, b.day));
    studentDays.sort(
      (a, b) =>
        byText(a.class_id, b.class_id) ||
        byText(a.day, b.day) ||
        byText(a.student_id, b.student_id),
    );
  }
  return { classDays, studentDays, committed: roster.committed };
}

/** The log rows to add to the projections: those past an id (SQLite), listed ones, or a class's. */
type NewRecords = { afterId: number } | { ids: number[] } | { classId: string };

/** The FROM and WHERE that read the log rows of `source`. */
function fromWhere(q: Q, dialect: Dialect, source: NewRecords) {
  if ('classId' in source)
    return { from: classRecords(q, dialect, source.classId), where: sql`true` };
  const where =
    'afterId' in source ? sql`id > ${source.afterId}` : sql`id = any(${source.ids}::bigint[])`;
  return { from: sql`metric_records`, where };
}

/**
 * The log's rows of a class, or of one UTC day of it, as a table named metric_records to select
 * from. SQLite finds them through their runs, each a range of the rowid; PostgreSQL through
 * its (class, day) index.
 */
export function classRecords(q: Q, dialect: Dialect, classId: string, day?: string) {
  if (dialect === 'sqlite') {
    // CROSS JOIN: SQLite keeps the runs as the outer loop.
    let rows = q
      .selectFrom('metric_record_runs as r')
      .crossJoin('metric_records as m')
      .selectAll('m')
      .where('r.class_id', '=', classId)
      .whereRef('m.id', '>=', 'r.first_id')
      .whereRef('m.id', '<=', 'r.last_id');
    if (day !== undefined) rows = rows.where('r.day', '=', day);
    return rows.as('metric_records');
  }
  let rows = q.selectFrom('metric_records').selectAll().where('class_id', '=', classId);
  if (day !== undefined) rows = rows.where(DAY_OF_TS, '=', day);
  return rows.as('metric_records');
}

const SUMS = sql`count(*), sum(stuck), sum(got_it), sum(pause), sum(example), sum(confidence), min(ts), max(ts)`;

/**
 * Adds log rows to the daily sums per student, summed in SQL in one statement. Its rows are
 * upserted in key order, as every statement here that updates many rows: PostgreSQL writers
 * of several servers then lock the rows they share in one order and cannot deadlock.
 */
async function addToStudentDays(q: Q, dialect: Dialect, source: NewRecords): Promise<void> {
  const { from, where } = fromWhere(q, dialect, source);
  await sql`insert into class_student_day_stats
      (class_id, day, student_id, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts)
    select class_id, ${DAY_OF_TS}, student_id, ${SUMS} from ${from} where ${where}
    group by class_id, ${DAY_OF_TS}, student_id order by 1, 2, 3
    on conflict (class_id, day, student_id) do update set ${addSet('class_student_day_stats')}`.execute(
    q,
  );
}

/** Adds the log rows of days before `rolled` to class_students, in one statement. */
async function addToRolledStudents(
  q: Q,
  dialect: Dialect,
  source: NewRecords,
  rolled: string,
): Promise<void> {
  const { from, where } = fromWhere(q, dialect, source);
  await sql`insert into class_students
      (class_id, student_id, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts)
    select class_id, student_id, ${SUMS} from ${from} where ${where} and ${DAY_OF_TS} < ${rolled}
    group by class_id, student_id order by 1, 2
    on conflict (class_id, student_id) do update set ${addSet('class_students')}`.execute(q);
}

/** The next class after `after` (null: from the first) in the log or in a projection. */
async function nextClass(q: Q, dialect: Dialect, after: string | null): Promise<string | null> {
  // Four index seeks (a class whose records are all gone still has projection rows to
  // clear); the database picks the least, in its own collation, as it orders `>`. SQLite
  // finds the log's classes in its runs.
  const past = after === null ? sql`true` : sql`class_id > ${after}`;
  const log = dialect === 'sqlite' ? sql`metric_record_runs` : sql`metric_records`;
  const { rows } = await sql<{ next: string | null }>`select min(c) as next from (
      select min(class_id) as c from ${log} where ${past}
      union all select min(class_id) from class_student_day_stats where ${past}
      union all select min(class_id) from class_students where ${past}
      union all select min(class_id) from class_day_stats where ${past}) as firsts`.execute(q);
  return rows[0]?.next ?? null;
}

/**
 * Rebuilds a class's projections from its log rows, inside the caller's transaction (the
 * roll-up line stays where it is).
 */
export async function rebuildClass(q: Q, dialect: Dialect, classId: string): Promise<void> {
  const rolled = await rolledBefore(q, dialect, 'alone');
  // The records past the line go in first, so that the line can stay valid for every class.
  if (dialect === 'sqlite') await settleFromLog(q);
  await q.deleteFrom('class_student_day_stats').where('class_id', '=', classId).execute();
  await q.deleteFrom('class_students').where('class_id', '=', classId).execute();
  await q.deleteFrom('class_day_stats').where('class_id', '=', classId).execute();
  await addToStudentDays(q, dialect, { classId });
  await addToRolledStudents(q, dialect, { classId }, rolled);
  // Students the roster lacks get the next numbers, in order of their first record (the
  // numbers it has stay: they are never changed).
  await sql`insert into class_roster (class_id, student_id, ordinal)
    select class_id, student_id,
      (select coalesce(max(ordinal), -1) from class_roster where class_id = ${classId})
        + row_number() over (order by min(first_ts), student_id)
    from class_student_day_stats d
    where class_id = ${classId} and not exists (select 1 from class_roster r
      where r.class_id = d.class_id and r.student_id = d.student_id)
    group by class_id, student_id`.execute(q);
  await sql`insert into class_day_stats
      (class_id, day, n, stuck, got_it, pause, example, confidence_sum, first_ts, last_ts,
       student_set)
    select d.class_id, d.day, sum(d.n), sum(d.stuck), sum(d.got_it), sum(d.pause),
      sum(d.example), sum(d.confidence_sum), min(d.first_ts), max(d.last_ts),
      bitmap_union(bitmap_of(r.ordinal))
    from class_student_day_stats d
    join class_roster r on r.class_id = d.class_id and r.student_id = d.student_id
    where d.class_id = ${classId}
    group by d.class_id, d.day`.execute(q);
}

/** Log ids per transaction when the runs are derived again. */
const RUN_CHUNK = 100_000;

/**
 * SQLite: replaces the runs of the log's records with ids in (after, through] by runs derived
 * from the records themselves, in id order: within a (class, day), a stretch of consecutive
 * ids is a run, cut at the range's edges. A run from before the range that reaches into it is
 * cut at its edge first (none does when `after` is the line, which no run crosses, or the end
 * of the range before, whose runs were cut there; an earlier version's derivation, stopped
 * halfway, might have left one).
 */
async function deriveRuns(q: Q, after: number, through: number): Promise<void> {
  await sql`update metric_record_runs set last_id = ${after}
    where first_id <= ${after} and last_id > ${after}`.execute(q);
  await sql`delete from metric_record_runs
    where first_id > ${after} and first_id <= ${through}`.execute(q);
  await sql`insert into metric_record_runs (class_id, day, first_id, last_id)
    select class_id, day, min(id), max(id) from (
      select id, class_id, ${DAY_OF_TS} as day,
        id - row_number() over (partition by class_id, ${DAY_OF_TS} order by id) as stretch
      from metric_records where id > ${after} and id <= ${through})
    group by class_id, day, stretch`.execute(q);
}

/**
 * SQLite: derives the log's runs again from the records themselves, a range of ids per
 * transaction (see deriveRuns). Records that some other program stored without their runs (an
 * older server on the same file, a hand-made insert) are found again after this. The records
 * past the line go first, in one transaction that moves the line (so that a writer's memory of
 * them is dropped); records stored meanwhile lie past it and come with their runs.
 */
export async function rederiveRuns(db: Q, chunk = RUN_CHUNK): Promise<void> {
  const line = await db.transaction().execute((trx) => settleFromLog(trx));
  const first = await db
    .selectFrom('metric_records')
    .select((eb) => eb.fn.min('id').as('first'))
    .executeTakeFirst();
  if (first?.first === null || first?.first === undefined) return;
  for (let from = Number(first.first) - 1; from < line; from += chunk) {
    const to = Math.min(from + chunk, line);
    await db.transaction().execute((trx) => deriveRuns(trx, from, to));
  }
}

/**
 * Rebuilds every pulse projection from the log, one class per transaction, so that intake
 * waits for one class's rebuild at a time rather than for the whole log. Returns the classes.
 */
export async function rebuildProjections(db: Q, dialect: Dialect): Promise<number> {
  if (dialect === 'sqlite') await rederiveRuns(db);
  let classes = 0;
  for (
    let c = await nextClass(db, dialect, null);
    c !== null;
    c = await nextClass(db, dialect, c)
  ) {
    const classId = c;
    await db.transaction().execute((trx) => rebuildClass(trx, dialect, classId));
    classes++;
  }
  return classes;
}
