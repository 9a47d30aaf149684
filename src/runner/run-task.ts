// One task from request to result: workspace, clone, plan, engine, observers, cleanup. Used by
// `autodev run` (and the REST server); it prints nothing and never exits the process.
import { supportedToolchains } from '../plan/toolchains.js';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Env } from '../config/load.js';
import { runPlan, type EngineOutcome, type StepRecord } from '../engine/engine.js';
import type { EngineEvent, TaskRequest, TaskStatus, Usage } from '../engine/types.js';
import { readRepoFacts } from '../plan/facts.js';
import { buildPlan } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import { createExec } from '../ports/exec.js';
import { createGit } from '../ports/git.js';
import { createSandbox } from '../ports/sandbox/index.js';
import { createSearcher } from '../ports/search.js';
import { summarizeDependencies, type DependencyFinding } from '../depcheck/index.js';
import { cacheDir } from '../observe/paths.js';
import { createRegistry } from '../steps/registry.js';
import { initialState, type StepPorts, type TaskState } from '../steps/types.js';
import { AutodevError, ExitCode, ExternalError } from '../util/errors.js';
import { redactDeep, registerSecret } from '../util/redact.js';
import { cloneForTask } from './clone.js';
import { githubTarget } from '../steps/pr.js';
import { gatherHostFacts } from './host.js';
import { checkLlmEndpoint, missingCredentials, preflightError } from './preflight.js';
import { createSnapshotWriter, type ResumeFrom } from './resume.js';
import { newTaskId, taskInfo, type TaskInfo } from './task.js';
import { createWorkspace } from './workspace.js';

export interface TaskResult {
  task: TaskInfo;
  status: TaskStatus;
  reason: string | null;
  exitCode: number;
  plan: Plan | null;
  steps: Omit<StepRecord, 'data'>[];
  change: { branch: string; commit: string; files: string[]; diff: string } | null;
  pushed: { remote: string; branch: string } | null;
  pr: { url: string; number: number; draft: boolean; updated: boolean } | null;
  policy: { engine: string; decision: string; reasons: { code: string; message: string }[] } | null;
  secrets: { engine: string; findings: { rule: string; file: string; line: number; redacted: string }[] } | null;
  /** deps-check: what the change does to the dependencies; null when they were not compared. */
  dependencies: { summary: string; findings: DependencyFinding[]; warnings: string[] } | null;
  usage: Usage;
  baseline: { failingTests: string[]; build: string | null; test: string | null; lint: string | null };
  /**
   * What the last test run showed: tests failing on the base that pass with the change, tests the
   * change adds or modifies that fail on the base and pass with it, and tests that stopped running.
   * Null when the change's tests were not judged.
   */
  evidence: { fixed: string[]; failOnBase: string[]; gone: string[] } | null;
  verification: Record<string, string>;
  workspace: string | null;
  notes: string[];
}

export interface RunTaskInput {
  request: TaskRequest;
  config: Config;
  env: Env;
  emit: (event: EngineEvent) => void;
  signal: AbortSignal;
  taskId?: string;
  /** Called once the plan exists (the progress view needs it). */
  onPlan?: (plan: Plan, task: TaskInfo) => void;
  /** Called once the workspace exists (the store records it, so the task can be resumed). */
  onWorkspace?: (dir: string) => void;
  /** Continue an earlier run of `taskId` in its workspace (`run --resume`) instead of starting afresh. */
  resume?: ResumeFrom;
  /** What to clone when it differs from `request.repo`: the URL with the credentials the user gave (never stored). */
  cloneUrl?: string;
}

