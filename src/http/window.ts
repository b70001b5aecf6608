import { parseWindow, type TimeWindow } from '../models/time.ts';
import { badRequest } from './errors.ts';

export interface WindowQuery {
  from?: string;
  to?: string;
}

/** The `from`/`to` query parameters as a half-open window, or a 400 naming the bad one. */
export function windowOf(q: WindowQuery): TimeWindow {
  const parsed = parseWindow(q.from, q.to);
  if (!parsed.ok) throw badRequest(parsed.field, parsed.message);
  return parsed.window;
}
