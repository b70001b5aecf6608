import { useEffect, useRef, useState } from 'react';
import { api, ApiError, authFetch } from './api.ts';

// Live updates of a class: Server-Sent Events read with fetch(), since EventSource cannot send
// the Authorization header. Reconnects with backoff; authFetch refreshes an expired token.

export type LiveStatus = 'connecting' | 'live' | 'offline' | 'unavailable';

export interface LiveMessage {
  type: 'metrics' | 'events';
  class_id: string;
  inserted: number;
  at: string;
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Splits a text/event-stream into events; `feed` takes chunks as they arrive. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  /** The reconnection delay the server asked for (`retry:`), if any. */
  retry: number | null = null;

  constructor(private readonly emit: (e: SseEvent) => void) {}

  feed(chunk: string): void {
    let text = this.buffer + chunk;
    // A trailing '\r' may be the first half of '\r\n': keep it until the next chunk.
    const held = text.endsWith('\r') ? '\r' : '';
    if (held) text = text.slice(0, -1);
    const lines = text.split(/\r\n|\r|\n/);
    // The last piece is an unfinished line.
    this.buffer = (lines.pop() ?? '') + held;
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        this.emit({ event: this.event || 'message', data: this.data.join('\n') });
      }
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // a comment: `: ping`
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

const MAX_BACKOFF_MS = 30_000;
// Pings come every 15 s: a stream silent for longer than this is dead.
const SILENCE_MS = 40_000;

/** Listens to a class until the returned function is called. */
export function connectLive(
  classId: string,
  onMessage: (m: LiveMessage) => void,
  onStatus: (s: LiveStatus) => void,
): () => void {
  let stopped = false;
  let ctl: AbortController | null = null;
  let wait: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let serverRetry: number | null = null;

  const once = async (): Promise<'again' | 'stop'> => {
    ctl = new AbortController();
    const abort = ctl;
    let silence: ReturnType<typeof setTimeout> | undefined;
    const awake = () => {
      clearTimeout(silence);
      silence = setTimeout(() => abort.abort(), SILENCE_MS);
    };
    try {
      onStatus('connecting');
      const res = await authFetch(api.liveUrl(classId), {
        signal: abort.signal,
        headers: { accept: 'text/event-stream' },
        cache: 'no-store',
      });
      if (res.status === 403 || res.status === 404) return 'stop';
      if (!res.ok || !res.body) throw await api.errorFrom(res);
      const parser = new SseParser((e) => {
        if (e.event === 'ready') {
          failures = 0;
          onStatus('live');
        } else if (e.event === 'metrics' || e.event === 'events') {
          try {
            const m = JSON.parse(e.data) as Omit<LiveMessage, 'type'>;
            onMessage({ ...m, type: e.event });
          } catch {
            // an unreadable message: skip it
          }
        }
      });
      awake();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        awake();
        parser.feed(value);
      }
      serverRetry = parser.retry ?? serverRetry;
      return 'again';
    } catch (e) {
      // The session is over (the app goes to sign-in): nothing to reconnect.
      if (e instanceof ApiError && e.status === 401) return 'stop';
      return 'again';
    } finally {
      clearTimeout(silence);
    }
  };

  const loop = async () => {
    while (!stopped) {
      const next = await once();
      if (stopped) return;
      if (next === 'stop') {
        onStatus('unavailable');
        return;
      }
      onStatus('offline');
      failures += 1;
      const base = serverRetry ?? 1000;
      const delay = Math.min(MAX_BACKOFF_MS, base * 2 ** (failures - 1));
      await new Promise<void>((resolve) => {
        wait = setTimeout(resolve, delay * (0.8 + Math.random() * 0.4));
      });
    }
  };
  void loop();

  return () => {
    stopped = true;
    clearTimeout(wait);
    ctl?.abort();
  };
}

/**
 * The live status of a class; `onMessage` runs for each update. Reconnects on its own while the
 * component is mounted.
 */
export function useLive(classId: string, onMessage: (m: LiveMessage) => void): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(
    () =>
      connectLive(
        classId,
        (m) => handler.current(m),
        (s) => setStatus(s),
      ),
    [classId],
  );
  return status;
}
