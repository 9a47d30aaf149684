// Rollback (`lifecycle.auto_revert`): when the checks of an autodev pull request's merge commit fail
// and the same checks passed on the commit before it, the merge is what broke the base branch: open
// a revert pull request, exactly as `tasks revert` does, once per task (recorded in the store).
import type { Env } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Exec, FollowupForge, Forge, Git } from '../ports/types.js';
import type { StoredTask, TaskStore } from '../store/task-store.js';
import { redact } from '../util/redact.js';
import { revertTask, pullRef } from './task-sync.js';

const FAILED = new Set(['failure', 'timed_out']);

export interface AutoRevert {
  id: string;
  pr: string;
  /** What happened: a revert opened, or why not (yet). */
  outcome: 'reverted' | 'checks-pending' | 'not-caused' | 'passing' | 'error';
  detail: string;
  revert?: string;
}

/** Merged autodev tasks not reverted nor tried yet (`onlyCommit`: the one whose merge commit that is). */
function candidates(tasks: StoredTask[], onlyCommit?: string): StoredTask[] {
  return tasks.filter(
    (t) =>
      !t.request.followup &&
      t.pr?.state === 'merged' &&
      typeof t.pr.mergeCommit === 'string' &&
      !t.revert &&
      !t.autoRevert &&
      (onlyCommit === undefined || t.pr.mergeCommit === onlyCommit),
  );
}

/**
 * Checks each candidate and opens the revert pull requests that are due. Never throws for one task:
 * its failure is in its entry (and recorded, so it is not tried again).
 */
export async function autoRevertMerged(input: {
  store: TaskStore;
  config: Config;
  env: Env;
  git: Git;
  exec: Exec;
  forge: Pick<Forge, 'upsertPullRequest'> & Pick<FollowupForge, 'listCheckRuns' | 'getCommitParents'>;
  onlyCommit?: string;
}): Promise<AutoRevert[]> {
  const { store, forge } = input;
  const out: AutoRevert[] = [];
  for (const task of candidates(await store.list(), input.onlyCommit)) {
    const ref = pullRef(task.pr!.url);
    if (!ref) continue;
    const sha = task.pr!.mergeCommit!;
    const entry: AutoRevert = { id: task.id, pr: task.pr!.url, outcome: 'passing', detail: '' };
    try {
      const runs = await forge.listCheckRuns(ref.owner, ref.repo, sha);
      const broken = runs.filter((r) => r.status === 'completed' && r.conclusion !== null && FAILED.has(r.conclusion));
      if (broken.length === 0) {
        const pending = runs.some((r) => r.status !== 'completed');
        entry.outcome = pending ? 'checks-pending' : 'passing';
        entry.detail = pending ? `checks of ${sha.slice(0, 8)} still running` : `no failed check on ${sha.slice(0, 8)}`;
        out.push(entry);
        continue;
      }
      const [parent] = await forge.getCommitParents(ref.owner, ref.repo, sha);
      const before = parent ? await forge.listCheckRuns(ref.owner, ref.repo, parent) : [];
      const passedBefore = (name: string) => before.some((r) => r.name === name && r.conclusion === 'success');
      const names = broken.map((r) => r.name);
      if (!parent || !names.every(passedBefore)) {
        entry.outcome = 'not-caused';
        entry.detail = `${names.join(', ')} failed on ${sha.slice(0, 8)} but did not pass on the commit before it`;
        out.push(entry);
        continue;
      }
      const at = new Date().toISOString();
      // Recorded before the revert is attempted: once per task, whatever happens next.
      await store.update(task.id, (t) => {
        t.autoRevert = { at, checks: names };
      });
      const revert = await revertTask({ task, store, config: input.config, env: input.env, git: input.git, exec: input.exec, forge });
      await store.update(task.id, (t) => {
        t.notes.push(`auto-reverted (${at}): ${names.join(', ')} failed on the merge commit and passed before it; revert ${revert.url}`);
      });
      entry.outcome = 'reverted';
      entry.detail = `${names.join(', ')} failed on ${sha.slice(0, 8)} and passed on ${parent.slice(0, 8)}`;
      entry.revert = revert.url;
    } catch (error) {
      entry.outcome = 'error';
      entry.detail = redact((error as Error).message);
      await store
        .update(task.id, (t) => {
          if (t.autoRevert) t.autoRevert.error = entry.detail;
        })
        .catch(() => undefined);
    }
    out.push(entry);
  }
  return out;
}
