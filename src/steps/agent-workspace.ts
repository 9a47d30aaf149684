// The agent's workspace: a scratch copy of the base beside the task's repository (never inside it,
// never the user's checkout), with its own git directory outside the copy, so nothing a command in
// the sandbox writes can reach git's metadata or hooks. Every path the model names is resolved
// inside the copy (src/patch/paths.ts: no `..`, no absolute path, nothing under .git, no symlink
// out); commands run in the plan's sandbox, offline, with the scrubbed environment. The change the
// model submits is the copy's diff against its starting snapshot; the apply step puts it on the
// real clone with all its checks.
import { cp, lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ToolRefused, type AgentWorkspace, type RunOutcome } from '../generate/agent/types.js';
import { checkRepoPath, checkRepoPathReal } from '../patch/paths.js';
import { privateCopy, scrubbedEnv } from '../ports/sandbox/index.js';
import type { Mount, ToolchainBinds } from '../ports/types.js';
import { hasRedactions, restoreRedactions } from '../secrets/redact-content.js';
import { hostInstalls } from '../toolchains/registry.js';
import type { AgentInputs } from '../plan/types.js';
import type { CacheNeed } from '../toolchains/types.js';
import type { Ctx } from './types.js';

/** Files larger than this are not read whole into the conversation. */
const MAX_READ_BYTES = 2 * 1024 * 1024;
/** What a command may print before the sandbox stops keeping it (the model sees head and tail of what is kept). */
const MAX_COMMAND_BYTES = 4 * 1024 * 1024;
const SEARCH_HITS = 200;

export interface AgentDirs {
  /** The scratch copy the model works in. */
  work: string;
  /** Its git directory, outside the copy (and outside the sandbox). */
  git: string;
}

export function agentDirs(workspaceDir: string): AgentDirs {
  return { work: path.join(workspaceDir, 'agent', 'work'), git: path.join(workspaceDir, 'agent', 'git') };
}

/** The starting snapshot's ref in the scratch git directory. */
const START_REF = 'refs/autodev/agent-start';

/**
 * The agent's workspace for the task, made on the first round from the clone at the base (its
 * untracked and ignored files too: installed dependencies, build output) and reused by repair rounds,
 * which continue the same conversation on the same files.
 */
export async function openAgentWorkspace(ctx: Ctx, inputs: AgentInputs): Promise<AgentWorkspace> {
  const dirs = agentDirs(ctx.ports.workspaceDir);
  const git = gitIn(ctx, dirs);
  if (!(await exists(path.join(dirs.git, START_REF)))) await createScratch(ctx, dirs, git);
  return workspaceOver(ctx, inputs, dirs, git);
}

type GitRun = (args: string[], input?: string) => Promise<string>;

function gitIn(ctx: Ctx, dirs: AgentDirs): GitRun {
  return async (args, input) => {
    const result = await ctx.ports.exec.run(
      [
        'git',
        // The work tree is the model's: no hook, no fsmonitor, no pager, whatever a config says.
        '-c',
        'core.hooksPath=/dev/null',
        '-c',
        'core.fsmonitor=false',
        '-c',
        'core.quotePath=false',
        `--git-dir=${dirs.git}`,
        `--work-tree=${dirs.work}`,
        ...args,
      ],
      {
        cwd: dirs.work,
        inheritEnv: true,
        env: {
          GIT_TERMINAL_PROMPT: '0',
          GIT_CONFIG_NOSYSTEM: '1',
          // Nor the user's: no filter driver or alias of theirs runs on files the model wrote.
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_AUTHOR_NAME: 'autodev',
          GIT_AUTHOR_EMAIL: 'autodev@localhost',
          GIT_COMMITTER_NAME: 'autodev',
          GIT_COMMITTER_EMAIL: 'autodev@localhost',
        },
        input,
        timeoutMs: 120_000,
        signal: ctx.signal,
        maxOutputBytes: 64 * 1024 * 1024,
      },
    );
    if (result.exitCode !== 0) {
      throw new Error(`git ${args[0]} failed in the agent's workspace: ${(result.stderr || result.stdout).trim().split('\n')[0]}`);
    }
    return result.stdout;
  };
}

