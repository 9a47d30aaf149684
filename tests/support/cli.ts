// The one way tests run the built CLI (`node bin/autodev.js`) as a real process: a private run dir
// (cwd, HOME, TMPDIR and the XDG dirs) so no config file, store, audit trail or workspace is shared, a
// small explicit environment, stdout/stderr captured, waits on output or exit, and every process a
// test file started killed when the file ends, even after a failed assertion.
import { afterAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './fixture-repo.js';
import { until } from './poll.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'autodev.js');
/** The credentials `taskEnv` gives a run; the local OpenAI and GitHub servers are started with them. */
export const OPENAI_KEY = 'test-openai-key-0123456789';
export const GITHUB_TOKEN = 'test-github-token-0123456789';

/** Fails fast with the fix when `dist/` was not built (the bin imports its bundle; some tests the per-file output). */
export function requireBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'index.js')) || !existsSync(path.join(ROOT, 'dist', 'bundle', 'index.js'))) {
    throw new Error(`${ROOT}/dist is missing: run \`npm run build\` before the tests that run the CLI`);
  }
}

/** One run's private directories, all under `dir` (removed by fixture-repo's `cleanup()`). */
export interface RunDir {
  dir: string;
  /** Where the CLI runs: empty, so no config file is found unless a test writes one. */
  cwd: string;
  home: string;
  tmp: string;
  state: string;
  config: string;
  cache: string;
}

export async function makeRunDir(prefix = 'autodev-run-'): Promise<RunDir> {
  const dir = await makeTempDir(prefix);
  const at = (name: string): string => path.join(dir, name);
  const run: RunDir = {
    dir,
    cwd: at('work'),
    home: at('home'),
    tmp: at('tmp'),
    state: at('state'),
    config: at('config'),
    cache: at('cache'),
  };
  await Promise.all([run.cwd, run.home, run.tmp, run.state, run.config, run.cache].map((d) => mkdir(d)));
  return run;
}

/** What every run gets: its own TMPDIR and XDG dirs, no colour, no system git config, the toolchains found. */
function baseEnv(run: RunDir, cache: string): Record<string, string> {
  const realHome = os.homedir();
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    TMPDIR: run.tmp,
    XDG_STATE_HOME: run.state,
    XDG_CONFIG_HOME: run.config,
    XDG_CACHE_HOME: cache,
    GIT_CONFIG_NOSYSTEM: '1',
    // cargo is often a rustup proxy that finds its toolchains through these
    RUSTUP_HOME: process.env.RUSTUP_HOME ?? path.join(realHome, '.rustup'),
    CARGO_HOME: process.env.CARGO_HOME ?? path.join(realHome, '.cargo'),
    ...(process.env.RUSTUP_TOOLCHAIN ? { RUSTUP_TOOLCHAIN: process.env.RUSTUP_TOOLCHAIN } : {}),
    // behind a TLS-inspecting proxy, Node's own downloads (corepack's) trust its CA through this
    ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
  };
}

/** A clean environment: a private HOME, no AUTODEV_* and no credentials unless `extra` adds them. */
export function cleanEnv(run: RunDir, extra: Record<string, string> = {}): Record<string, string> {
  return { ...baseEnv(run, run.cache), HOME: run.home, ...extra };
}

export interface TaskEnvOptions {
  /** XDG_CACHE_HOME: the tests of one file share one so cargo builds stay incremental (default: the run's own). */
  cache?: string;
  llm?: { baseUrl: string };
  github?: { url: string };
  extra?: Record<string, string>;
}

/**
 * The environment of a run that does a task: the test credentials, bubblewrap, a model name and the
 * forge repository, pointed at the local servers given. HOME stays the real one only because rustup
 * finds its toolchain there and the sandbox hides it; every autodev path comes from XDG_* instead.
 */
export function taskEnv(run: RunDir, options: TaskEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = {
    ...baseEnv(run, options.cache ?? run.cache),
    HOME: process.env.HOME ?? os.homedir(),
    CI: 'true',
    GIT_CONFIG_GLOBAL: '/dev/null',
    OPENAI_API_KEY: OPENAI_KEY,
    GITHUB_TOKEN: GITHUB_TOKEN,
    AUTODEV_SANDBOX: 'bwrap',
    AUTODEV_LLM_MODEL: 'test-model',
    AUTODEV_GIT_GITHUB_REPO: 'acme/calc',
    // The scripted model answers in order: a test asks for a reproduction (generate.reproduce) itself.
    AUTODEV_GENERATE_REPRODUCE: 'never',
  };
  if (options.llm) env.AUTODEV_LLM_API_URL = options.llm.baseUrl;
  if (options.github) env.AUTODEV_GIT_GITHUB_API_URL = options.github.url;
  return { ...env, ...options.extra };
}

export interface CliOutcome {
  /** The exit code, or 128 + signal number when the process was killed by a signal. */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env: Record<string, string>;
  /** Written to stdin, which is then closed (default: nothing). */
  input?: string;
  /** Its own process group, so `kill(-pid)` reaches the CLI and everything it started. */
  detached?: boolean;
  /** Options for node itself, before the bin (e.g. `--import` a loader hook). */
  nodeArgs?: string[];
  /** The script node runs instead of bin/autodev.js (e.g. one loading the per-file dist/cli, not the bundle). */
  bin?: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the match once stderr so far matches `pattern`; rejects if the process exits first. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  done: Promise<CliOutcome>;
}

const started = new Set<{ child: ChildProcess; detached: boolean; done: Promise<CliOutcome> }>();

// A test that fails while a CLI still runs must not leave it behind (jest would report the open handle).
afterAll(stopStarted);

/** Kills what a test started and did not wait for (its process group when detached) and waits for it to end. */
export async function stopStarted(): Promise<void> {
  const left = [...started];
  for (const { child, detached } of left) {
    try {
      if (detached) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await Promise.allSettled(left.map((entry) => entry.done));
}

export function startCli(args: string[], options: CliOptions): RunningCli {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.bin ?? BIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin!.on('error', () => undefined); // a CLI that exits without reading its stdin
  child.stdin!.end(options.input ?? '');
  const done = new Promise<CliOutcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code: code ?? 128 + (signal ? os.constants.signals[signal] : 0), signal, stdout, stderr });
    });
  });
  const entry = { child, detached: options.detached ?? false, done };
  started.add(entry);
  void done.finally(() => started.delete(entry)).catch(() => undefined);
  return {
    child,
    done,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStderr(pattern, timeoutMs = 150_000) {
      return until(
        () => `stderr to match ${pattern}; stderr so far:\n${stderr}`,
        () => {
          const match = pattern.exec(stderr);
          if (match) return match;
          if (exited) throw new Error(`autodev exited before stderr matched ${pattern}:\n${stderr}`);
          return null;
        },
        timeoutMs,
        50,
      );
    },
  };
}

/** Runs the CLI to its end. */
export function runCli(args: string[], options: CliOptions): Promise<CliOutcome> {
  return startCli(args, options).done;
}

/** The non-blank lines of an output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** `autodev serve --port 0`, once it has said where it listens. */
export async function startServe(options: CliOptions): Promise<{ server: RunningCli; url: string }> {
  const server = startCli(['serve', '--port', '0'], options);
  const match = await server.waitForStderr(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { server, url: match[1] };
}
