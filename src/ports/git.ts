// The git port: the only module that imports simple-git. Every command goes through `run`, which
// builds the child's environment (no ambient GIT_* variables, no prompts, no hooks) and scrubs
// secrets from errors. A token reaches git only through GIT_CONFIG_* environment variables
// (git >= 2.31) as an http.extraHeader, so it is never in argv, in .git/config or in a message.

import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { simpleGit } from 'simple-git';
import type { ApplyCheck, CloneOptions, Git, GitIdentity } from './types.js';

export interface CreateGitOptions {
  /** Kill a git command that produces no output for this long (default: no limit). */
  timeoutMs?: number;
  /** Called with the argv of every git command before it runs (never holds a secret). */
  onCommand?: (argv: string[]) => void;
}

/** A git command that failed; the message is scrubbed of the token and URL credentials. */
export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly command: string[],
  ) {
    super(message);
    this.name = 'GitCommandError';
  }
}

interface RunOptions {
  cwd: string;
  token?: string | null;
  signal?: AbortSignal;
  /** Extra GIT_* variables (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** `-c key=value` settings that are not secret. */
  config?: string[];
  input?: string;
}

// Variables simple-git's environment guard treats as dangerous besides GIT_*; it rejects them when
// passed explicitly, so they are dropped here as it would drop them when inherited.
const GUARDED_NON_GIT = new Set(['editor', 'pager', 'prefix', 'ssh_askpass', 'visual']);

// Every GIT_* name this module may set; simple-git refuses any other one.
const ALLOWED_ENV = [
  'GIT_TERMINAL_PROMPT',
  'GIT_HTTP_LOW_SPEED_LIMIT',
  'GIT_HTTP_LOW_SPEED_TIME',
  'GIT_INDEX_FILE',
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG_KEY_0',
  'GIT_CONFIG_VALUE_0',
];

// Hooks would run repository (and so possibly generated) code outside the sandbox.
const ALWAYS_CONFIG = ['core.hooksPath=/dev/null'];

function authHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

function childEnv(options: RunOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (value === undefined || lower.startsWith('git_') || GUARDED_NON_GIT.has(lower)) continue;
    env[key] = value;
  }
  // No prompt may block an unattended run; a stalled transfer fails instead of hanging forever.
  env.GIT_TERMINAL_PROMPT = '0';
  env.GCM_INTERACTIVE = 'never';
  env.GIT_HTTP_LOW_SPEED_LIMIT = '1000';
  env.GIT_HTTP_LOW_SPEED_TIME = '60';
  if (options.token) {
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
    env.GIT_CONFIG_VALUE_0 = authHeader(options.token);
  }
  return { ...env, ...options.env };
}

