import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ApiKeyTable, RefreshTokenTable } from './auth.table.ts';

type Q = Kysely<Database>;

/** Keeps the first value ever stored under a key, so that every process agrees on it. */
export async function settingOrInit(db: Q, key: string, make: () => string): Promise<string> {
  await db
    .insertInto('auth_settings')
    .values({ key, value: make() })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const r = await db
    .selectFrom('auth_settings')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  return r.value;
}

export const insertRefreshToken = (db: Q, row: RefreshTokenTable) =>
  db.insertInto('refresh_tokens').values(row).execute();

export const refreshTokenByHash = (db: Q, hash: string) =>
  db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();

/** Marks a token used if nobody has yet: false when another request got there first. */
export async function claimRefreshToken(db: Q, id: string, at: string): Promise<boolean> {
  const r = await db
    .updateTable('refresh_tokens')
    .set({ used_at: at })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const revokeFamily = (db: Q, familyId: string, at: string) =>
  db
    .updateTable('refresh_tokens')
    .set({ revoked_at: at })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();

/** Has any token of this sign-in been revoked (a reuse was seen, or a logout)? */
export async function familyRevoked(db: Q, familyId: string): Promise<boolean> {
  const r = await db
    .selectFrom('refresh_tokens')
    .select('id')
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

export const revokeUserTokens = (db: Q, userId: string, at: string) =>
  db
    .updateTable('refresh_tokens')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();

export async function replaceBackupCodes(db: Q, userId: string, hashes: string[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
    if (hashes.length) {
      await trx
        .insertInto('backup_codes')
        .values(hashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null })))
        .execute();
    }
  });
}

/** Uses up a backup code: true only for the one request that consumed it. */
export async function consumeBackupCode(db: Q, userId: string, hash: string, at: string) {
  const r = await db
    .updateTable('backup_codes')
    .set({ used_at: at })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function unusedBackupCodes(db: Q, userId: string): Promise<number> {
  const r = await db
    .selectFrom('backup_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Accepts a TOTP step only if it is later than the last one accepted (no replays, no races). */
export async function advanceTotpStep(db: Q, userId: string, step: number): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const insertApiKey = (db: Q, row: ApiKeyTable) =>
  db.insertInto('api_keys').values(row).execute();

export const apiKeyByHash = (db: Q, hash: string) =>
  db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();

export const apiKeyById = (db: Q, id: string) =>
  db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();

export const listApiKeys = (db: Q, includeRevoked: boolean) => {
  let q = db.selectFrom('api_keys').selectAll();
  if (!includeRevoked) q = q.where('revoked_at', 'is', null);
  return q.orderBy('created_at', 'desc').execute();
};

export async function revokeApiKey(db: Q, id: string, at: string): Promise<boolean> {
  const r = await db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const touchApiKey = (db: Q, id: string, at: string) =>
  db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
