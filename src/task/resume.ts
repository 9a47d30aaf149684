// Resuming a task whose process died (SIGKILL, a crash, a reboot before the temp dir was cleared) or
// that failed with --keep-workspace: the runner leaves `<workspace>/autodev-state.json` behind after
// every finished step (the plan and the task's blackboard), so `run --resume <id>` can pick up after
// the last step that finished ok instead of cloning, searching and asking the model again.
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { EngineEvent, RunMode, StepStatus } from '../engine/types.js';
import type { Plan } from '../plan/types.js';
import type { Exec } from '../ports/types.js';
import type { TaskState } from '../steps/types.js';
import { isStale } from '../store/control.js';
import type { StoredTask, TaskStore } from '../store/task-store.js';
import { UsageError } from '../util/errors.js';
import { redactDeep } from '../util/redact.js';
import type { Workspace } from './prepare.js';

export const SNAPSHOT_FILE = 'autodev-state.json';
const SNAPSHOT_VERSION = 1;

/** One finished step attempt, as much as choosing where to resume needs. */
export interface FinishedStep {
  id: string;
  mode: RunMode;
  round: number;
  status: StepStatus;
}

/** What `<workspace>/autodev-state.json` holds. */
export interface ResumeSnapshot {
  version: typeof SNAPSHOT_VERSION;
  taskId: string;
  savedAt: string;
  plan: Plan;
  state: TaskState;
  finished: FinishedStep[];
}

/** Everything runTask needs to continue a task in its existing workspace. */
export interface ResumeFrom {
  workspace: Workspace;
  /** The plan as recorded (what the result reports). */
  plan: Plan;
  /** The plan the engine walks: the repair budget already spent is taken off. */
  enginePlan: Plan;
  state: TaskState;
  finished: FinishedStep[];
  startAt: string;
}

export interface SnapshotWriter {
  /** Feed every engine event; a finished step writes the snapshot before anyone else hears of it. */
  onEvent(event: EngineEvent): void;
}

/**
 * Writes the snapshot after every finished step, synchronously and atomically (temp file + rename):
 * the next step must not start before it is on disk, or a kill in that step would resume too early.
 * TaskState holds no credentials (they live in the ports), but it holds model output and tool output,
 * so it is redacted like everything else the tool writes.
 */
export function createSnapshotWriter(options: {
  workspaceDir: string;
  taskId: string;
  state: TaskState;
  plan: () => Plan | null;
  finished?: FinishedStep[];
  warn: (message: string) => void;
}): SnapshotWriter {
  const finished: FinishedStep[] = [...(options.finished ?? [])];
  const file = path.join(options.workspaceDir, SNAPSHOT_FILE);
  let warned = false;
  return {
    onEvent(event) {
      if (event.type !== 'step.finished' || event.taskId !== options.taskId) return;
      finished.push({ id: event.stepId, mode: event.mode, round: event.round, status: event.status });
      // The clone finishes before the plan exists: it is written with the first step after it.
      const plan = options.plan();
      if (!plan) return;
      const snapshot: ResumeSnapshot = {
        version: SNAPSHOT_VERSION,
        taskId: options.taskId,
        savedAt: new Date().toISOString(),
        plan,
        state: options.state,
        finished,
      };
      try {
        // No fsync: the snapshot is for a run that was killed, and a killed process's writes are in the
        // page cache already; the rename keeps it whole. An fsync per step held the engine up to a
        // disk flush each time (~0.1 s a run on a busy machine), for a machine crash alone.
        writeFileAtomic.sync(file, `${JSON.stringify(redactDeep(snapshot))}\n`, { mode: 0o600, fsync: false });
      } catch (error) {
        // A full disk must not fail the task; it only makes it unresumable.
        if (!warned) options.warn(`cannot save the resume state to ${file}: ${(error as Error).message}`);
        warned = true;
      }
    },
  };
}

