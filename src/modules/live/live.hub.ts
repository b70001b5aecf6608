import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

/** What a live view is told after a commit: a class got new signals or new learning events. */
export interface LiveMessage {
  type: 'metrics' | 'events';
  class_id: string;
  inserted: number;
  at: string;
}

/**
 * Fan-out of commit notices to the open live views. In one process by default; through Redis
 * pub/sub when REDIS_URL is set, so that every server behind a load balancer hears every write.
 */
export class LiveHub {
  private readonly local = new EventEmitter();
  private readonly pub: Redis | undefined;
  private readonly sub: Redis | undefined;
  private readonly closers = new Set<() => void>();

  constructor(
    private readonly log: Pick<FastifyBaseLogger, 'warn' | 'error'>,
    redisUrl?: string,
    private readonly channel = 'learntwin:live',
  ) {
    this.local.setMaxListeners(0);
    if (redisUrl) {
      this.pub = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      this.sub = new Redis(redisUrl);
      for (const r of [this.pub, this.sub]) {
        r.on('error', (err) => this.log.warn({ err: err.message }, 'live updates: Redis error'));
      }
      this.sub.on('message', (_channel, text: string) => {
        try {
          this.deliver(JSON.parse(text) as LiveMessage);
        } catch (err) {
          this.log.warn({ err }, 'live updates: unreadable message');
        }
      });
    }
  }

  /** Resolves once the Redis subscription (if any) is in place. */
  async start(): Promise<void> {
    await this.sub?.subscribe(this.channel);
  }

  publish(type: LiveMessage['type'], perClass: Map<string, number>): void {
    const at = new Date().toISOString();
    for (const [class_id, inserted] of perClass) {
      const msg: LiveMessage = { type, class_id, inserted, at };
      if (!this.pub) {
        this.deliver(msg);
        continue;
      }
      // Every process, this one included, hears it back from Redis; if Redis cannot take it,
      // at least the views on this process are told.
      this.pub.publish(this.channel, JSON.stringify(msg)).catch((err: Error) => {
        this.log.warn({ err: err.message }, 'live updates: publish failed; delivering locally');
        this.deliver(msg);
      });
    }
  }

  private deliver(msg: LiveMessage): void {
    this.local.emit(msg.class_id, msg);
  }

  /** Listens to one class; `onClose` runs when the hub shuts down. Returns the unsubscribe. */
  subscribe(classId: string, fn: (m: LiveMessage) => void, onClose: () => void): () => void {
    this.local.on(classId, fn);
    this.closers.add(onClose);
    return () => {
      this.local.off(classId, fn);
      this.closers.delete(onClose);
    };
  }

  async close(): Promise<void> {
    for (const close of [...this.closers]) close();
    this.closers.clear();
    this.sub?.disconnect();
    this.pub?.disconnect();
  }
}
