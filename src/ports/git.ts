// The git port: the only module that imports simple-git. Every command goes through `run`, which
// builds the child's environment (no ambient GIT_* variables, no prompts, no hooks) and scrubs
// secrets from errors. A token reaches git only through GIT_CONFIG_* environment variables
// (git >= 2.31) as an http.extraHeader, so it is never in argv, in .git/config or in a message,
// and only to the configured GitHub host: a token sent to any http(s) remote is a token given away.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { simpleGit as SimpleGit } from 'simple-git';
import type { ApplyCheck, CloneOptions, Git, GitIdentity, MirrorUse } from './types.js';

export interface CreateGitOptions {
  /** Kill a git command that produces no output for this long (default: no limit). */
  timeoutMs?: number;
  /** Called with the argv of every git command before it runs (never holds a secret). */
  onCommand?: (argv: string[]) => void;
  /**
   * The GitHub API the token belongs to (`git.github_api_url`; default https://api.github.com): the
   * token is sent only to the git host of that API (github.com, or the GitHub Enterprise host).
   */
  githubApiUrl?: string;
  /**
   * Where pushes take a per-remote lock (a directory shared by every autodev process of this user),
   * so two runs pushing to one repository do so one after the other. Unset: no lock.
   */
  lockDir?: string;
  /**
   * Where each remote's bare mirror lives (one per repository, made on its first clone, fetched on
   * later ones); a clone is then a local copy out of the mirror. Unset: every clone fetches from the remote.
   */
  mirrorDir?: string;
}

/** A git command that failed; the message is scrubbed of the token and URL credentials. */
export class GitCommandError extends Error {
  /** The line of git's output that says why (its `fatal:` line, without the prefix). */
  readonly reason: string;

  constructor(
    message: string,
    readonly command: string[],
  ) {
    super(message);
    this.name = 'GitCommandError';
    this.reason = gitFailureReason(message);
  }
}

/**
 * The line of a failed git command's output that says why: git prints progress ("Cloning into …")
 * and warnings first and its `fatal:` (or `error:`) line after, so the first line says nothing.
 */
export function gitFailureReason(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.replace(/^git \S+ failed: /, '').trim())
    .filter((line) => line !== '');
  const line =
    lines.find((l) => l.startsWith('fatal: ')) ??
    lines.find((l) => l.startsWith('error: ')) ??
    lines.find((l) => !/^(Cloning into |remote: |warning: |hint: )/.test(l)) ??
    lines[0] ??
    '';
  return line.replace(/^(fatal|error): /, '');
}

/** What authenticates a command: the header git sends, and what must be scrubbed from its messages. */
interface Auth {
  header: string;
  secrets: string[];
}

interface RunOptions {
  cwd: string;
  auth?: Auth | null;
  signal?: AbortSignal;
  /** Extra GIT_* variables (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** `-c key=value` settings that are not secret. */
  config?: string[];
  input?: string;
  /** The command carries a url.<x>.insteadOf rule of ours (the clone out of a mirror). */
  urlRewrite?: boolean;
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
  'GIT_DIR',
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG_KEY_0',
  'GIT_CONFIG_VALUE_0',
];

// Hooks would run repository (and so possibly generated) code outside the sandbox.
const ALWAYS_CONFIG = ['core.hooksPath=/dev/null'];

function basicAuth(user: string, password: string): Auth {
  const encoded = Buffer.from(`${user}:${password}`).toString('base64');
  const header = `Authorization: Basic ${encoded}`;
  // A very short password would mask ordinary words in every message; git does not echo it anyway.
  return { header, secrets: [header, encoded, ...(password.length >= 4 ? [password] : [])] };
}

function tokenAuth(token: string): Auth {
  return basicAuth('x-access-token', token);
}

function decodePart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * An http(s) URL's `user:password@` as an auth header, and the URL without it: git then gets the
 * credentials the user gave through the environment, as it gets the token, so they are neither in
 * its argv nor in the clone's .git/config (which the sandboxed build can read).
 */
