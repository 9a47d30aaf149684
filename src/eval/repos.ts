// The repositories an eval runs on. Each source repository is mirrored once (N tasks and M models
// on one repository clone it once, and a rerun not at all); each task gets a small bare repository
// of its own holding its base (with a visible test patch committed on it), which the runs clone and
// push to, so the user's repositories are never written. Grading checks out a run's result there.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Exec } from '../ports/types.js';
import type { EvalTask } from './tasks.js';

const IDENTITY = ['-c', 'user.name=autodev eval', '-c', 'user.email=eval@autodev.invalid', '-c', 'commit.gpgsign=false'];

/** The branch of a task repository holding the base the run starts from. */
export const BASE_BRANCH = 'eval/base';

export class EvalSetupError extends Error {}

async function git(exec: Exec, args: string[], options: { cwd?: string; signal?: AbortSignal; input?: string } = {}): Promise<string> {
  const result = await exec.run(['git', ...IDENTITY, ...args], {
    cwd: options.cwd,
    signal: options.signal,
    input: options.input,
    inheritEnv: true,
    // Never ask for credentials on a terminal: a private repository without them fails at once.
    env: { GIT_TERMINAL_PROMPT: '0' },
    timeoutMs: 30 * 60_000,
  });
  if (result.exitCode !== 0) {
    const fatal = (
      result.stderr.split('\n').find((l) => /^(fatal|error):/.test(l)) ??
      result.stderr.trim().split('\n').at(-1) ??
      ''
    ).trim();
    throw new EvalSetupError(
      `git ${args
        .filter((a) => !a.startsWith('-'))
        .slice(0, 2)
        .join(' ')}: ${fatal || `exit ${result.exitCode}`}`,
    );
  }
  return result.stdout;
}

/** A directory-safe name for a task id (ids may hold slashes: `owner__repo-123`). */
export function safeName(id: string): string {
  const readable = id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  return `${readable}-${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
}

/** The mirror of `repo` under `mirrorsDir`, made on first use and fetched when it lacks `base`. */
export async function mirrorFor(exec: Exec, mirrorsDir: string, repo: string, base: string, signal?: AbortSignal): Promise<string> {
  const dir = path.join(mirrorsDir, `${createHash('sha256').update(repo).digest('hex').slice(0, 16)}.git`);
  await mkdir(mirrorsDir, { recursive: true });
  const has = async (): Promise<boolean> =>
    exec
      .run(['git', '-C', dir, 'rev-parse', '--verify', '--quiet', `${base}^{commit}`], { inheritEnv: true })
      .then((r) => r.exitCode === 0);
  const exists = await exec
    .run(['git', '-C', dir, 'rev-parse', '--is-bare-repository'], { inheritEnv: true })
    .then((r) => r.exitCode === 0);
  if (!exists) {
    await rm(dir, { recursive: true, force: true });
    await git(exec, ['clone', '--mirror', '--quiet', repo, dir], { signal });
  } else if (!(await has())) {
    await git(exec, ['-C', dir, 'fetch', '--quiet', '--prune', 'origin'], { signal });
  }
  if (!(await has())) throw new EvalSetupError(`${repo}: no commit or branch "${base}"`);
  return dir;
}

/**
 * The task's own bare repository: its base on BASE_BRANCH, with the test patch committed on it
 * when the task shows it to the model. Made afresh each time (it is small: objects come from the mirror).
 */
export async function taskRepo(exec: Exec, reposDir: string, mirror: string, task: EvalTask, signal?: AbortSignal): Promise<string> {
  const dir = path.join(reposDir, `${safeName(task.id)}.git`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(reposDir, { recursive: true });
  await git(exec, ['init', '--quiet', '--bare', dir], { signal });
  await git(exec, ['-C', dir, 'fetch', '--quiet', '--no-tags', mirror, `${task.base}:refs/heads/${BASE_BRANCH}`], { signal });
  await git(exec, ['-C', dir, 'symbolic-ref', 'HEAD', `refs/heads/${BASE_BRANCH}`], { signal });
  if (task.testPatch && task.testPatchMode === 'visible') {
    await commitOnBranch(
      exec,
      dir,
      BASE_BRANCH,
      BASE_BRANCH,
      [{ patch: task.testPatch, what: 'the test patch' }],
      'Add the tests of the task',
      signal,
    );
  }
  return dir;
}

/**
 * Commits `patches` (applied in order, each with `git apply --3way` falling back to plain) on top of
 * `from` in the bare repository `dir`, as branch `to`. Throws EvalSetupError naming the patch that
 * does not apply.
 */
export async function commitOnBranch(
  exec: Exec,
  dir: string,
  from: string,
  to: string,
  patches: { patch: string; what: string }[],
  message: string,
  signal?: AbortSignal,
): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'autodev-eval-'));
  try {
    await git(exec, ['clone', '--quiet', '--no-tags', '--branch', from, dir, work], { signal });
    for (const { patch, what } of patches) {
      const file = path.join(work, '..', `${path.basename(work)}.patch`);
      await writeFile(file, patch.endsWith('\n') ? patch : `${patch}\n`);
      try {
        await git(exec, ['apply', '--index', '--whitespace=nowarn', file], { cwd: work, signal }).catch(() =>
          git(exec, ['apply', '--index', '--3way', '--whitespace=nowarn', file], { cwd: work, signal }),
        );
      } catch (error) {
        throw new EvalSetupError(`${what} does not apply (${(error as Error).message})`);
      } finally {
        await rm(file, { force: true });
      }
    }
    await git(exec, ['commit', '--quiet', '--allow-empty', '-m', message], { cwd: work, signal });
    await git(exec, ['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${to}`], { cwd: work, signal });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
