// The task store: one JSON document per task under `<stateDir>/tasks/<id>.json`.
//
// Why files and not SQLite: better-sqlite3 needs a native build (held back by npm 11's install-script
// policy here) and Node 20 has no node:sqlite. A task is written by the one process that runs it, plus
// rarely by another (`tasks sync`, `tasks cancel`), so contention is per task, never store-wide. Every
// write is a read-modify-write of that task's file under a per-file lock (proper-lockfile, a `.lock`
// directory: atomic on every filesystem, broken when stale after a crash) and lands through
// write-file-atomic (temp file + rename), so readers never see half a document and two writers never
// lose each other's change. Listing reads the directory, which needs no lock at all.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import type { StepStatus, TaskStatus } from '../engine/types.js';
import type { Usage } from '../generate/types.js';
import type { TaskRequest } from '../config/request.js';
import type { Plan } from '../plan/types.js';

/** Statuses after which nothing more happens to a task on its own (merged comes from `tasks sync`). */
export const FINISHED: ReadonlySet<TaskStatus> = new Set(['pr_created', 'merged', 'failed', 'unproven', 'cancelled', 'denied']);

/** Verified is the end only of a --no-pr run; the recorded result (exit code) says so either way. */
export function isFinished(task: Pick<StoredTask, 'status' | 'exitCode'>): boolean {
  return task.exitCode !== null || FINISHED.has(task.status);
}

export interface StoredStep {
  id: string;
  tool: string;
  status: StepStatus;
  summary: string;
  attempt: number;
  round: number;
  mode: 'baseline' | 'change';
  durationMs: number;
  at: string;
}

export interface StoredTask {
  id: string;
  status: TaskStatus;
  reason: string | null;
  request: TaskRequest;
  /**
   * Who runs it: a `run` process, a `serve` process (which runs many), or a queue worker (`autodev
   * worker`, named in `worker`, on any machine: its pid means nothing here).
   */
  owner: { kind: 'run' | 'serve' | 'worker'; pid: number | null; worker?: string };
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  plan: Plan | null;
  /** The step running now (from step.started), null between steps and after the end. */
  currentStep: string | null;
  steps: StoredStep[];
  history: { status: TaskStatus; at: string; reason?: string }[];
  usage: Usage;
  pr: {
    url: string;
    number: number;
    draft: boolean;
    updated: boolean;
    state?: 'open' | 'closed' | 'merged';
    mergeCommit?: string | null;
    syncedAt?: string;
  } | null;
  change: { branch: string; commit: string; files: string[]; diff: string } | null;
  pushed: { remote: string; branch: string } | null;
  policy: { engine: string; decision: string; reasons: { code: string; message: string }[] } | null;
  verification: Record<string, string>;
  notes: string[];
  workspace: string | null;
  /** Set by `tasks cancel` / the API; the owner aborts the task when it sees it. */
  cancelRequested: string | null;
  /**
   * With a queue (`serve --queue`): the runs workers started (more than one: a worker died or stopped
   * mid-task and another took it again), which worker has it, and how long it waited for its first.
   */
  queue?: { attempts: number; worker: string | null; waitedMs: number | null };
  /** The revert PR of `tasks revert`; its state comes from `tasks sync`. */
  revert: { url: string; number: number; branch: string; state?: 'open' | 'closed' | 'merged' } | null;
  /** `lifecycle.auto_revert` tried this task's merge once (the failing checks; the error if the revert failed). */
  autoRevert?: { at: string; checks: string[]; error?: string };
}

export interface TaskStore {
  readonly dir: string;
  fileOf(id: string): string;
  /** Creates the task's file; fails if the id is taken. */
  create(task: StoredTask): Promise<void>;
  get(id: string): Promise<StoredTask | null>;
  /** Every readable task, newest first. */
  list(): Promise<StoredTask[]>;
  /** Locked read-modify-write; returns the new document, or null when the task does not exist. */
  update(id: string, mutate: (task: StoredTask) => void): Promise<StoredTask | null>;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function isTaskId(id: string): boolean {
  return ID.test(id) && !id.includes('..');
}

export function emptyUsage(): Usage {
  return { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: null, calls: 0 };
}

export function newStoredTask(id: string, request: TaskRequest, owner: StoredTask['owner'], status: TaskStatus = 'pending'): StoredTask {
  const now = new Date().toISOString();
  return {
    id,
    status,
    reason: null,
    request,
    owner,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    plan: null,
    currentStep: null,
    steps: [],
    history: [{ status, at: now }],
    usage: emptyUsage(),
    pr: null,
    change: null,
    pushed: null,
    policy: null,
    verification: {},
    notes: [],
    workspace: null,
    cancelRequested: null,
    revert: null,
  };
}

/** `<stateDir>/tasks`. */
export function tasksDir(stateDirectory: string): string {
  return join(stateDirectory, 'tasks');
}

export function createTaskStore(stateDirectory: string): TaskStore {
  const dir = tasksDir(stateDirectory);
  let made = false;
  async function ensureDir(): Promise<void> {
    if (made) return;
    // Requests and results can hold code and prompts: owner-only, like the audit trail.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    made = true;
  }

  function fileOf(id: string): string {
    if (!isTaskId(id)) throw new Error(`not a task id: ${JSON.stringify(id)}`);
    return join(dir, `${id}.json`);
  }

  async function read(file: string): Promise<StoredTask | null> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as StoredTask;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      // Writes are atomic, so a file that does not parse was not written by us; skip it, never crash a listing.
      if (error instanceof SyntaxError) return null;
      throw error;
    }
  }

  async function write(file: string, task: StoredTask): Promise<void> {
    await writeFileAtomic(file, `${JSON.stringify(task, null, 2)}\n`, { mode: 0o600 });
  }

  async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
    await ensureDir();
    const release = await lockfile.lock(file, {
      realpath: false,
      stale: 10_000,
      // The default throws from a timer (crashing the run); a lock someone removed costs at worst one update.
      onCompromised: () => {},
      retries: { retries: 200, factor: 1.2, minTimeout: 5, maxTimeout: 100, randomize: true },
    });
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  return {
    dir,
    fileOf,
    async create(task) {
      const file = fileOf(task.id);
      await withLock(file, async () => {
        if ((await read(file)) !== null) throw new Error(`task ${task.id} already exists`);
        await write(file, task);
      });
    },
    async get(id) {
      if (!isTaskId(id)) return null;
      return read(fileOf(id));
    },
    async list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const ids = names
        .filter((name) => name.endsWith('.json'))
        .map((name) => name.slice(0, -'.json'.length))
        .filter(isTaskId);
      const tasks = (await Promise.all(ids.map((id) => read(fileOf(id))))).filter((t): t is StoredTask => t !== null);
      return tasks.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
    },
    async update(id, mutate) {
      if (!isTaskId(id)) return null;
      const file = fileOf(id);
      return withLock(file, async () => {
        const task = await read(file);
        if (task === null) return null;
        mutate(task);
        task.updatedAt = new Date().toISOString();
        await write(file, task);
        return task;
      });
    },
  };
}