async function createScratch(ctx: Ctx, dirs: AgentDirs, git: GitRun): Promise<void> {
  const repo = ctx.state.repoDir;
  const base = ctx.state.baseCommit ?? (await ctx.ports.git.headCommit(repo));
  await mkdir(dirs.work, { recursive: true });
  // The files as they are (symlinks as links), without the clone's .git.
  await cp(repo, dirs.work, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    filter: (source) => path.relative(repo, source) !== '.git',
  });
  await mkdir(dirs.git, { recursive: true });
  const init = await ctx.ports.exec.run(['git', 'init', '-q', '--bare', dirs.git], {
    inheritEnv: true,
    env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  if (init.exitCode !== 0) throw new Error(`git init failed for the agent's workspace: ${init.stderr.trim().split('\n')[0]}`);
  // A work tree of its own, given on every command (--work-tree), outside this directory.
  await git(['config', 'core.bare', 'false']);
  // The base's objects are borrowed from the clone, not copied.
  await mkdir(path.join(dirs.git, 'objects', 'info'), { recursive: true });
  await writeFile(path.join(dirs.git, 'objects', 'info', 'alternates'), `${path.join(repo, '.git', 'objects')}\n`);
  await git(['read-tree', base]);
  // The snapshot holds what the baseline left untracked (a lockfile it wrote), so the change is only the model's.
  await git(['add', '-A']);
  const tree = (await git(['write-tree'])).trim();
  const start = (await git(['commit-tree', tree, '-p', base, '-m', 'agent start'])).trim();
  await git(['update-ref', START_REF, start]);
}

function workspaceOver(ctx: Ctx, inputs: AgentInputs, dirs: AgentDirs, git: GitRun): AgentWorkspace {
  const root = dirs.work;

  /** The path inside the copy, or ToolRefused saying why not. */
  async function resolve(p: string, allowRoot = false): Promise<string> {
    const trimmed = p.trim();
    if (allowRoot && (trimmed === '' || trimmed === '.' || trimmed === './')) return '';
    const lexical = checkRepoPath(trimmed);
    if (!lexical.ok) throw new ToolRefused(`${p}: ${lexical.reason}`);
    const real = await checkRepoPathReal(root, lexical.path);
    if (!real.ok) throw new ToolRefused(`${p}: ${real.reason}`);
    return real.path;
  }

  async function changedIndex(): Promise<void> {
    await git(['add', '-A']);
  }

  return {
    async listFiles(dir) {
      const rel = await resolve(dir, true);
      await changedIndex();
      const out = await git(['ls-files', '-z', '--', rel === '' ? '.' : rel]);
      return out.split('\0').filter(Boolean).sort();
    },

    async readFile(p) {
      const rel = await resolve(p);
      const file = path.join(root, rel);
      const info = await stat(file).catch(() => null);
      if (!info) throw new Error(`${rel} does not exist`);
      if (info.isDirectory()) throw new Error(`${rel} is a directory (list_files shows what is in it)`);
      if (info.size > MAX_READ_BYTES) throw new Error(`${rel} is ${info.size} bytes, too large to read (search it instead)`);
      const bytes = await readFile(file);
      if (bytes.includes(0)) throw new Error(`${rel} is a binary file`);
      return bytes.toString('utf8');
    },

    async search(pattern, under) {
      if (!pattern.trim()) throw new Error('the pattern is empty');
      const rel = under ? await resolve(under, true) : '';
      const hits = await ctx.ports.searcher.search(path.join(root, rel), [pattern], { maxHitsPerTerm: SEARCH_HITS, signal: ctx.signal });
      return hits.map((h) => `${path.posix.join(rel, h.path)}:${h.line}: ${h.text}`);
    },

    async run(command, timeoutSecs, maxChars) {
      const sandbox = ctx.ports.sandbox;
      const settings = inputs.sandbox;
      const { mounts, env } = await cacheMounts(ctx, (settings.caches ?? []) as CacheNeed[]);
      const result = await sandbox.run({
        workspace: root,
        command: ['sh', '-c', command],
        env: scrubbedEnv({ ...env, ...((settings.env ?? {}) as Record<string, string>) }, { kind: sandbox.kind, installs: hostInstalls() }),
        network: false,
        mounts,
        toolchains: settings.binds as ToolchainBinds | undefined,
        timeoutMs: timeoutSecs * 1000,
        signal: ctx.signal,
        maxOutputBytes: MAX_COMMAND_BYTES,
      });
      const output = result.spawnError
        ? `could not start the command: ${result.spawnError}`
        : [result.stdout, result.stderr].filter(Boolean).join('\n');
      const outcome: RunOutcome = { exitCode: result.exitCode, timedOut: result.timedOut, output: headAndTail(output, maxChars) };
      return outcome;
    },

    async edit(p, oldText, newText) {
      const rel = await resolve(p);
      const file = path.join(root, rel);
      const info = await lstat(file).catch(() => null);
      if (oldText === null) {
        if (info) throw new Error(`${rel} exists: give old_text to change it`);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, newText);
        return `created ${rel} (${newText.split('\n').length} lines)`;
      }
      if (!info) throw new Error(`${rel} does not exist (omit old_text to create it)`);
      if (!info.isFile()) throw new Error(`${rel} is not a regular file`);
      const content = await readFile(file, 'utf8');
      // The model was shown the file's secrets as placeholders: its texts quote them, the file holds the values.
      const from = hasRedactions(oldText) ? restoreRedactions(oldText, [content]) : oldText;
      const to = hasRedactions(newText) ? restoreRedactions(newText, [content]) : newText;
      const first = content.indexOf(from);
      if (first < 0) throw new Error(`old_text does not occur in ${rel} (read the file again and copy the text exactly)`);
      if (content.indexOf(from, first + 1) >= 0)
        throw new Error(`old_text occurs more than once in ${rel}: include more surrounding lines`);
      await writeFile(file, content.slice(0, first) + to + content.slice(first + from.length));
      const line = content.slice(0, first).split('\n').length;
      return `edited ${rel} at line ${line}`;
    },

    async diff() {
      await changedIndex();
      return git([
        'diff',
        '--cached',
        '--binary',
        '--no-color',
        '--no-ext-diff',
        '--no-renames',
        '--src-prefix=a/',
        '--dst-prefix=b/',
        START_REF,
      ]);
    },
  };
}

