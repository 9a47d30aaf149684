// After the run: what became of a task's pull request (`tasks sync`), and undoing a merged change
// (`tasks revert`). Both work on the stored task and report through the same events as a run, so the
// merge and revert metrics and the audit trail stay fed by events only.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Env } from '../config/load.js';
import type { EngineEvent } from '../engine/types.js';
import type { Exec, Forge, Git } from '../ports/types.js';
import { isFinished, type StoredTask, type TaskStore } from '../store/task-store.js';
import { ExternalError, UsageError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { mergedEvent } from '../engine/lifecycle.js';

/** owner, repo and number of a PR from its web URL (`https://HOST/OWNER/REPO/pull/N`). */
export function pullRef(url: string): { owner: string; repo: string; number: number } | null {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return null;
  }
  const match = /\/([^/]+)\/([^/]+)\/pull\/(\d+)\/?$/.exec(pathname);
  return match ? { owner: match[1], repo: match[2], number: Number(match[3]) } : null;
}

export interface SyncedTask {
  id: string;
  pr: string;
  state: 'open' | 'closed' | 'merged';
  changed: boolean;
  revert?: 'open' | 'closed' | 'merged';
  error?: string;
}

/**
 * Asks the forge about every stored PR not yet known merged or closed (and every open revert PR).
 * A newly merged PR moves the task to `merged` and emits that status (autodev_merges_total); a merged
 * revert PR calls `onRevertMerged` once (autodev_reverts_total).
 */
export async function syncTasks(input: {
  store: TaskStore;
  forge: Pick<Forge, 'getPullRequest'>;
  emit: (event: EngineEvent) => void;
  onRevertMerged: () => void;
}): Promise<SyncedTask[]> {
  const { store, forge, emit } = input;
  const out: SyncedTask[] = [];
  for (const task of await store.list()) {
    const wantsPr = task.pr && task.pr.state !== 'merged' && task.pr.state !== 'closed';
    const wantsRevert = task.revert && task.revert.state !== 'merged' && task.revert.state !== 'closed';
    if (!wantsPr && !wantsRevert) continue;
    const synced: SyncedTask = { id: task.id, pr: task.pr!.url, state: task.pr!.state ?? 'open', changed: false };
    try {
      const at = new Date().toISOString();
      let newlyMerged = false;
      let merged: ReturnType<typeof mergedEvent> = null;
      let revertMerged = false;
      let prInfo: Awaited<ReturnType<Forge['getPullRequest']>> | null = null;
      let revertState: 'open' | 'closed' | 'merged' | null = null;
      if (wantsPr) {
        const ref = pullRef(task.pr!.url);
        if (!ref) throw new Error(`cannot tell the repository from ${task.pr!.url}`);
        prInfo = await forge.getPullRequest(ref.owner, ref.repo, ref.number);
        synced.state = prInfo.state;
      }
      if (wantsRevert) {
        const ref = pullRef(task.revert!.url);
        if (ref) revertState = (await forge.getPullRequest(ref.owner, ref.repo, ref.number)).state;
        if (revertState) synced.revert = revertState;
      }
      await store.update(task.id, (t) => {
        if (prInfo && t.pr) {
          synced.changed = t.pr.state !== prInfo.state;
          newlyMerged = prInfo.state === 'merged' && t.pr.state !== 'merged';
          t.pr = { ...t.pr, state: prInfo.state, mergeCommit: prInfo.mergeCommit, syncedAt: at };
          // The lifecycle's one move outside a run: only a task at pr_created becomes merged.
          merged = newlyMerged ? mergedEvent(task.id, t.status, at) : null;
          if (merged) {
            t.status = 'merged';
            t.history.push({ status: 'merged', at });
          }
        }
        if (revertState && t.revert) {
          revertMerged = revertState === 'merged' && t.revert.state !== 'merged';
          synced.changed ||= t.revert.state !== revertState;
          t.revert = { ...t.revert, state: revertState };
        }
      });
      if (merged) emit(merged);
      if (revertMerged) input.onRevertMerged();
    } catch (error) {
      synced.error = redact((error as Error).message);
    }
    out.push(synced);
  }
  return out;
}

export interface RevertInput {
  task: StoredTask;
  store: TaskStore;
  config: Config;
  env: Env;
  git: Git;
  exec: Exec;
  forge: Pick<Forge, 'upsertPullRequest'>;
}

/** Clones the repository, reverts the merge commit on a new branch, pushes it and opens a PR. */
export async function revertTask(input: RevertInput): Promise<NonNullable<StoredTask['revert']>> {
  const { task, config, git, exec, forge } = input;
  if (!isFinished(task) || task.pr?.state !== 'merged' || !task.pr.mergeCommit) {
    throw new UsageError(
      `task ${task.id} has no merged pull request to revert (status ${task.status})`,
      'run `autodev tasks sync` first to learn about merges',
    );
  }
  if (task.revert) throw new UsageError(`task ${task.id} already has a revert pull request: ${task.revert.url}`);
  const ref = pullRef(task.pr.url)!;
  const token = input.env[config.git.github_token_env] || null;
  const base = task.plan?.base ?? task.request.base ?? null;
  const dir = await mkdtemp(join(tmpdir(), `autodev-revert-${task.id}-`));
  try {
    // A full clone: the merge commit may be anywhere in the base branch's history.
    const cloned = await git.clone({ source: task.request.repo, dest: join(dir, 'repo'), branch: base, depth: 0, token });
    const repoDir = join(dir, 'repo');
    const sha = task.pr.mergeCommit;
    const gitRun = async (args: string[]): Promise<string> => {
      const result = await exec.run(['git', ...args], { cwd: repoDir, inheritEnv: true, timeoutMs: 120_000 });
      if (result.exitCode !== 0) throw new ExternalError(`git ${args[0]} failed: ${redact(result.stderr.trim() || result.stdout.trim())}`);
      return result.stdout.trim();
    };
    const parents = (await gitRun(['rev-list', '--parents', '-n', '1', sha])).split(/\s+/).length - 1;
    const branch = `${config.git.branch_prefix}revert-${task.id}`;
    await git.createBranch(repoDir, branch);
    const identity = [`user.name=${config.git.git_author_name}`, `user.email=${config.git.git_author_email}`].flatMap((c) => ['-c', c]);
    await gitRun([...identity, 'revert', '--no-edit', ...(parents > 1 ? ['-m', '1'] : []), sha]);
    await git.push(repoDir, branch, { token });
    const title = `Revert "${task.request.title}"`.slice(0, 250);
    const pr = await forge.upsertPullRequest({
      owner: ref.owner,
      repo: ref.repo,
      head: branch,
      base: cloned.branch,
      title,
      body: `Reverts #${ref.number} (merge commit ${sha}), opened by \`autodev tasks revert ${task.id}\`.`,
      draft: false,
      labels: [],
    });
    const revert = { url: pr.url, number: pr.number, branch, state: 'open' as const };
    await input.store.update(task.id, (t) => {
      t.revert = revert;
    });
    return revert;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
