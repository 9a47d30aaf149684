// Shared by tests/cli-tasks and tests/server: the built CLI as a child process, a private environment
// (own XDG state dir and TMPDIR), the calc crate as a bare remote, and local OpenAI/GitHub servers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoredTask } from '../../src/store/task-store.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'autodev.js');
export const OPENAI_KEY = 'tasks-openai-key-0123456789';
export const GITHUB_TOKEN = 'tasks-github-token-0123456789';

export function requireBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'tasks.js')) || !existsSync(path.join(ROOT, 'dist', 'server', 'server.js'))) {
    throw new Error(`${ROOT}/dist is missing or stale: run \`npm run build\` first`);
  }
}

export interface Box {
  dir: string;
  state: string;
  tmp: string;
}

export async function makeBox(dir: string): Promise<Box> {
  const box = { dir, state: path.join(dir, 'state'), tmp: path.join(dir, 'tmp') };
  await Promise.all([mkdir(box.state), mkdir(box.tmp)]);
  return box;
}

export function envFor(box: Box, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    CI: 'true',
    TMPDIR: box.tmp,
    XDG_STATE_HOME: box.state,
    XDG_CONFIG_HOME: path.join(box.dir, 'config'),
    XDG_CACHE_HOME: path.join(box.dir, 'cache'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    OPENAI_API_KEY: OPENAI_KEY,
    GITHUB_TOKEN: GITHUB_TOKEN,
    AUTODEV_SANDBOX: 'bwrap',
    AUTODEV_LLM_MODEL: 'tasks-model',
    AUTODEV_GIT_GITHUB_REPO: 'acme/calc',
  };
  for (const name of ['RUSTUP_HOME', 'CARGO_HOME', 'RUSTUP_TOOLCHAIN']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return { ...env, ...extra };
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  stderr(): string;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  done: Promise<Outcome>;
}

export function start(args: string[], options: { cwd: string; env: Record<string, string> }): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGINT' ? 130 : 128), stdout, stderr }));
  });
  let exited = false;
  void done.then(() => (exited = true));
  return {
    child,
    done,
    stderr: () => stderr,
    async waitForStderr(pattern, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(stderr);
        if (match) return match;
        if (exited || Date.now() > deadline) throw new Error(`stderr never matched ${pattern}:\n${stderr}`);
        await sleep(50);
      }
    },
  };
}

export function run(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<Outcome> {
  return start(args, options).done;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs` with `what`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Every task document in a box's store. */
export async function storedTasks(box: Box): Promise<StoredTask[]> {
  const dir = path.join(box.state, 'autodev', 'tasks');
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(dir, n), 'utf8')) as StoredTask));
}
