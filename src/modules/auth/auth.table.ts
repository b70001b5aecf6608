export const SCOPES = [
  'metrics:write',
  'events:write',
  'analytics:read',
  'export:read',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface RefreshTokenTable {
  id: string;
  /** one sign-in: every rotation stays in the family, and a reuse revokes all of it */
  family_id: string;
  user_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  /** set when rotated: presenting it again is a reuse */
  used_at: string | null;
  revoked_at: string | null;
}

export interface BackupCodeTable {
  user_id: string;
  code_hash: string;
  used_at: string | null;
}

export interface ApiKeyTable {
  id: string;
  name: string;
  /** the visible start of the key, to tell keys apart */
  prefix: string;
  key_hash: string;
  /** JSON array of scopes */
  scopes: string;
  /** JSON array of class ids the key is restricted to, or null for every class */
  class_ids: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface AuthSettingTable {
  key: string;
  value: string;
}

export interface AuthTables {
  refresh_tokens: RefreshTokenTable;
  backup_codes: BackupCodeTable;
  api_keys: ApiKeyTable;
  auth_settings: AuthSettingTable;
}