function splitLogin(url: string): { url: string; login: Auth | null } {
  const match = /^(https?:\/\/)([^/?#\s]*)@/i.exec(url);
  if (!match) return { url, login: null };
  const [user, ...password] = match[2].split(':');
  return { url: `${match[1]}${url.slice(match[0].length)}`, login: basicAuth(decodePart(user), decodePart(password.join(':'))) };
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
  if (options.auth) {
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
    env.GIT_CONFIG_VALUE_0 = options.auth.header;
  }
  return { ...env, ...options.env };
}

/** Removes the token (raw and encoded) and any `user:password@` part of a URL from `text`. */
export function scrubSecrets(text: string, token?: string | null): string {
  return scrub(text, token ? tokenAuth(token) : null);
}

function scrub(text: string, auth: Auth | null | undefined): string {
  let out = text;
  for (const secret of auth?.secrets ?? []) out = out.split(secret).join('***');
  // Up to the last `@` before the path: a password may hold an `@` of its own.
  return out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]+@/gi, '$1***@');
}

function isUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

function isHttp(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/**
 * Where GitHub's git is served for an API URL: api.github.com → https://github.com, a GitHub.com
 * data-residency api.X.ghe.com → https://X.ghe.com, GitHub Enterprise Server https://HOST/api/v3 →
 * https://HOST (the same rule as the repository URLs made from issues).
 */
export function githubGitOrigin(apiUrl: string): string | null {
  let api: URL;
  try {
    api = new URL(apiUrl);
  } catch {
    return null;
  }
  if (api.hostname === 'api.github.com') return 'https://github.com';
  if (api.hostname.startsWith('api.') && api.hostname.endsWith('.ghe.com')) return `https://${api.hostname.slice(4)}`;
  return api.origin;
}

function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`.toLowerCase();
  } catch {
    return null;
  }
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

/** One name per remote for the push lock: credentials dropped, a local repository by its real path. */
function remoteKey(url: string): string {
  const local = localPath(url);
  if (local !== null) {
    try {
      return realpathSync(local);
    } catch {
      return local;
    }
  }
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .toLowerCase();
}

function keyHash(url: string): string {
  return createHash('sha256').update(remoteKey(url)).digest('hex').slice(0, 16);
}

// The file in a mirror that names the remote it copies (credential-free, as remoteKey makes it); it is
// written after the first fetch succeeded, so a half-made mirror is rebuilt rather than trusted. A
// file, not git config: reading it costs no git process.
const MIRROR_MARK = 'autodev-remote';

// Fetches into a mirror run in the foreground: a detached gc would outlive the lock.
const MIRROR_CONFIG = ['gc.autoDetach=false', 'maintenance.autoDetach=false'];

function cloneArgs(from: string, target: string, branch: string | null | undefined, depth: number): string[] {
  const args = ['clone', '--no-tags', '--single-branch'];
  if (depth > 0) args.push('--depth', String(depth));
  if (branch) args.push('--branch', branch);
  args.push('--', from, target);
  return args;
}

function isTimeoutOrAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && (error.name === 'AbortError' || /\btime(d ?)?out\b/i.test(error.message)));
}

export function createGit(options: CreateGitOptions = {}): Git {
  const tokenOrigin = githubGitOrigin(options.githubApiUrl ?? 'https://api.github.com');

  /** The token for a command talking to `url`: only the GitHub host gets it, never another remote. */
  function tokenFor(url: string, token: string | null | undefined): Auth | null {
    if (!token || !isHttp(url) || tokenOrigin === null) return null;
    return originOf(url) === tokenOrigin.toLowerCase() ? tokenAuth(token) : null;
  }

  // The credentials a clone's URL held, by clone directory: its pushes go to the same remote as the
  // same user, and the credentials never touch the disk.
  const cloneLogins = new Map<string, Auth>();

  /**
   * Runs `fn` holding the lock of one remote. Two runs of the same task push the same branch: one
   * after the other, each one's lease sees what the other pushed (instead of git's "cannot lock ref"
   * or a stale lease). Waiting polls with a growing pause and gives up when `signal` aborts.
   */
  async function withRemoteLock<T>(
    url: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
    { kind = 'push', dir = options.lockDir }: { kind?: string; dir?: string } = {},
  ): Promise<T> {
    if (!dir) return fn();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${kind}-${keyHash(url)}`);
    let pause = 20;
    let release: (() => Promise<void>) | null = null;
    while (release === null) {
      signal?.throwIfAborted();
      // Loaded here: only pushes take the lock, and its dependencies cost every command start-up.
      const { default: lockfile } = await import('proper-lockfile');
      release = await lockfile
        // A crashed holder's lock goes stale (it is refreshed while held); the default onCompromised
        // throws from a timer, which would crash the run for a lock that at worst lets two pushes meet.
        .lock(file, { realpath: false, stale: 30_000, onCompromised: () => {} })
        .catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ELOCKED') return null;
          throw error;
        });
      if (release === null) {
        await sleep(pause, undefined, signal ? { signal } : undefined);
        pause = Math.min(pause * 2, 1000);
      }
    }
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  async function run(args: string[], opts: RunOptions): Promise<string> {
    const config = [...ALWAYS_CONFIG, ...(opts.config ?? [])];
    options.onCommand?.(['git', ...config.flatMap((entry) => ['-c', entry]), ...args]);
    // simple-git (and its dependencies) load with the first command, not with this module.
    const simpleGit: typeof SimpleGit = (await import('simple-git')).simpleGit;
    const git = simpleGit({
      baseDir: opts.cwd,
      config,
      abort: opts.signal,
      timeout: options.timeoutMs ? { block: options.timeoutMs } : undefined,
      allowEnvironment: ALLOWED_ENV,
      // Set only by this module to fixed values (hooks off, the auth header, the mirror's URL rule).
      unsafe: { allowUnsafeHooksPath: true, allowUnsafeConfigEnvCount: true, allowUnsafeUrlRewrite: opts.urlRewrite === true },
      input: opts.input === undefined ? undefined : () => opts.input,
      // simple-git treats a non-zero exit with an empty stderr as success; here it is a failure.
      errors: (error, result) => error ?? (result.exitCode !== 0 ? Buffer.from(`exit code ${result.exitCode}`) : undefined),
    }).env(childEnv(opts));
    try {
      return await git.raw(args);
    } catch (error) {
      const message = scrub(error instanceof Error ? error.message : String(error), opts.auth).trim();
      const failure = new GitCommandError(`git ${args[0]} failed: ${message}`, args);
      if (opts.signal?.aborted) failure.name = 'AbortError';
      throw failure;
    }
  }

  async function runTrim(args: string[], opts: RunOptions): Promise<string> {
    return (await run(args, opts)).trim();
  }

  /**
   * A local, read-only git command with fixed arguments, run without simple-git: `autodev context`
   * needs only `git log`, and loading simple-git cost it more than the command itself.
   */
  async function read(args: string[], opts: { cwd: string }): Promise<string> {
    options.onCommand?.(['git', ...ALWAYS_CONFIG.flatMap((entry) => ['-c', entry]), ...args]);
    return await new Promise((done, fail) => {
      execFile(
        'git',
        [...ALWAYS_CONFIG.flatMap((entry) => ['-c', entry]), ...args],
        { cwd: opts.cwd, env: childEnv(opts), maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs ?? 0 },
        (error, stdout, stderr) => {
          if (error) fail(new GitCommandError(`git ${args[0]} failed: ${(stderr || error.message).trim()}`, args));
          else done(stdout);
        },
      );
    });
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

  /** `remote` is a URL or `origin`; the token is sent only when `url` (where it points) is the GitHub host. */
  async function lsRemote(
    dir: string,
    remote: { name: string; url: string },
    args: string[],
    auth: Auth | null,
    signal?: AbortSignal,
  ): Promise<string> {
    const [flags, patterns] = [args.filter((a) => a.startsWith('-')), args.filter((a) => !a.startsWith('-'))];
    return run(['ls-remote', ...flags, '--', remote.name, ...patterns], { cwd: dir, auth, signal });
  }

  /** A mirror made for `key`; anything else (half made, another remote's, not a repository) is not trusted. */
  async function mirrorFits(mirror: string, key: string): Promise<boolean> {
    return (await readFile(join(mirror, MIRROR_MARK), 'utf8').catch(() => null)) === key;
  }

  /** Every branch and tag of `url` into `mirror` (deleted ones pruned); the URL is given per command, never stored. */
  async function fetchInto(mirror: string, url: string, auth: Auth | null, signal?: AbortSignal): Promise<void> {
    await run(
      [
        'fetch',
        '--quiet',
        '--prune',
        '--no-tags',
        '--no-write-fetch-head',
        '--',
        url,
        '+refs/heads/*:refs/heads/*',
        '+refs/tags/*:refs/tags/*',
      ],
      // GIT_DIR: a broken mirror must fail here, not make git find a repository in a directory above it.
      { cwd: mirror, auth, signal, config: MIRROR_CONFIG, env: { GIT_DIR: mirror } },
    );
  }

  /** A new mirror of `url` in a scratch dir beside `mirror`, put in its place only once its fetch succeeded. */
  async function buildMirror(mirror: string, key: string, url: string, auth: Auth | null, signal?: AbortSignal): Promise<void> {
    const scratch = await mkdtemp(`${mirror}.new-`);
    try {
      await run(['init', '--quiet', '--bare', scratch], { cwd: tmpdir() });
      await fetchInto(scratch, url, auth, signal);
      await writeFile(join(scratch, MIRROR_MARK), key);
      await rm(mirror, { recursive: true, force: true });
      await rename(scratch, mirror);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * The clone through the repository's mirror, under the mirror's lock (concurrent tasks on one
   * repository take turns; another repository's do not wait): the mirror is made or fetched, then the
   * task's clone is a copy out of it over file:// (objects copied, nothing shared or hard-linked, so
   * nothing done in the workspace reaches the mirror) whose origin is the real remote, where pushes
   * go. A mirror that fails is rebuilt once from the remote.
   */
  async function cloneThroughMirror(
    mirrorDir: string,
    input: { url: string; auth: Auth | null; target: string; branch?: string | null; depth: number; signal?: AbortSignal },
  ): Promise<MirrorUse> {
    const { url, auth, target, depth, signal } = input;
    const key = remoteKey(url);
    const mirror = join(mirrorDir, `${keyHash(url)}.git`);
    await mkdir(mirrorDir, { recursive: true, mode: 0o700 });
    return withRemoteLock(
      url,
      signal,
      async () => {
        // With no branch asked for, the remote's default branch, as a direct clone would take it; asked
        // while the fetch runs (an earlier failure is the one reported, so this one is caught here).
        const head = input.branch ? null : remoteHead(url, auth, signal);
        head?.catch(() => undefined);
        let use: MirrorUse = 'updated';
        if (await mirrorFits(mirror, key)) {
          try {
            await fetchInto(mirror, url, auth, signal);
          } catch (error) {
            // A remote that cannot be reached stays an error and the mirror is kept as it is; a fetch
            // that fails while the remote answers is the mirror's own fault.
            const answers = isTimeoutOrAbort(error, signal)
              ? false
              : await (head ?? remoteHead(url, auth, signal)).then(
                  () => true,
                  () => false,
                );
            if (!answers) throw error;
            use = 'rebuilt';
            await buildMirror(mirror, key, url, auth, signal);
          }
        } else {
          use = existsSync(mirror) ? 'rebuilt' : 'created';
          await buildMirror(mirror, key, url, auth, signal);
        }
        const branch = input.branch ?? (await head);
        // The clone is told the real URL (so origin is the real remote, with nothing to rewrite after)
        // and git reads it from the mirror instead; the rule is given for this command only.
        const fromMirror = {
          cwd: tmpdir(),
          signal,
          urlRewrite: true,
          env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${pathToFileURL(mirror).href}.insteadOf`, GIT_CONFIG_VALUE_0: url },
        };
        try {
          await run(cloneArgs(url, target, branch, depth), fromMirror);
        } catch (error) {
          if (use !== 'updated' || signal?.aborted || /Remote branch .* not found/.test(String(error))) throw error;
          // The fetch did not notice (it only reads what changed), but the copy did: rebuild and copy again.
          await rm(target, { recursive: true, force: true });
          use = 'rebuilt';
          await buildMirror(mirror, key, url, auth, signal);
          await run(cloneArgs(url, target, branch, depth), fromMirror);
        }
        return use;
      },
      { kind: 'mirror', dir: options.lockDir ?? mirrorDir },
    );
  }

  async function remoteHead(url: string, auth: Auth | null, signal?: AbortSignal): Promise<string> {
    const out = await lsRemote(tmpdir(), { name: url, url }, ['--symref', 'HEAD'], auth, signal);
    const match = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(out);
    if (!match) throw new GitCommandError(`git ls-remote: ${scrubSecrets(url)} has no HEAD branch`, ['ls-remote']);
    return match[1];
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

  /** False only for a bare repository without linked work trees, which has no branch checked out. */
  async function mayHaveWorkTree(repo: string): Promise<boolean> {
    const isBare = await stat(join(repo, '.git')).then(
      () => false,
      () =>
        stat(join(repo, 'objects')).then(
          (info) => info.isDirectory(),
          () => false,
        ),
    );
    if (!isBare) return true;
    return stat(join(repo, 'worktrees')).then(
      () => true,
      () => false,
    );
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
      const { url, login } = splitLogin(toGitUrl(source));
      const target = resolve(dest);
      // Credentials the user put in the URL are theirs to use; otherwise the token, if this is GitHub.
      const auth = login ?? tokenFor(url, token);
      let mirror: MirrorUse | undefined;
      if (options.mirrorDir) mirror = await cloneThroughMirror(options.mirrorDir, { url, auth, target, branch, depth, signal });
      else await run(cloneArgs(url, target, branch, depth), { cwd: tmpdir(), auth, signal });
      if (login) cloneLogins.set(target, login);
      // The commit and the branch in one process; the branch reads `HEAD` when detached (a tag given as branch).
      const [commit, ref = ''] = (await runTrim(['rev-parse', 'HEAD', '--symbolic-full-name', 'HEAD'], { cwd: target })).split('\n');
      const checkedOut = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : '';
      return { branch: checkedOut || (branch ?? ''), commit, ...(mirror ? { mirror } : {}) };
    },

    async defaultBranch(source, token) {
      const { url, login } = splitLogin(toGitUrl(source));
      return remoteHead(url, login ?? tokenFor(url, token));
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

    async apply(dir, patch, { check = false, index = false } = {}): Promise<ApplyCheck> {
      // An empty stdin would never be closed by simple-git, leaving git waiting.
      if (patch.trim() === '') return { ok: false, error: 'empty patch' };
      const args = ['apply', '--whitespace=nowarn', ...(index ? ['--index'] : []), ...(check ? ['--check'] : []), '-'];
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

    async startBranch(dir, branch, base, { clean = false } = {}) {
      // git itself refuses an invalid branch name here ("is not a valid branch name"); only an
      // option-like name must not reach its argv.
      if (branch.startsWith('-')) throw new GitCommandError(`invalid branch name: ${JSON.stringify(branch)}`, ['checkout']);
      if (!/^[0-9a-f]{7,64}$/i.test(base) && base !== 'HEAD') throw new GitCommandError(`not a commit id: ${base}`, ['checkout']);
      await run(['checkout', '-q', '-f', '-B', branch, base], { cwd: dir });
      // Untracked files an earlier round's patch created go too; ignored build output is kept for speed.
      if (clean) await run(['clean', '-q', '-f', '-d'], { cwd: dir });
    },

    async commitIndex(dir, message, identity: GitIdentity, paths = []) {
      if (paths.length) await run(['add', '-A', '--', ...paths], { cwd: dir });
      // The bot identity per command: the user's config is never written; signing is off because
      // the user's signing key must not sign as the bot (and could prompt). No automatic
      // maintenance: the clone is the task's own and short-lived.
      await run(['commit', '-q', '--no-verify', '--no-gpg-sign', '-F', '-'], {
        cwd: dir,
        config: [`user.name=${identity.name}`, `user.email=${identity.email}`, 'maintenance.auto=false', 'gc.auto=0'],
        input: message,
      });
      // The commit id and its diff in one process: `%H`, an empty line, then the patch.
      const shown = await run(['show', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--format=%H', 'HEAD', '--'], {
        cwd: dir,
      });
      const end = shown.indexOf('\n');
      const commit = (end < 0 ? shown : shown.slice(0, end)).trim();
      const diff = end < 0 ? '' : shown.slice(end + 1).replace(/^\n/, '');
      return { commit, diff };
    },

    async push(dir, branch, { token, force = false, signal } = {}) {
      // git refuses an invalid name in the refspec itself ("invalid refspec"): no check-ref-format first.
      if (branch.startsWith('-')) throw new GitCommandError(`invalid branch name: ${JSON.stringify(branch)}`, ['push']);
      const url = await remoteUrl(dir);
      if (url === null) throw new GitCommandError('git push: the clone has no origin remote', ['push']);
      const local = localPath(url);
      // git's own guard (receive.denyCurrentBranch) is the remote's config to relax, and local
      // transports ignore our -c / GIT_CONFIG_*; so the user's checked-out branch is refused here.
      // A bare repository without linked work trees has no branch checked out: nothing to ask.
      if (local !== null && (await mayHaveWorkTree(local)) && (await checkedOutBranches(local)).includes(branch)) {
        throw new GitCommandError(`git push refused: branch ${branch} is checked out in ${local}`, ['push']);
      }
      const ref = `refs/heads/${branch}`;
      const auth = cloneLogins.get(resolve(dir)) ?? tokenFor(url, token);
      await withRemoteLock(url, signal, async () => {
        const args = ['push', '--no-verify', '--quiet'];
        const target = ['origin', `HEAD:${ref}`];
        if (force) {
          // A plain push first: a new branch (the usual case) or a fast-forward is what a forced push
          // would leave too, in one process. Only a rejected one (the branch holds something else: a
          // re-run of the task) is forced, with an explicit lease: overwrite only the value seen just
          // now, because a fresh shallow clone has no remote-tracking ref for the lease to use.
          const rejected = await run([...args, ...target], { cwd: dir, auth, signal }).then(
            () => false,
            (error: GitCommandError) => {
              if (signal?.aborted || !/\[rejected\]|\(fetch first\)|non-fast-forward/.test(error.message)) throw error;
              return true;
            },
          );
          if (!rejected) return;
          const seen = await lsRemote(dir, { name: 'origin', url }, ['--heads', ref], auth, signal).then((out) =>
            out
              .split('\n')
              .map((line) => line.split('\t'))
              .find(([, name]) => name === ref),
          );
          args.push(`--force-with-lease=${ref}:${seen?.[0] ?? ''}`);
        }
        await run([...args, ...target], { cwd: dir, auth, signal });
      });
    },

    async deleteRemoteBranch(dir, branch, { token, signal } = {}) {
      await assertBranchName(branch);
      const url = await remoteUrl(dir);
      if (url === null) throw new GitCommandError('git push: the clone has no origin remote', ['push']);
      const auth = cloneLogins.get(resolve(dir)) ?? tokenFor(url, token);
      await withRemoteLock(url, signal, () =>
        run(['push', '--no-verify', '--quiet', 'origin', '--delete', `refs/heads/${branch}`], { cwd: dir, auth, signal }),
      );
    },

    remoteUrl,

    async listFiles(dir, rev = 'HEAD') {
      return splitZ(await run(['ls-tree', '-r', '-z', '--name-only', '--full-tree', rev, '--'], { cwd: dir }));
    },

    async showFile(dir, rev, file) {
      return run(['show', '--no-textconv', `${rev}:${file}`, '--'], { cwd: dir });
    },

    async history(dir, maxCommits) {
      if ((await read(['rev-parse', '--is-shallow-repository'], { cwd: dir })).trim() === 'true') return [];
      if (maxCommits <= 0) return [];
      const out = await read(['log', `-n${maxCommits}`, '--no-merges', '--no-renames', '--name-only', '-z', '--format=%x01'], {
        cwd: dir,
      });
      return out
        .split('\x01')
        .map((record) =>
          splitZ(record)
            .map((name) => name.replace(/^\n/, ''))
            .filter((name) => name !== ''),
        )
        .filter((files) => files.length > 0);
    },
  };
}
