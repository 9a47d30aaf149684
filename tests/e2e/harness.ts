// Runs the built `bin/autodev.js` as a real child process against the local OpenAI and GitHub
// servers and real git repositories, the way `npm run demo` does. Every run gets its own temp dir
// (cwd, TMPDIR, XDG state/config dirs) so no config file, audit trail or workspace is shared; the
// cargo cache (XDG_CACHE_HOME) is shared by the tests of one file so builds stay incremental.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALC_FILES } from '../support/calc-crate.js';
import { git, makeBareRemote, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import type { GitHubServer } from '../support/github-server.js';
import type { OpenAiServer } from '../support/openai-server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'autodev.js');
export const OPENAI_KEY = 'e2e-openai-key-0123456789';
export const GITHUB_TOKEN = 'e2e-github-token-0123456789';
export const BOT_NAME = 'autodev[bot]';
export const BOT_EMAIL = 'autodev-bot@users.noreply.github.com';
export const CALC_REPO = 'acme/calc';

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
  baseline: { failingTests: string[] };
  verification: Record<string, string>;
  workspace: string | null;
  notes: string[];
}

export interface RunOutcome {
  /** The exit code, or 128 + signal number when the process was killed by a signal. */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Fails fast with the fix when `dist/` was not built (the bin imports it). */
export function requireBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'index.js'))) {
    throw new Error(`${ROOT}/dist is missing: run \`npm run build\` before the e2e tests`);
  }
}

/** One run's private directory: cwd (holds no config), TMPDIR, and the XDG state/config dirs. */
export interface RunDir {
  dir: string;
  tmp: string;
  state: string;
  config: string;
}

export async function makeRunDir(): Promise<RunDir> {
  const dir = await makeTempDir('autodev-e2e-');
  const run: RunDir = { dir, tmp: path.join(dir, 'tmp'), state: path.join(dir, 'state'), config: path.join(dir, 'config') };
  await Promise.all([mkdir(run.tmp), mkdir(run.state), mkdir(run.config)]);
  return run;
}

/** A cargo cache shared by the tests of one file. */
export async function makeCacheDir(): Promise<string> {
  return makeTempDir('autodev-e2e-cache-');
}

export interface EnvOptions {
  run: RunDir;
  cache: string;
  llm?: OpenAiServer;
  github?: GitHubServer;
  extra?: Record<string, string>;
}

/**
 * A small, explicit environment: nothing of the caller's AUTODEV_* / tokens leaks in. HOME stays the
 * real one only because rustup finds its toolchain there; every autodev path comes from XDG_* instead.
 */
export function e2eEnv(options: EnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    CI: 'true',
    TMPDIR: options.run.tmp,
    XDG_STATE_HOME: options.run.state,
    XDG_CONFIG_HOME: options.run.config,
    XDG_CACHE_HOME: options.cache,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    OPENAI_API_KEY: OPENAI_KEY,
    GITHUB_TOKEN: GITHUB_TOKEN,
    AUTODEV_SANDBOX: 'bwrap',
    AUTODEV_LLM_MODEL: 'e2e-model',
    AUTODEV_GIT_GITHUB_REPO: CALC_REPO,
  };
  for (const name of ['RUSTUP_HOME', 'CARGO_HOME', 'RUSTUP_TOOLCHAIN']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  if (options.llm) env.AUTODEV_LLM_API_URL = options.llm.baseUrl;
  if (options.github) env.AUTODEV_GIT_GITHUB_API_URL = options.github.url;
  return { ...env, ...options.extra };
}

export interface Running {
  child: ChildProcess;
  /** Resolves when stderr so far matches `pattern`. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<RunOutcome>;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function startAutodev(args: string[], options: { cwd: string; env: Record<string, string> }): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(stderr)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const done = new Promise<RunOutcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (SIGNAL_NUMBERS[signal!] ?? 0), signal, stdout, stderr }));
  });
  return {
    child,
    done,
    waitForStderr(pattern, timeoutMs = 150_000) {
      if (pattern.test(stderr)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stderr never matched ${pattern}:\n${stderr}`)), timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push({ pattern, resolve: finish });
        void done.then(() => {
          clearTimeout(timer);
          if (!pattern.test(stderr)) reject(new Error(`autodev exited before stderr matched ${pattern}:\n${stderr}`));
        });
      });
    },
  };
}

export async function runAutodev(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<RunOutcome> {
  return startAutodev(args, options).done;
}

/** Parses `--json` stdout; the error names stderr so a failing test shows why. */
export function parseJson(outcome: RunOutcome): RunJson {
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

export interface CalcRepos {
  /** A bare repository: the remote autodev clones from and pushes to. */
  bare: string;
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

/** Hash of every file under `dir`, `.git` included: equal hashes mean byte-for-byte unchanged. */
export async function hashDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  async function walk(current: string): Promise<void> {
    const entries = await readdir(current, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      hash.update(`${path.relative(dir, full)}\0${entry.isDirectory() ? 'd' : entry.isSymbolicLink() ? 'l' : 'f'}\0`);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isSymbolicLink()) hash.update(await readlink(full));
      else hash.update(await readFile(full));
    }
  }
  await walk(dir);
  return hash.digest('hex');
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

export async function writeText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}

export { git };
