export interface AuditLogTable {
  id: string;
  at: string;
  /** e.g. auth.login, api_key.create, user.role_change, export, mastery.recompute */
  action: string;
  outcome: 'success' | 'failure';
  actor_type: 'user' | 'api_key' | 'anonymous';
  actor_id: string | null;
  /** email or key name, as it was at the time */
  actor_label: string | null;
  target: string | null;
  ip: string | null;
  /** JSON object, or null */
  details: string | null;
}

export interface AuditTables {
  audit_log: AuditLogTable;
}
