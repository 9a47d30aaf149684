// Real git repositories in temp dirs for tests: built from small inline file trees, with a fixed
// identity, fixed dates and no user/system config, so commit shas are the same on every machine.
// Every dir made here is removed by `cleanup()` (call it in afterEach/afterAll).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const created: string[] = [];

/** One commit on top of the previous: `null` deletes a file. */
export interface FixtureCommit {
  message: string;
  files: Record<string, string | null>;
}

export interface MakeRepoOptions {
  /** Return a bare repository holding the same history (no working tree). */
  bare?: boolean;
  /** Name of the initial branch (default `main`). */
  branch?: string;
  /** Commits made after the initial one, in order. */
  commits?: FixtureCommit[];
}

/** The environment fixture git commands run with: no ambient GIT_*, no user config, fixed identity. */
export function fixtureGitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.toUpperCase().startsWith('GIT_')) env[key] = value;
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Fixture Author',
    GIT_AUTHOR_EMAIL: 'fixture@example.test',
    GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
    GIT_COMMITTER_NAME: 'Fixture Author',
    GIT_COMMITTER_EMAIL: 'fixture@example.test',
    GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
  };
}

/** Runs git in `dir` with the fixture environment; returns stdout with trailing whitespace removed. */
export async function git(dir: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd: dir, env: fixtureGitEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout.trimEnd();
}

/** A fresh temp dir that `cleanup()` removes. */
export async function makeTempDir(prefix = 'autodev-fixture-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

async function writeFiles(root: string, files: Record<string, string | null>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path);
    if (content === null) {
      await rm(target, { force: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
}

/** A repository whose first commit holds `files`; returns its path (the work tree, or the bare dir). */
export async function makeRepo(files: Record<string, string>, options: MakeRepoOptions = {}): Promise<string> {
  const root = await makeTempDir('autodev-repo-');
  const work = join(root, 'work');
  await mkdir(work);
  await git(work, ['init', '-q', '-b', options.branch ?? 'main']);
  const commits: FixtureCommit[] = [{ message: 'initial', files }, ...(options.commits ?? [])];
  for (const commit of commits) {
    await writeFiles(work, commit.files);
    await git(work, ['add', '-A']);
    await git(work, ['commit', '-q', '--allow-empty', '-m', commit.message]);
  }
  if (!options.bare) return work;
  const bare = join(root, 'bare.git');
  await git(root, ['clone', '-q', '--bare', work, bare]);
  await git(bare, ['remote', 'remove', 'origin']);
  await rm(work, { recursive: true, force: true });
  return bare;
}

/** A bare clone of `repoDir` acting as its remote: `origin` of `repoDir` now points to it. */
export async function makeBareRemote(repoDir: string): Promise<string> {
  const bare = join(await makeTempDir('autodev-remote-'), 'remote.git');
  await git(repoDir, ['clone', '-q', '--bare', repoDir, bare]);
  await git(repoDir, ['remote', 'remove', 'origin']).catch(() => undefined);
  await git(repoDir, ['remote', 'add', 'origin', bare]);
  return bare;
}

export interface TreeSnapshot {
  /** Hash over every work-tree file's path, mode and bytes (`.git` excluded). */
  files: string;
  /** Raw `.git/HEAD` (which branch is checked out). */
  head: string;
  /** The commit HEAD resolves to. */
  commit: string;
  /** Hash of `.git/index` bytes ('' when there is none). */
  index: string;
}

async function hashTree(root: string, dir: string, hash: ReturnType<typeof createHash>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (dir === root && entry.name === '.git') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await hashTree(root, path, hash);
    } else {
      const { mode } = await stat(path);
      hash.update(`${path.slice(root.length)}\0${mode}\0`);
      hash.update(await readFile(path));
    }
  }
}

/** What a repository looks like to its user: equal snapshots mean nothing they can see changed. */
export async function snapshotTree(dir: string): Promise<TreeSnapshot> {
  const files = createHash('sha256');
  await hashTree(dir, dir, files);
  const index = await readFile(join(dir, '.git', 'index')).catch(() => null);
  return {
    files: files.digest('hex'),
    head: await readFile(join(dir, '.git', 'HEAD'), 'utf8'),
    commit: await git(dir, ['rev-parse', 'HEAD']),
    index: index === null ? '' : createHash('sha256').update(index).digest('hex'),
  };
}

/** Removes every dir made by this module so far. */
export async function cleanup(): Promise<void> {
  const dirs = created.splice(0);
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
