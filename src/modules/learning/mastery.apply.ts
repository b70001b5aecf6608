import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import * as repo from './learning.repository.ts';
import * as store from './learning.store.ts';
import type { ConceptMasteryTable } from './learning.table.ts';
import { type AttemptLike, compareAttempts, fold, paramsFrom } from './mastery.model.ts';

type Attempt = AttemptLike & { user_id: string; concept_id: string };
const key = store.pairKey;

/**
 * Folds newly stored attempts into the mastery projection, inside the intake transaction. An
 * attempt older than the last one applied to its (learner, concept) triggers a replay of that
 * pair from the log, so the state is the same as if everything had arrived in order.
 */
export async function applyAttempts(
  trx: Kysely<Database>,
  ctx: store.StoreContext,
  attempts: Attempt[],
): Promise<void> {
  if (attempts.length === 0) return;
  const byKey = new Map<string, Attempt[]>();
  for (const a of attempts) {
    const k = key(a.user_id, a.concept_id);
    const list = byKey.get(k);
    if (list) list.push(a);
    else byKey.set(k, [a]);
  }
  const keys = [...byKey.values()].map((l) => ({
    user_id: l[0]!.user_id,
    concept_id: l[0]!.concept_id,
  }));
  const current = new Map(
    (await store.masteryOf(trx, ctx, keys)).map((r) => [key(r.user_id, r.concept_id), r]),
  );
  const params = await repo.paramsOf(trx, [...new Set(keys.map((k) => k.concept_id))]);
  // A pair whose first new attempt is older than the last one applied is replayed from the
  // log (which holds this flush's attempts already); the replays' sequences come in one read.
  const late: Attempt[][] = [];
  const out: ConceptMasteryTable[] = [];
  for (const [k, list] of byKey) {
    if (list.length > 1) list.sort(compareAttempts);
    const { user_id, concept_id } = list[0]!;
    const state = current.get(k);
    if (
      state !== undefined &&
      compareAttempts(list[0]!, {
        occurred_at: state.last_attempt_at,
        event_id: state.last_event_id,
      }) < 0
    ) {
      late.push(list);
      continue;
    }
    out.push({ user_id, concept_id, ...fold(state, list, paramsFrom(params.get(concept_id))) });
  }
  if (late.length > 0) {
    const replays = await store.attemptsOfPairs(
      trx,
      ctx,
      late.map((l) => ({ user_id: l[0]!.user_id, concept_id: l[0]!.concept_id })),
    );
    for (const list of late) {
      const { user_id, concept_id } = list[0]!;
      const sequence = replays.get(key(user_id, concept_id)) ?? [];
      out.push({
        user_id,
        concept_id,
        ...fold(undefined, sequence, paramsFrom(params.get(concept_id))),
      });
    }
  }
  await store.saveMastery(trx, ctx, out);
}
