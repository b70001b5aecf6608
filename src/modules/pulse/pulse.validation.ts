import { externalId, UUID_RE } from '../../http/input.ts';
import { AHEAD_MESSAGE, sentInstant } from '../../models/time.ts';

/** A record that passed validation, normalised for storage. */
export interface ValidRecord {
  class_id: string;
  student_id: string;
  stuck: 0 | 1;
  got_it: 0 | 1;
  pause: 0 | 1;
  example: 0 | 1;
  confidence: number;
  ts: string;
  event_id: string | null;
}

export interface FieldError {
  field: string;
  message: string;
}

export type RecordResult = { ok: true; record: ValidRecord } | { ok: false; errors: FieldError[] };

const FLAGS = ['stuck', 'got_it', 'pause', 'example'] as const;

function flag(value: unknown): 0 | 1 | undefined {
  if (value === 0 || value === false) return 0;
  if (value === 1 || value === true) return 1;
  return undefined;
}

/**
 * Checks one metrics record and normalises it: flags become 0/1, numeric ids strings,
 * `ts` canonical UTC text (the server's time when absent), `event_id` lowercase.
 */
export function validateRecord(input: unknown, nowIso: string): RecordResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: 'record', message: 'must be a JSON object' }] };
  }
  const r = input as Record<string, unknown>;
  const errors: FieldError[] = [];

  const classId = externalId(r.class_id);
  if (typeof classId !== 'string') errors.push({ field: 'class_id', message: classId[0]! });
  const studentId = externalId(r.student_id);
  if (typeof studentId !== 'string') errors.push({ field: 'student_id', message: studentId[0]! });

  const flags: Partial<Record<(typeof FLAGS)[number], 0 | 1>> = {};
  for (const f of FLAGS) {
    const v = flag(r[f]);
    if (v === undefined) {
      errors.push({
        field: f,
        message:
          r[f] === undefined || r[f] === null ? 'is required' : 'must be 0, 1, true or false',
      });
    } else flags[f] = v;
  }

  const confidence = r.confidence;
  if (confidence === undefined || confidence === null) {
    errors.push({ field: 'confidence', message: 'is required' });
  } else if (typeof confidence !== 'number' || !Number.isFinite(confidence)) {
    errors.push({ field: 'confidence', message: 'must be a number from 1 to 10' });
  } else if (confidence < 1 || confidence > 10) {
    errors.push({ field: 'confidence', message: `must be from 1 to 10, got ${confidence}` });
  }

  let ts = nowIso;
  if (r.ts !== undefined && r.ts !== null) {
    const sent = sentInstant(r.ts, nowIso);
    if (sent === 'invalid') {
      errors.push({
        field: 'ts',
        message: 'must be an ISO-8601 date-time between 1970 and 9999, e.g. 2026-01-05T09:30:00Z',
      });
    } else if (sent === 'ahead') errors.push({ field: 'ts', message: AHEAD_MESSAGE });
    else ts = sent;
  }

  let eventId: string | null = null;
  if (r.event_id !== undefined && r.event_id !== null) {
    if (typeof r.event_id !== 'string' || !UUID_RE.test(r.event_id)) {
      errors.push({
        field: 'event_id',
        message: 'must be a UUID, e.g. 0190f5c4-8a8e-7c52-9d3e-5b1a2c3d4e5f',
      });
    } else eventId = r.event_id.toLowerCase();
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    record: {
      class_id: classId as string,
      student_id: studentId as string,
      stuck: flags.stuck!,
      got_it: flags.got_it!,
      pause: flags.pause!,
      example: flags.example!,
      confidence: confidence as number,
      ts,
      event_id: eventId,
    },
  };
}
