import { type Kysely, Migrator } from 'kysely';
import { migrations } from './migrations/index.ts';

/**
 * Applies every pending migration; returns the names of those it applied. With a PostgreSQL
 * schema, the migration bookkeeping lives in that schema too (Kysely would otherwise find
 * another schema's tables and skip creating its own).
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
