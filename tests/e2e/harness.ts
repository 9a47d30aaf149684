// What the end-to-end tests of `autodev run` share beyond running the CLI (tests/support/cli.ts does
// that): a file's setup (e2eSuite), the `--json` document's shape, the calc crate as repositories,
// and probes of what a run left behind (refs, objects, files, task store, audit trail, workspaces,
// processes). Unlike tests/support, it may import src/ (it is not built for the demo and bench).

import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StoredTask } from '../../src/store/task-store.js';
import { CALC_FILES } from '../support/calc-crate.js';
import { GITHUB_TOKEN, OPENAI_KEY, requireBuilt, type CliOutcome, type RunDir } from '../support/cli.js';
import { cleanup, git, makeBareRemote, makeRepo } from '../support/fixture-repo.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startOpenAiServer, type OpenAiServer, type ScriptedReply } from '../support/openai-server.js';

export const BOT_NAME = 'autodev[bot]';
export const BOT_EMAIL = 'autodev-bot@users.noreply.github.com';

/** The `--json` document `autodev run` prints on stdout. */
export interface RunJson {
  task: { id: string; key: string; repo: string; title: string; pr: boolean };
  status: string;
  reason: string | null;
  exitCode: number;
  steps: { id: string; tool: string; mode: string; round: number; status: string; attempts: number; summary: string }[];
  change: { branch: string; commit: string; files: string[]; diff: string } | null;
  pushed: { remote: string; branch: string } | null;
  pr: { url: string; number: number; draft: boolean; updated: boolean } | null;
  policy: { engine: string; decision: string; reasons: { code: string; message: string }[] } | null;
  secrets: { engine: string; findings: { rule: string; file: string; line: number; redacted: string }[] } | null;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number; calls: number };
  baseline: { failingTests: string[]; build: string | null; test: string | null; lint: string | null };
  verification: Record<string, string>;
  workspace: string | null;
  notes: string[];
}

export interface E2eSuite {
  /** The file's cargo cache (XDG_CACHE_HOME), made before its first test. */
  cache: string;
  /**
   * Local OpenAI and GitHub servers for one test, closed after it whether it passed or not. The model
   * answers `replies` in order, or `always` to every request.
   */
  startServers(options?: { replies?: ScriptedReply[]; always?: string }): Promise<{ llm: OpenAiServer; github: GitHubServer }>;
  /** Processes (lines of `processesTouching`) killed when the file ends: should a test fail, they must not outlive it. */
  killAtEnd(processes: string[]): void;
}

/**
 * The setup an e2e file shares, as hooks of that file: a built dist, one cargo cache for the file,
 * the servers of each test closed after it, and every temp dir removed at the end.
 */
export function e2eSuite(): E2eSuite {
  const cache = path.join(os.tmpdir(), `autodev-e2e-cache-${randomUUID().slice(0, 8)}`);
  const servers: { close(): Promise<void> }[] = [];
  const leftovers: number[] = [];
  beforeAll(async () => {
    requireBuilt();
    await mkdir(cache);
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  afterAll(async () => {
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await rm(cache, { recursive: true, force: true });
    await cleanup();
  });
  return {
    cache,
    async startServers(options = {}) {
      const { always } = options;
      const llm = await startOpenAiServer({
        replies: options.replies,
        apiKey: OPENAI_KEY,
        ...(always !== undefined ? { onRequest: () => ({ content: always }) } : {}),
      });
      servers.push(llm);
      const github = await startGitHubServer({ token: GITHUB_TOKEN });
      servers.push(github);
      return { llm, github };
    },
    killAtEnd(processes) {
      leftovers.push(...processes.map((line) => Number(line.split(' ')[0])));
    },
  };
}

/** Parses `--json` stdout; the error names stderr so a failing test shows why. */
export function parseJson(outcome: CliOutcome): RunJson {
  try {
    return JSON.parse(outcome.stdout) as RunJson;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${outcome.code}).\nstdout:\n${outcome.stdout}\nstderr:\n${outcome.stderr}`);
  }
}

/** `run --json` arguments for a task on `repo`. */
export function runArgs(repo: string, task: { title: string; description: string }, ...more: string[]): string[] {
  return ['run', '--json', '--repo', repo, '--title', task.title, '--description', task.description, ...more];
}

/** The calc crate (or other files) as a bare repository. */
export async function makeBareRepo(files: Record<string, string> = CALC_FILES): Promise<string> {
  return makeRepo(files, { bare: true });
}

/** The calc crate as a non-bare work repository with a bare `origin`. */
export async function makeWorkRepo(files: Record<string, string> = CALC_FILES): Promise<{ work: string; origin: string }> {
  const work = await makeRepo(files);
  const origin = await makeBareRemote(work);
  return { work, origin };
}

/** Every ref of a repository and what it points at. */
export async function refs(repo: string): Promise<Record<string, string>> {
  const out = await git(repo, ['for-each-ref', '--format=%(refname) %(objectname)']);
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
}

/** Every object in a repository, content included (reachable or not). */
export async function allObjects(repo: string): Promise<string> {
  return git(repo, ['cat-file', '--batch-all-objects', '--batch']);
}

/** Every regular file under `dir` with its text (for "the secret appears nowhere" checks). */
export async function readAllFiles(dir: string): Promise<{ file: string; text: string }[]> {
  if (!existsSync(dir)) return [];
  const files: { file: string; text: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files.push({ file, text: await readFile(file, 'utf8') });
    }
  }
  return files;
}

/** The audit trail files under a run's XDG_STATE_HOME. */
export async function auditFiles(run: RunDir): Promise<string[]> {
  const dir = path.join(run.state, 'autodev', 'audit');
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((name) => name.endsWith('.jsonl')).map((name) => path.join(dir, name));
}

/** Every task document in a run's store. */
export async function storedTasks(run: { state: string }): Promise<StoredTask[]> {
  const dir = path.join(run.state, 'autodev', 'tasks');
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(dir, n), 'utf8')) as StoredTask));
}

/** Task workspaces (`autodev-<task id>-*`) in a run's TMPDIR. */
export async function workspaces(run: RunDir): Promise<string[]> {
  return (await readdir(run.tmp)).filter((name) => /^autodev-\d{12}-[0-9a-f]+-/.test(name)).map((name) => path.join(run.tmp, name));
}

/**
 * Live processes whose command line mentions, or whose working directory lies in, one of `paths`
 * (a task's workspace, its cargo cache). Ours only: the test process itself is excluded.
 */
export async function processesTouching(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const args = cmdline.replace(/\0/g, ' ').trim();
    if (args === '' && cwd === '') continue;
    if (paths.some((p) => args.includes(p) || cwd === p || cwd.startsWith(`${p}/`))) found.push(`${pid} (cwd ${cwd}): ${args}`);
  }
  return found;
}

/** A fake GitHub token in the real format, built at run time so no scanner flags this file. */
export function fakeGitHubToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let body = '';
  for (let i = 0; i < 36; i += 1) body += alphabet[(i * 7 + 3) % alphabet.length];
  return ['ghp', body].join('_');
}

export { git };
