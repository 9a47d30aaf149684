// Prepare: everything between a validated request and a plan — the ports a task uses, where its pull
// request would go, what it lacks, its workspace, the clone, the repository and host facts, the plan.
// `run`, `run --resume` and `serve` (through runTask) and `--plan-only` all come through here, so the
// plan `--plan-only` prints is made exactly as a run makes it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../config/load.js';
import type { TaskRequest } from '../config/request.js';
import type { Config } from '../config/schema.js';
import { cacheDir } from '../observe/paths.js';
import { readRepoFacts, type HostFacts } from '../plan/facts.js';
import { buildPlan, cloneStep } from '../plan/planner.js';
import { containerImage } from '../plan/toolchains.js';
import { inputsOf, type CloneInputs, type ForgeTarget, type Plan, type PlanStep, type SandboxKind } from '../plan/types.js';
import { createExec } from '../ports/exec.js';
import { createGit } from '../ports/git.js';
import { checkOnce, createSandbox, sandboxChecksFile } from '../ports/sandbox/index.js';
import { parseGitHubRemote } from '../ports/github-remote.js';
import type { Exec, Git } from '../ports/types.js';
import { cloneRepository } from '../steps/clone.js';
import type { Credentials } from '../steps/types.js';
import { registerSecret } from '../util/redact.js';
import { gatherHostFacts } from './host.js';
import { checkLlmEndpoint, missingCredentials, type Missing } from './preflight.js';
import { newTaskId, taskInfo, type TaskInfo } from './task.js';

/** What a task needs before it spends anything, and what it is about to do first (the clone). */
export interface PreparedTask {
  taskId: string;
  request: TaskRequest;
  config: Config;
  env: Env;
  exec: Exec;
  git: Git;
  credentials: Credentials;
  /** Where the pull request would go; null when the repository is no GitHub repository and git.github_repo names none. */
  forge: ForgeTarget | null;
  /** The step that runs before the plan exists; the plan lists it first. */
  clone: PlanStep;
}

export async function prepareTask(input: {
  request: TaskRequest;
  config: Config;
  env: Env;
  taskId?: string;
  cloneUrl?: string;
}): Promise<PreparedTask> {
  const { request, config, env } = input;
  const credentials: Credentials = {
    llmApiKey: env[config.llm.api_key_env] || null,
    githubToken: env[config.git.github_token_env] || null,
    ...(input.cloneUrl ? { cloneUrl: input.cloneUrl } : {}),
  };
  registerSecret(credentials.llmApiKey);
  registerSecret(credentials.githubToken);
  registerSecret(urlPassword(input.cloneUrl));
  // Pushes to one repository (and fetches into its mirror) take a lock beside the caches the runs
  // share (cargo targets, baselines, the repositories' mirrors).
  const cache = cacheDir(env);
  const git = createGit({
    githubApiUrl: config.git.github_api_url,
    lockDir: path.join(cache, 'locks'),
    ...(config.git.clone_cache ? { mirrorDir: path.join(cache, 'mirrors') } : {}),
  });
  return {
    taskId: input.taskId ?? newTaskId(),
    request,
    config,
    env,
    exec: createExec(),
    git,
    credentials,
    forge: await githubTarget(request.repo, config, git),
    clone: cloneStep(request, config),
  };
}

/** What the run would lack (credentials, a GitHub repository for its pull request), from config and env only. */
export function missingFor(task: PreparedTask, prPlanned = !task.request.noPr && task.forge !== null): Missing[] {
  return missingCredentials({ config: task.config, env: task.env, request: task.request, forge: task.forge, prPlanned });
}

/**
 * Host facts, whether the LLM endpoint answers and whether the configured sandbox works: learnt
 * while the clone runs, so they cost no time. (With `sandbox = "auto"` the host facts pick one.)
 */
