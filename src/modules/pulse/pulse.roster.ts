/**
 * Roster numbers: each class numbers its students from 0 in order of arrival, and a student's
 * number is their bit in the student sets of class_day_stats. A number, once committed, never
 * changes, so the writer keeps the numbers it has seen in memory and asks the database only
 * for students it has not seen yet (in a live class: none).
 */
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';

type Q = Kysely<Database>;

/** Roster numbers per class, then per student. */
export type Ordinals = Map<string, Map<string, number>>;

/** Students remembered per connection; past this, the classes used longest ago are dropped. */
const MAX_REMEMBERED = 200_000;
/** Rows per statement when a large class arrives all at once. */
const CHUNK = 500;
/** PostgreSQL: first key of the transaction lock under which a class's new students get numbers. */
const ROSTER_LOCK = 73_492_012;

class RosterMemory {
  private readonly classes: Ordinals = new Map();
  private size = 0;

  get(classId: string): Map<string, number> | undefined {
    return this.classes.get(classId);
  }

  /** Marks the classes as just used and adds what was learned about them. */
  remember(used: Iterable<string>, learned: Ordinals): void {
    for (const classId of used) {
      const m = this.classes.get(classId);
      if (!m) continue;
      this.classes.delete(classId);
      this.classes.set(classId, m);
    }
    for (const [classId, students] of learned) {
      let m = this.classes.get(classId);
      if (!m) this.classes.set(classId, (m = new Map()));
      for (const [s, o] of students) {
        if (!m.has(s)) this.size++;
        m.set(s, o);
      }
    }
    for (const [classId, m] of this.classes) {
      if (this.size <= MAX_REMEMBERED) break;
      this.classes.delete(classId);
      this.size -= m.size;
    }
  }
}

const memories = new WeakMap<object, RosterMemory>();

export interface RosterNumbers {
  /** the roster number of each (classes[k], students[k]) */
  numbers: Int32Array;
  /** Call once the transaction has committed: the numbers it read or gave are remembered. */
  committed(): void;
}

/**
 * The roster number of each (classes[k], students[k]), giving students new to their class the
 * next numbers. Runs inside the caller's transaction. `key` names the connection whose memory
 * to use (numbers given in a transaction that rolls back are never remembered).
 */
export async function rosterNumbers(
  q: Q,
  dialect: Dialect,
  key: object,
  classes: readonly string[],
  students: readonly string[],
): Promise<RosterNumbers> {
  let memory = memories.get(key);
  if (!memory) memories.set(key, (memory = new RosterMemory()));
  const numbers = new Int32Array(classes.length).fill(-1);
  const used = new Set<string>();
  const missing = new Map<string, Set<string>>();
  let lastClass: string | undefined;
  let known: Map<string, number> | undefined;
  for (let k = 0; k < classes.length; k++) {
    const classId = classes[k]!;
    if (classId !== lastClass) {
      lastClass = classId;
      known = memory.get(classId);
      used.add(classId);
    }
    const o = known?.get(students[k]!);
    if (o !== undefined) {
      numbers[k] = o;
      continue;
    }
    let m = missing.get(classId);
    if (!m) missing.set(classId, (m = new Set()));
    m.add(students[k]!);
  }
  const learned: Ordinals = new Map();
  if (missing.size > 0 && dialect === 'postgres') await lockClasses(q, [...missing.keys()]);
  for (const [classId, students] of missing) {
    learned.set(classId, await numberClass(q, classId, [...students]));
  }
  if (learned.size > 0) {
    for (let k = 0; k < classes.length; k++) {
      if (numbers[k] === -1) numbers[k] = learned.get(classes[k]!)!.get(students[k]!)!;
    }
  }
  return { numbers, committed: () => memory.remember(used, learned) };
}

/**
 * PostgreSQL: another server may be numbering the same classes' new students at the same
 * moment. Each class has a transaction lock, keyed by a hash of its id; they are taken in the
 * order of those keys, each once, so that two writers whose classes share a key (a hash
 * collision) still take their locks in one order and cannot deadlock.
 */
async function lockClasses(q: Q, classes: string[]): Promise<void> {
  const { rows } = await sql<{ k: number }>`select distinct
      hashtext(current_schema() || ':' || c) as k from unnest(${classes}::text[]) as c
    order by k`.execute(q);
  for (const { k } of rows) {
    await sql`select pg_advisory_xact_lock(${ROSTER_LOCK}, ${k}::integer)`.execute(q);
  }
}

/** The numbers of some students of a class, from the roster or given now (under its lock). */
async function numberClass(q: Q, classId: string, unknown: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < unknown.length; i += CHUNK) {
    const rows = await q
      .selectFrom('class_roster')
      .select(['student_id', 'ordinal'])
      .where('class_id', '=', classId)
      .where('student_id', 'in', unknown.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) out.set(r.student_id, Number(r.ordinal));
  }
  const added = unknown.filter((s) => !out.has(s));
  if (added.length === 0) return out;
  const last = await q
    .selectFrom('class_roster')
    .select((eb) => eb.fn.max<number | null>('ordinal').as('last'))
    .where('class_id', '=', classId)
    .executeTakeFirst();
  let next = last?.last === null || last?.last === undefined ? 0 : Number(last.last) + 1;
  const rows = added.map((student_id) => ({ class_id: classId, student_id, ordinal: next++ }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await q
      .insertInto('class_roster')
      .values(rows.slice(i, i + CHUNK))
      .execute();
  }
  for (const r of rows) out.set(r.student_id, r.ordinal);
  return out;
}