export async function runTask(input: RunTaskInput): Promise<TaskResult> {
  const { request, config, env } = input;
  const taskId = input.taskId ?? newTaskId();
  const credentials = {
    llmApiKey: env[config.llm.api_key_env] || null,
    githubToken: env[config.git.github_token_env] || null,
  };
  registerSecret(credentials.llmApiKey);
  registerSecret(credentials.githubToken);
  registerSecret(urlPassword(input.cloneUrl));
  const status = (s: TaskStatus, reason?: string): void =>
    input.emit({ type: 'task.status', taskId, status: s, at: new Date().toISOString(), ...(reason ? { reason } : {}) });

  const { resume } = input;
  if (!resume) status('pending');
  const exec = createExec();
  // Pushes to one repository take a lock beside the caches the runs share (cargo targets, baselines).
  const git = createGit({ githubApiUrl: config.git.github_api_url, lockDir: path.join(cacheDir(env), 'locks') });
  // Before anything is spent (a workspace, a clone, a baseline build): the credentials the run will need.
  const forge = await githubTarget(request.repo, config, git);
  const prPlanned = resume ? resume.plan.steps.some((s) => s.tool === 'pr') : !request.noPr && forge !== null;
  const refusal = preflightError(missingCredentials({ config, env, request, forge, prPlanned }));
  if (refusal) {
    status('failed', refusal.message);
    const outcome: EngineOutcome = { status: 'failed', reason: refusal.message, failedStep: null, error: refusal, rounds: 0, steps: [] };
    return redactDeep(buildResult(taskInfo(taskId, request, request.base ?? null), resume?.plan ?? null, outcome, resume?.state ?? initialState(''), null));
  }
  const workspace = resume ? resume.workspace : await createWorkspace(taskId);
  input.onWorkspace?.(workspace.dir);
  const state: TaskState = resume ? resume.state : initialState(workspace.repoDir);
  let task = taskInfo(taskId, request, request.base ?? null);
  let plan: Plan | null = null;
  let outcome: EngineOutcome | null = null;
  // After every finished step: the plan and the blackboard, so `run --resume` can continue from there.
  const snapshot = createSnapshotWriter({
    workspaceDir: workspace.dir,
    taskId,
    state,
    plan: () => plan,
    finished: resume?.finished,
    warn: (message) => input.emit({ type: 'log', taskId, level: 'warn', message }),
  });
  const emit = (event: EngineEvent): void => {
    snapshot.onEvent(event);
    input.emit(event);
  };
  try {
    let host: Awaited<ReturnType<typeof gatherHostFacts>>;
    if (resume) {
      plan = resume.plan;
      host = await gatherHostFacts(exec, { image: config.sandbox_image, sandbox: config.sandbox });
      emit({ type: 'log', taskId, level: 'info', message: `resuming task ${taskId} at step ${resume.startAt} in ${workspace.dir}` });
    } else {
      status('planning');
    // The tokenizer takes a while to load; warm it while the clone runs (search needs it next).
    void import('../context/budget.js').then((m) => m.loadTokenCounter(config.llm.model)).catch(() => undefined);
      // Whether anything answers at llm.api_url is learnt while the clone runs, so it costs no time.
      const [cloned, gathered, unreachable] = await Promise.all([
        cloneForTask({ git, request, config, env: credentials.githubToken ? { [config.git.github_token_env]: credentials.githubToken } : {}, dest: workspace.repoDir, source: input.cloneUrl, signal: input.signal }),
        gatherHostFacts(exec, { image: config.sandbox_image, sandbox: config.sandbox }),
        checkLlmEndpoint(config, input.signal),
      ]);
      const down = preflightError(unreachable ? [unreachable] : []);
      if (down) throw down;
      host = gathered;
      state.baseBranch = cloned.branch;
      state.baseCommit = cloned.commit;
      const facts = await readRepoFacts(workspace.repoDir, cloned.branch);
      plan = buildPlan({ request, config, repo: facts, host, forge });
    }
    task = taskInfo(taskId, request, plan.base);
    input.onPlan?.(plan, task);
    if (!plan.toolchain) {
      throw new ExternalError(`cannot verify changes to ${request.repo}: ${plan.toolchainReason}`, `autodev supports ${supportedToolchains()} projects`);
    }
    const sandbox = createSandbox(plan.sandbox, { exec, image: config.sandbox_image });
    const problem = await sandbox.check();
    if (problem) throw new ExternalError(`sandbox ${plan.sandbox} is not usable: ${problem}`, 'run `autodev doctor`, or choose another with --sandbox');
    if (plan.sandbox === 'none') {
      emit({ type: 'log', taskId, level: 'warn', message: 'sandbox "none": generated code runs on this machine without isolation' });
    }
    const ports: StepPorts = {
      config,
      credentials,
      exec,
      git,
      sandbox,
      searcher: createSearcher({ rgPath: host.programs.rg ? undefined : null }),
      llm: async () => {
        const { createLlm } = await import('../ports/llm.js');
        return createLlm({ apiUrl: config.llm.api_url, apiKey: credentials.llmApiKey, timeoutMs: config.llm.request_timeout_secs * 1000, provider: config.llm.provider });
      },
      forge: async () => {
        const { createForge } = await import('../ports/forge.js');
        return createForge({ baseUrl: config.git.github_api_url, token: credentials.githubToken });
      },
      opa: config.opa_url
        ? async () => {
            const { createOpa } = await import('../ports/opa.js');
            return createOpa({ url: config.opa_url, policyPackage: config.policy_package, timeoutMs: 30_000 });
          }
        : null,
      cacheDir: cacheDir(env),
      workspaceDir: workspace.dir,
    };
    outcome = await runPlan({
      taskId,
      request,
      plan: resume ? resume.enginePlan : plan,
      tools: createRegistry(),
      ports,
      state,
      signal: input.signal,
      emit,
      ...(resume ? { startAt: resume.startAt } : {}),
    });
  } catch (error) {
    if (input.signal.aborted) {
      outcome = { status: 'cancelled', reason: 'cancelled', failedStep: null, error: null, rounds: 0, steps: outcome?.steps ?? [] };
      status('cancelled', 'cancelled');
    } else if (error instanceof AutodevError) {
      outcome = { status: error.exitCode === ExitCode.refused ? 'denied' : 'failed', reason: error.message, failedStep: null, error, rounds: 0, steps: [] };
      status(outcome.status, error.message);
    } else {
      throw error;
    }
  } finally {
    if (!request.keepWorkspace) await workspace.remove();
  }
  return redactDeep(buildResult(task, plan, outcome!, state, request.keepWorkspace ? workspace.dir : null));
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

export function exitCodeFor(outcome: Pick<EngineOutcome, 'status' | 'error'>): number {
  if (outcome.error) return outcome.error.exitCode;
  switch (outcome.status) {
    case 'verified':
    case 'pr_created':
    case 'merged':
      return ExitCode.ok;
    case 'denied':
      return ExitCode.refused;
    case 'unproven':
      return ExitCode.failed;
    case 'cancelled':
      return ExitCode.interrupted;
    default:
      return ExitCode.failed;
  }
}

function buildResult(task: TaskInfo, plan: Plan | null, outcome: EngineOutcome, state: TaskState, workspace: string | null): TaskResult {
  const verification: Record<string, string> = {};
  for (const record of outcome.steps) if (record.mode === 'change') verification[record.id] = `${record.status}: ${record.summary}`;
  return {
    task,
    status: outcome.status,
    reason: outcome.reason,
    exitCode: exitCodeFor(outcome),
    plan,
    steps: outcome.steps.map(({ data: _data, ...rest }) => rest),
    change: state.change,
    pushed: state.pushed,
    pr: state.pr ? { url: state.pr.url, number: state.pr.number, draft: state.pr.draft, updated: state.pr.updated } : null,
    policy: state.policy ? { engine: state.policy.engine, decision: state.policy.decision, reasons: state.policy.reasons } : null,
    secrets: state.secrets
      ? { engine: state.secrets.engine, findings: state.secrets.findings.map((f) => ({ rule: f.rule, file: f.file, line: f.line, redacted: f.redacted })) }
      : null,
    dependencies: state.dependencies
      ? { summary: summarizeDependencies(state.dependencies), findings: state.dependencies.findings, warnings: state.dependencies.warnings }
      : null,
    usage: state.usage,
    baseline: {
      failingTests: state.baseline.test?.tests?.failed.map((f) => f.name) ?? [],
      build: state.baseline.build?.summary ?? null,
      test: state.baseline.test?.summary ?? null,
      lint: state.baseline.lint ? `${state.baseline.lint.summary}${state.baseline.lint.couldNotRun ? ` (${state.baseline.lint.couldNotRun})` : ''}` : null,
    },
    evidence: state.verify.test?.evidence ?? null,
    verification,
    workspace,
    notes: [...(plan?.notes ?? []), ...state.notes],
  };
}