export function probeHost(
  task: PreparedTask,
  signal?: AbortSignal,
  options: { sandbox?: boolean } = {},
): {
  host: Promise<HostFacts>;
  unreachable: Promise<Missing | null>;
  sandbox: { kind: SandboxKind; image: string; problem: Promise<string | null> } | null;
} {
  const { config, exec } = task;
  const machineFile = sandboxChecksFile(cacheDir(task.env));
  // --plan-only runs no sandbox: only a run checks the configured one early.
  const configured = config.sandbox === 'auto' || !options.sandbox ? null : config.sandbox;
  // The plan may pick the toolchain's own image; a check of another image is simply not used.
  const earlyImage = containerImage(config, null);
  return {
    host: gatherHostFacts(exec, {
      image: earlyImage,
      sandbox: config.sandbox,
      cacheDir: cacheDir(task.env),
      env: task.env,
    }),
    unreachable: checkLlmEndpoint(config, signal),
    sandbox: configured
      ? {
          kind: configured,
          image: earlyImage,
          problem: checkOnce(createSandbox(configured, { exec, image: earlyImage }), {
            exec,
            image: earlyImage,
            machineFile,
          }).catch((error: Error) => `the check failed: ${error.message}`),
        }
      : null,
  };
}

/** The plan, from the clone in `repoDir` (on `branch`) and the host's facts. */
export async function planTask(
  task: PreparedTask,
  repoDir: string,
  branch: string,
  host: HostFacts,
  purpose: 'task' | 'grade' = 'task',
): Promise<Plan> {
  const repo = await readRepoFacts(repoDir, branch);
  return buildPlan({ request: task.request, config: task.config, repo, host, forge: task.forge, purpose });
}

/**
 * `--plan-only`: the clone (shallow, into a temporary workspace, never touching the user's
 * repository), the facts and the plan, as a run makes them; then the workspace goes. No LLM, no
 * build, no push. It also says what a run would miss.
 */
export async function planOnly(input: {
  request: TaskRequest;
  config: Config;
  env: Env;
  cloneUrl?: string;
}): Promise<{ task: TaskInfo; plan: Plan; missing: Missing[] }> {
  const task = await prepareTask(input);
  const workspace = await createWorkspace(task.taskId);
  try {
    const probes = probeHost(task);
    const cloned = await cloneRepository({
      git: task.git,
      inputs: inputsOf<CloneInputs>(task.clone),
      token: task.credentials.githubToken,
      url: task.credentials.cloneUrl,
      dest: workspace.repoDir,
    });
    const [host, unreachable] = await Promise.all([probes.host, probes.unreachable]);
    const plan = await planTask(task, workspace.repoDir, cloned.branch, host);
    const missing = [
      ...missingFor(
        task,
        plan.steps.some((s) => s.tool === 'pr'),
      ),
      ...(unreachable ? [unreachable] : []),
    ];
    return { task: taskInfo(task.taskId, task.request, plan.base), plan, missing };
  } finally {
    await workspace.remove();
  }
}

/** One directory per task under the OS temp dir: the clone lives in <dir>/repo. */
export interface Workspace {
  dir: string;
  repoDir: string;
  remove(): Promise<void>;
}

export async function createWorkspace(taskId: string, root = os.tmpdir()): Promise<Workspace> {
  const dir = await mkdtemp(path.join(root, `autodev-${taskId}-`));
  return {
    dir,
    repoDir: path.join(dir, 'repo'),
    remove: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}

/** The GitHub repository a pull request for `repo` goes to; the planner is told it before the clone. */
export async function githubTarget(repo: string, config: Config, git: Git): Promise<ForgeTarget | null> {
  if (config.git.github_repo) {
    const [owner, name] = config.git.github_repo.split('/');
    return { owner, repo: name };
  }
  const apiHost = safeHost(config.git.github_api_url);
  const enterpriseHosts = apiHost && apiHost !== 'api.github.com' ? [apiHost] : [];
  const direct = parseGitHubRemote(repo, { enterpriseHosts });
  if (direct) return direct;
  // A local path: its own origin may be the GitHub repository.
  const origin = await git.remoteUrl(repo).catch(() => null);
  return origin ? parseGitHubRemote(origin, { enterpriseHosts }) : null;
}

function safeHost(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}

/** The password (or token) of a URL's userinfo: a secret to mask wherever git might echo it. */
function urlPassword(url: string | undefined): string | null {
  const match = url ? /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/i.exec(url) : null;
  if (!match) return null;
  const [, scheme, userinfo] = match;
  // A lone user name is a token over http(s) (https://TOKEN@host), and only a login name elsewhere.
  if (!userinfo.includes(':') && !/^https?:/i.test(scheme)) return null;
  const secret = userinfo.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : userinfo;
  try {
    return decodeURIComponent(secret);
  } catch {
    return secret;
  }
}