/**
 * The toolchain's caches as the change's own runs see them (as in verify): the dependency caches
 * read-only, the base's build caches through the task's private copy.
 */
async function cacheMounts(ctx: Ctx, caches: CacheNeed[]): Promise<{ mounts: Mount[]; env: Record<string, string> }> {
  const mounts: Mount[] = [];
  const env: Record<string, string> = {};
  const repoKey = createHash('sha256').update(ctx.request.repo).digest('hex').slice(0, 12);
  const toolchainId = String(ctx.step.inputs.agent && (ctx.step.inputs.agent as AgentInputs).sandbox.toolchain);
  for (const cache of caches) {
    const shared = cache.perTask
      ? path.join(ctx.ports.workspaceDir, cache.dir)
      : cache.perRepository
        ? path.join(ctx.ports.cacheDir, cache.dir, `${repoKey}-${toolchainId}`)
        : path.join(ctx.ports.cacheDir, cache.dir);
    await mkdir(shared, { recursive: true });
    let dir = shared;
    if (cache.writer === 'baseline') {
      dir = (await privateCopy(ctx.ports.exec, shared, path.join(ctx.ports.workspaceDir, cache.privateCopy ?? `${cache.dir}-copy`))).dir;
    }
    mounts.push({ host: dir, target: dir, writable: cache.writer !== 'deps' });
    env[cache.env] = cache.envValue ? cache.envValue.split('{dir}').join(dir) : dir;
  }
  return { mounts, env };
}

/** The head and the tail of a long output, with what was left out said in between. */
export function headAndTail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const head = Math.floor(maxChars * 0.4);
  const tail = maxChars - head;
  return `${text.slice(0, head)}\n[… ${text.length - maxChars} characters left out …]\n${text.slice(-tail)}`;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
