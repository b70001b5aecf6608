import type { Db } from '../db/database.ts';
import { EventsService } from '../modules/learning/events.service.ts';
import { PulseIngest } from '../modules/pulse/pulse.ingest.ts';
import { type DemoEvent, demoEvents } from './events.ts';
import { type DemoOptions, type DemoRecord, demoRecords, planDemo } from './generate.ts';
import type { Focus } from './profiles.ts';

export const DEMO_BATCH_SIZE = 10_000;

export interface LoadDemoOptions extends DemoOptions {
  /** Records per ingest call; at most DEMO_BATCH_SIZE (the API's default per-request limit). */
  batchSize?: number;
  /** Called after each batch, e.g. for a progress line. */
  onBatch?: (done: { records: number; inserted: number; duplicates: number }) => void;
}

export interface LoadDemoResult {
  classes: { id: string; focus: Focus; students: number; records: number }[];
  students: number;
  records: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  /** Earliest and latest record timestamps (null when nothing was generated). */
  from: string | null;
  to: string | null;
  /** The school days covered (YYYY-MM-DD). */
  days: string[];
  /** Learning events (quiz attempts, lessons completed) generated and stored. */
  events: { total: number; inserted: number; duplicates: number };
}

/**
 * Generates the demo data set and stores it through the ingest path the API uses, so that the
 * projections are kept current and the deterministic event ids make a second run a no-op.
 */
export async function loadDemo(database: Db, options: LoadDemoOptions): Promise<LoadDemoResult> {
  const { db } = database;
  const batchSize = Math.min(DEMO_BATCH_SIZE, Math.max(1, options.batchSize ?? DEMO_BATCH_SIZE));
  const plan = planDemo(options);
  const ingest = new PulseIngest(database.writer, batchSize);
  const perClass = new Map(plan.classes.map((c) => [c.id, 0]));
  const result: LoadDemoResult = {
    classes: [],
    students: plan.classes.reduce((n, c) => n + c.students.length, 0),
    records: 0,
    inserted: 0,
    duplicates: 0,
    rejected: 0,
    from: null,
    to: null,
    days: plan.days,
    events: { total: 0, inserted: 0, duplicates: 0 },
  };

  const flush = async (batch: DemoRecord[]) => {
    const r = await ingest.ingest(batch);
    result.inserted += r.inserted;
    result.duplicates += r.duplicates;
    result.rejected += r.rejected.length;
    options.onBatch?.({
      records: result.records,
      inserted: result.inserted,
      duplicates: result.duplicates,
    });
  };

  let batch: DemoRecord[] = [];
  for (const rec of demoRecords(plan)) {
    batch.push(rec);
    result.records++;
    perClass.set(rec.class_id, perClass.get(rec.class_id)! + 1);
    if (result.from === null || rec.ts < result.from) result.from = rec.ts;
    if (result.to === null || rec.ts > result.to) result.to = rec.ts;
    if (batch.length === batchSize) {
      await flush(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await flush(batch);
  await ingest.close();

  // Learning events go through the event intake too, so concept mastery is kept as the API would.
  const events = new EventsService(db, database.writer, batchSize);
  let eventBatch: DemoEvent[] = [];
  const flushEvents = async () => {
    const r = await events.ingest(eventBatch);
    result.events.inserted += r.inserted;
    result.events.duplicates += r.duplicates;
    eventBatch = [];
  };
  for (const e of demoEvents(plan)) {
    eventBatch.push(e);
    result.events.total++;
    if (eventBatch.length === batchSize) await flushEvents();
  }
  if (eventBatch.length > 0) await flushEvents();
  await events.close();

  result.classes = plan.classes.map((c) => ({
    id: c.id,
    focus: c.profile.focus,
    students: c.students.length,
    records: perClass.get(c.id)!,
  }));
  return result;
}