export async function readSnapshot(workspaceDir: string): Promise<ResumeSnapshot | null> {
  let text: string;
  try {
    text = await readFile(path.join(workspaceDir, SNAPSHOT_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let parsed: Partial<ResumeSnapshot>;
  try {
    parsed = JSON.parse(text) as Partial<ResumeSnapshot>;
  } catch {
    return null;
  }
  const valid =
    parsed.version === SNAPSHOT_VERSION &&
    typeof parsed.taskId === 'string' &&
    Array.isArray(parsed.plan?.steps) &&
    typeof parsed.state === 'object' &&
    parsed.state !== null &&
    Array.isArray(parsed.finished);
  return valid ? (parsed as ResumeSnapshot) : null;
}

/**
 * Where to continue: the step after the last one that finished ok in change mode. Inside the repair
 * loop that is the first step that did not finish ok: the workspace holds the change applied in that
 * round (a resumed apply resets to the base itself). Baseline runs do not count: the engine repeats
 * the baseline pass when it resumes at or before the loop's start. The repair rounds already spent
 * (those before the last good step's round) come off the budget.
 */
export function resumePoint(
  plan: Plan,
  finished: readonly FinishedStep[],
): { startAt: string; roundsUsed: number; lastGood: FinishedStep | null } {
  const lastGood = [...finished].reverse().find((f) => f.mode === 'change' && f.status === 'ok') ?? null;
  const after = lastGood ? plan.steps.findIndex((s) => s.id === lastGood.id) + 1 : 0;
  // Everything finished but the process died before recording the end: the last step (push/pr) is idempotent.
  const index = Math.min(Math.max(after, 0), plan.steps.length - 1);
  return { startAt: plan.steps[index].id, roundsUsed: lastGood?.round ?? 0, lastGood };
}

/** The plan the engine walks on resume: the same steps, with the rounds spent taken off the budget. */
export function planWithBudgetLeft(plan: Plan, roundsUsed: number): Plan {
  if (!plan.repair || roundsUsed <= 0) return plan;
  return { ...plan, repair: { ...plan.repair, budget: Math.max(0, plan.repair.budget - roundsUsed) } };
}

/** The workspace of an earlier run, removed at the end like a fresh one. */
export function existingWorkspace(dir: string): Workspace {
  return {
    dir,
    repoDir: path.join(dir, 'repo'),
    remove: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}

/** A task has succeeded when it ended well (exit 0) or got as far as its pull request. */
export function hasSucceeded(task: Pick<StoredTask, 'status' | 'exitCode'>): boolean {
  return task.exitCode === 0 || task.status === 'pr_created' || task.status === 'merged';
}

const AGAIN = 'start it again without --resume';

/**
 * Loads what resuming `id` needs, or refuses in one line (exit 2): unknown id, already succeeded,
 * still running, workspace or resume state gone, or the checkout no longer at its base commit.
 */
export async function prepareResume(input: {
  store: TaskStore;
  id: string;
  exec: Exec;
  env: Record<string, string | undefined>;
}): Promise<{ task: StoredTask; resume: ResumeFrom }> {
  const { store, id } = input;
  const task = await store.get(id);
  if (!task) throw new UsageError(`cannot resume: no task ${JSON.stringify(id)} in ${store.dir}`, 'see `autodev tasks list`');
  if (hasSucceeded(task)) throw new UsageError(`cannot resume task ${id}: it already succeeded (${task.status})`);
  if (task.exitCode === null && !isStale(task)) {
    throw new UsageError(
      `cannot resume task ${id}: it is still running (${task.owner.kind} process ${task.owner.pid})`,
      'wait for it, or `autodev tasks cancel` it first',
    );
  }
  if (!task.workspace || !(await isDirectory(task.workspace))) {
    throw new UsageError(`cannot resume task ${id}: its workspace ${task.workspace ? `${task.workspace} ` : ''}is gone`, AGAIN);
  }
  const workspace = existingWorkspace(task.workspace);
  const snapshot = await readSnapshot(workspace.dir);
  if (!snapshot || snapshot.taskId !== id) {
    throw new UsageError(
      `cannot resume task ${id}: no resume state in ${workspace.dir} (it stopped before its first step finished)`,
      AGAIN,
    );
  }
  const state: TaskState = { ...snapshot.state, repoDir: workspace.repoDir };
  if (!state.baseCommit || !(await checkoutIntact(input.exec, workspace.repoDir, state.baseCommit, input.env))) {
    throw new UsageError(
      `cannot resume task ${id}: the checkout in ${workspace.repoDir} is damaged (base commit ${state.baseCommit?.slice(0, 12) ?? 'unknown'} not found)`,
      AGAIN,
    );
  }
  // The killed process may have died inside a git command; its lock would fail every later one.
  await rm(path.join(workspace.repoDir, '.git', 'index.lock'), { force: true });
  const { startAt, roundsUsed } = resumePoint(snapshot.plan, snapshot.finished);
  return {
    task,
    resume: {
      workspace,
      plan: snapshot.plan,
      enginePlan: planWithBudgetLeft(snapshot.plan, roundsUsed),
      state,
      finished: snapshot.finished,
      startAt,
    },
  };
}

async function isDirectory(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false;
  return (await stat(dir)).isDirectory();
}

async function checkoutIntact(exec: Exec, repoDir: string, baseCommit: string, env: Record<string, string | undefined>): Promise<boolean> {
  if (!existsSync(path.join(repoDir, '.git'))) return false;
  const result = await exec.run(['git', '-C', repoDir, 'rev-parse', '--verify', '--quiet', `${baseCommit}^{commit}`], {
    env: { PATH: env.PATH ?? process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', LANG: 'C' },
    timeoutMs: 30_000,
  });
  return result.exitCode === 0 && result.stdout.trim().startsWith(baseCommit);
}
