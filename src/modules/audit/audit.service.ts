import type { FastifyBaseLogger } from 'fastify';
import { type Kysely, sql, type SqlBool } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../db/schema.ts';
import type { Principal } from '../../http/access.ts';
import { badRequest } from '../../http/errors.ts';
import { parseWindow } from '../../models/time.ts';
import type { AuditLogTable } from './audit.table.ts';

export interface AuditEntry {
  action: string;
  outcome?: 'success' | 'failure';
  /** who did it; for failed sign-ins, `actorLabel` names the email tried */
  principal?: Principal | null;
  actorLabel?: string;
  actorId?: string;
  target?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditQuery {
  action?: string;
  actor_id?: string;
  outcome?: 'success' | 'failure';
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

/** The audit log: append-only; what was done, by whom, when and from where. */
export class AuditService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Pick<FastifyBaseLogger, 'error'>,
  ) {}

  async record(e: AuditEntry): Promise<void> {
    const p = e.principal ?? null;
    const row: AuditLogTable = {
      id: uuidv7(),
      at: new Date().toISOString(),
      action: e.action,
      outcome: e.outcome ?? 'success',
      actor_type: p ? p.type : e.actorId ? 'user' : 'anonymous',
      actor_id: p ? p.id : (e.actorId ?? null),
      actor_label: p ? p.label : (e.actorLabel ?? null),
      target: e.target ?? null,
      ip: e.ip ?? null,
      details: e.details ? JSON.stringify(e.details) : null,
    };
    try {
      await this.db.insertInto('audit_log').values(row).execute();
    } catch (err) {
      // The action itself has happened; a lost audit line is logged loudly rather than hidden.
      this.log.error({ err, audit: row }, 'could not write the audit log');
    }
  }

  async list(q: AuditQuery) {
    const limit = q.limit ?? 100;
    let sel = this.db.selectFrom('audit_log').selectAll();
    if (q.action) {
      const prefix = `${q.action.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`;
      // ESCAPE is spelled out: SQLite's LIKE has none unless told (api\_key.* found nothing).
      sel = q.action.endsWith('.*')
        ? sel.where(sql<SqlBool>`${sql.ref('action')} like ${prefix} escape '\\'`)
        : sel.where('action', '=', q.action);
    }
    if (q.actor_id) sel = sel.where('actor_id', '=', q.actor_id);
    if (q.outcome) sel = sel.where('outcome', '=', q.outcome);
    const w = parseWindow(q.from, q.to);
    if (!w.ok) throw badRequest(w.field, w.message);
    if (w.window.from) sel = sel.where('at', '>=', w.window.from);
    if (w.window.to) sel = sel.where('at', '<', w.window.to);
    if (q.cursor) sel = sel.where('id', '<', q.cursor);
    const rows = await sel
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    return {
      entries: page.map((r) => ({
        ...r,
        details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
      })),
      next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
    };
  }
}