/** Removes the token (raw and encoded) and any `user:password@` part of a URL from `text`. */
export function scrubSecrets(text: string, token?: string | null): string {
  let out = text;
  if (token) {
    const header = authHeader(token);
    const encoded = header.slice('Authorization: Basic '.length);
    for (const secret of [header, encoded, token]) out = out.split(secret).join('***');
  }
  return out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

function isUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

function isHttp(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

// scp-like ssh addresses (git@host:owner/repo) are not local paths.
function isScpLike(source: string): boolean {
  return /^[^/\\]+:/.test(source) && !isUrl(source);
}

/** What git is given for `source`: local paths become file:// URLs so `--depth` is honoured. */
export function toGitUrl(source: string): string {
  if (isUrl(source) || isScpLike(source)) return source;
  return pathToFileURL(resolve(source)).href;
}

function localPath(url: string): string | null {
  if (/^file:\/\//i.test(url)) return fileURLToPath(url);
  if (isUrl(url) || isScpLike(url)) return null;
  return resolve(url);
}

function splitZ(text: string): string[] {
  return text.split('\0').filter((part) => part !== '');
}

export function createGit(options: CreateGitOptions = {}): Git {
  async function run(args: string[], opts: RunOptions): Promise<string> {
    const config = [...ALWAYS_CONFIG, ...(opts.config ?? [])];
    options.onCommand?.(['git', ...config.flatMap((entry) => ['-c', entry]), ...args]);
    const git = simpleGit({
      baseDir: opts.cwd,
      config,
      abort: opts.signal,
      timeout: options.timeoutMs ? { block: options.timeoutMs } : undefined,
      allowEnvironment: ALLOWED_ENV,
      // Both are set only by this module to fixed values (hooks off, the auth header).
      unsafe: { allowUnsafeHooksPath: true, allowUnsafeConfigEnvCount: true },
      input: opts.input === undefined ? undefined : () => opts.input,
      // simple-git treats a non-zero exit with an empty stderr as success; here it is a failure.
      errors: (error, result) => error ?? (result.exitCode !== 0 ? Buffer.from(`exit code ${result.exitCode}`) : undefined),
    }).env(childEnv(opts));
    try {
      return await git.raw(args);
    } catch (error) {
      const message = scrubSecrets(error instanceof Error ? error.message : String(error), opts.token).trim();
      const failure = new GitCommandError(`git ${args[0]} failed: ${message}`, args);
      if (opts.signal?.aborted) failure.name = 'AbortError';
      throw failure;
    }
  }

  async function runTrim(args: string[], opts: RunOptions): Promise<string> {
    return (await run(args, opts)).trim();
  }

  async function assertBranchName(branch: string): Promise<void> {
    const valid =
      !branch.startsWith('-') &&
      (await run(['check-ref-format', `refs/heads/${branch}`], { cwd: tmpdir() }).then(
        () => true,
        () => false,
      ));
    if (!valid) throw new GitCommandError(`invalid branch name: ${JSON.stringify(branch)}`, ['check-ref-format']);
  }

  async function remoteUrl(dir: string): Promise<string | null> {
    // `config --get` exits 1 (with no message) when the key is unset.
    const url = await runTrim(['config', '--get', 'remote.origin.url'], { cwd: dir }).catch(() => '');
    return url === '' ? null : url;
  }

  /** `remote` is a URL or `origin`; the token is sent only when `url` (where it points) is http(s). */
  async function lsRemote(
    dir: string,
    remote: { name: string; url: string },
    args: string[],
    token: string | null | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    const [flags, patterns] = [args.filter((a) => a.startsWith('-')), args.filter((a) => !a.startsWith('-'))];
    return run(['ls-remote', ...flags, '--', remote.name, ...patterns], {
      cwd: dir,
      token: isHttp(remote.url) ? token : null,
      signal,
    });
  }

  /** Everything in the work tree (untracked files included) as if staged, without touching the index. */
  async function withScratchIndex<T>(dir: string, fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
    const scratch = await mkdtemp(join(tmpdir(), 'autodev-index-'));
    const env = { GIT_INDEX_FILE: join(scratch, 'index') };
    try {
      const gitDir = await runTrim(['rev-parse', '--absolute-git-dir'], { cwd: dir });
      // Starting from the real index keeps its stat cache, so `add -A` hashes only changed files.
      const copied = await copyFile(join(gitDir, 'index'), env.GIT_INDEX_FILE).then(
        () => true,
        () => false,
      );
      if (!copied) await run(['read-tree', 'HEAD'], { cwd: dir, env });
      await run(['add', '-A'], { cwd: dir, env });
      return await fn(env);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Branches checked out in any work tree of a local repository (none for a bare one). */
  async function checkedOutBranches(repo: string): Promise<string[]> {
    const out = await run(['worktree', 'list', '--porcelain'], { cwd: repo });
    return out
      .split('\n')
      .filter((line) => line.startsWith('branch refs/heads/'))
      .map((line) => line.slice('branch refs/heads/'.length));
  }

  return {
    async clone({ source, dest, branch, depth = 1, token, signal }: CloneOptions) {
      const url = toGitUrl(source);
      const target = resolve(dest);
      const args = ['clone', '--no-tags', '--single-branch'];
      if (depth > 0) args.push('--depth', String(depth));
      if (branch) args.push('--branch', branch);
      args.push('--', url, target);
      await run(args, { cwd: tmpdir(), token: isHttp(url) ? token : null, signal });
      const commit = await runTrim(['rev-parse', 'HEAD'], { cwd: target });
      // `symbolic-ref -q` exits 1 silently on a detached HEAD (a tag given as branch).
      const checkedOut = await runTrim(['symbolic-ref', '--short', '-q', 'HEAD'], { cwd: target }).catch(() => '');
      return { branch: checkedOut || (branch ?? ''), commit };
    },

    async defaultBranch(source, token) {
      const url = toGitUrl(source);
      const out = await lsRemote(tmpdir(), { name: url, url }, ['--symref', 'HEAD'], token);
      const match = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(out);
      if (!match) throw new GitCommandError(`git ls-remote: ${scrubSecrets(url)} has no HEAD branch`, ['ls-remote']);
      return match[1];
    },

    async headCommit(dir) {
      return runTrim(['rev-parse', 'HEAD'], { cwd: dir });
    },

    async resetHard(dir, commit) {
      if (commit !== undefined && !/^[0-9a-f]{7,64}$/i.test(commit)) throw new GitCommandError(`not a commit id: ${commit}`, ['reset']);
      await run(['reset', '-q', '--hard', commit ?? 'HEAD'], { cwd: dir });
      // Untracked files a failed patch created go too; ignored build output is kept for speed.
      await run(['clean', '-q', '-f', '-d'], { cwd: dir });
    },

    async apply(dir, patch, { check = false } = {}): Promise<ApplyCheck> {
      // An empty stdin would never be closed by simple-git, leaving git waiting.
      if (patch.trim() === '') return { ok: false, error: 'empty patch' };
      const args = ['apply', '--whitespace=nowarn', ...(check ? ['--check'] : []), '-'];
      try {
        await run(args, { cwd: dir, input: patch.endsWith('\n') ? patch : `${patch}\n` });
        return { ok: true, error: '' };
      } catch (error) {
        return { ok: false, error: (error as Error).message.replace(/^git apply failed: /, '') };
      }
    },

    async diff(dir, { cached = false, base } = {}) {
      const args = ['diff', '--cached', '--no-color', '--no-ext-diff', '--no-renames'];
      if (cached) return run([...args, ...(base ? [base] : [])], { cwd: dir });
      return withScratchIndex(dir, (env) => run([...args, base ?? 'HEAD'], { cwd: dir, env }));
    },

    async changedFiles(dir, base) {
      return withScratchIndex(dir, async (env) =>
        splitZ(await run(['diff', '--cached', '--name-only', '-z', '--no-renames', base ?? 'HEAD'], { cwd: dir, env })),
      );
    },

    async createBranch(dir, branch) {
      await assertBranchName(branch);
      await run(['checkout', '-q', '-B', branch], { cwd: dir });
    },

    async commitAll(dir, message, identity: GitIdentity) {
      await run(['add', '-A'], { cwd: dir });
      // The bot identity per command: the user's config is never written; signing is off because
      // the user's signing key must not sign as the bot (and could prompt).
      await run(['commit', '-q', '--no-verify', '--no-gpg-sign', '-F', '-'], {
        cwd: dir,
        config: [`user.name=${identity.name}`, `user.email=${identity.email}`],
        input: message,
      });
      return runTrim(['rev-parse', 'HEAD'], { cwd: dir });
    },

    async push(dir, branch, { token, force = false, signal } = {}) {
      await assertBranchName(branch);
      const url = await remoteUrl(dir);
      if (url === null) throw new GitCommandError('git push: the clone has no origin remote', ['push']);
      const local = localPath(url);
      // git's own guard (receive.denyCurrentBranch) is the remote's config to relax, and local
      // transports ignore our -c / GIT_CONFIG_*; so the user's checked-out branch is refused here.
      if (local !== null && (await checkedOutBranches(local)).includes(branch)) {
        throw new GitCommandError(`git push refused: branch ${branch} is checked out in ${local}`, ['push']);
      }
      const ref = `refs/heads/${branch}`;
      const args = ['push', '--no-verify', '--quiet'];
      if (force) {
        // An explicit lease: overwrite only the value seen just now (or create it if absent),
        // because a fresh shallow clone has no remote-tracking ref for the lease to use.
        const seen = await lsRemote(dir, { name: 'origin', url }, ['--heads', ref], token, signal).then((out) =>
          out
            .split('\n')
            .map((line) => line.split('\t'))
            .find(([, name]) => name === ref),
        );
        args.push(`--force-with-lease=${ref}:${seen?.[0] ?? ''}`);
      }
      args.push('origin', `HEAD:${ref}`);
      await run(args, { cwd: dir, token: isHttp(url) ? token : null, signal });
    },

    async deleteRemoteBranch(dir, branch, { token, signal } = {}) {
      await assertBranchName(branch);
      const url = await remoteUrl(dir);
      if (url === null) throw new GitCommandError('git push: the clone has no origin remote', ['push']);
      await run(['push', '--no-verify', '--quiet', 'origin', '--delete', `refs/heads/${branch}`], { cwd: dir, token: isHttp(url) ? token : null, signal });
    },

    remoteUrl,

    async listFiles(dir, rev = 'HEAD') {
      return splitZ(await run(['ls-tree', '-r', '-z', '--name-only', '--full-tree', rev, '--'], { cwd: dir }));
    },

    async showFile(dir, rev, file) {
      return run(['show', '--no-textconv', `${rev}:${file}`, '--'], { cwd: dir });
    },

    async history(dir, maxCommits) {
      if ((await runTrim(['rev-parse', '--is-shallow-repository'], { cwd: dir })) === 'true') return [];
      if (maxCommits <= 0) return [];
      const out = await run(['log', `-n${maxCommits}`, '--no-merges', '--no-renames', '--name-only', '-z', '--format=%x01'], {
        cwd: dir,
      });
      return out
        .split('\x01')
        .map((record) => splitZ(record).map((name) => name.replace(/^\n/, '')).filter((name) => name !== ''))
        .filter((files) => files.length > 0);
    },
  };
}
