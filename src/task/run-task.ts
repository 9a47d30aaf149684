// One task from request to result: prepare (ports, preflight, workspace), then the engine, which
// clones, plans through `build` below and runs the plan; then the workspace goes. Used through the
// session by `run`, `run --resume` and `serve`; it prints nothing and never exits the process.
import { containerImage, supportedToolchains } from '../plan/toolchains.js';
import type { Config } from '../config/schema.js';
import type { Env } from '../config/load.js';
import type { TaskRequest } from '../config/request.js';
import { runPlan, type EngineOutcome, type StepRecord } from '../engine/engine.js';
import type { EngineEvent, TaskStatus } from '../engine/types.js';
import type { Usage } from '../generate/types.js';
import type { Plan } from '../plan/types.js';
import { checkOnce, createSandbox, sandboxChecksFile } from '../ports/sandbox/index.js';
import { createSearcher } from '../ports/search.js';
import type { Llm, Sandbox, Searcher } from '../ports/types.js';
import { summarizeDependencies, type DependencyFinding } from '../depcheck/index.js';
import { diffDiagnostics, lineMapFromDiff, type TestVerdict } from '../toolchains/compare.js';
import { cacheDir } from '../observe/paths.js';
import { createRegistry } from '../steps/registry.js';
import { initialState, type CandidateRecord, type StepPorts, type TaskState } from '../steps/types.js';
import { ExitCode, ExternalError } from '../util/errors.js';
import { redactDeep } from '../util/redact.js';
import { createWorkspace, missingFor, planTask, prepareTask, probeHost, type Workspace } from './prepare.js';
import { preflightError } from './preflight.js';
import { createSnapshotWriter, type ResumeFrom, type SnapshotWriter } from './resume.js';
import { taskInfo, type TaskInfo } from './task.js';

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
  /**
   * The reproduction test written before the fix (generate.reproduce): how it did on the base and
   * with the change, and whether it is part of the change. Null when none was kept.
   */
  reproduction: ReproductionResult | null;
  /** Each test of the last test run by name (the toolchain's naming); null when the tests did not run. */
  tests: { passed: string[]; failed: string[]; ignored: string[] } | null;
  /**
   * Every test of the base and the last test run with its verdict (fixed, regressed, flaky, new,
   * still_failing, gone, passed), what the change did first; null when the tests were not judged.
   */
  verdicts: TestVerdict[] | null;
  /**
   * The last lint run's diagnostics, each marked `new` when the change added it (over the base's);
   * null when lint did not run on the change. `--sarif` writes them out.
   */
  lint: { diagnostics: LintDiagnostic[] } | null;
  verification: Record<string, string>;
  /**
   * The candidates tried (generate.candidates > 1), every round, in the order they were generated:
   * who wrote each, how it fared in its own workspace and why it was chosen or dropped. [] otherwise.
   */
  candidates: CandidateSummary[];
  /** No candidate met the bar: why, and the label of the draft pull request (if one was opened). Null otherwise. */
  abstain: { label: string | null; diagnosis: string } | null;
  /** The agent strategy's conversation: model calls, tool calls by tool, why it stopped, or the fallback; null when it did not run. */
  agent: { turns: number; toolCalls: Record<string, number>; stopReason: string | null; fellBack: string | null } | null;
  workspace: string | null;
  notes: string[];
}

export interface ReproductionResult {
  file: string;
  tests: string[];
  /** Committed with the change (generate.keep_reproduction), or present only while testing. */
  kept: boolean;
  base: { outcome: 'failed'; failure: string };
  /** `not run`: the change's tests did not run (the task ended before), or these tests were not in the run. */
  head: { outcome: 'passed' | 'failed' | 'not run'; passed: string[]; failed: string[]; notRun: string[] };
}

export interface LintDiagnostic {
  level: 'error' | 'warning';
  code: string | null;
  message: string;
  file: string | null;
  line: number | null;
  column: number | null;
  /** Added by the change (not on the base). */
  new: boolean;
}

/** The change's lint diagnostics, each marked new or already on the base (as the lint step judged them). */
function lintDiagnostics(state: TaskState): LintDiagnostic[] | null {
  const lint = state.verify.lint;
  if (!lint) return null;
  const added = new Set(
    diffDiagnostics(state.baseline.lint?.diagnostics ?? [], lint.diagnostics, lineMapFromDiff(state.change?.diff ?? '')),
  );
  return lint.diagnostics.map((d) => ({
    level: d.level,
    code: d.code,
    message: d.message,
    file: d.file,
    line: d.line,
    column: d.column,
    new: added.has(d),
  }));
}

/** A candidate in the result: its record without the patch, the diff and the repair feedback. */
export type CandidateSummary = Omit<CandidateRecord, 'generation' | 'feedback' | 'diff' | 'repairNext' | 'verified'>;

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
  /**
   * Wraps the model port: a queue worker checks the fleet's rate limit and daily budget before each
   * call and traces it (the call itself is unchanged).
   */
  wrapLlm?: (llm: Llm) => Llm;
  /** `grade`: only fetch the dependencies and run the tests, recording each test's result (`autodev eval`). */
  purpose?: 'task' | 'grade';
}

export async function runTask(input: RunTaskInput): Promise<TaskResult> {
  const { request, config, env, resume } = input;
  const prepared = await prepareTask({ request, config, env, taskId: input.taskId, cloneUrl: input.cloneUrl });
  const { taskId, exec, git, credentials } = prepared;
  let workspace: Workspace | null = resume ? resume.workspace : null;
  const state: TaskState = resume ? resume.state : initialState('');
  let task = taskInfo(taskId, request, request.base ?? null);
  let plan: Plan | null = resume ? resume.plan : null;
  let sandbox: Sandbox | null = null;
  let searcher: Searcher = createSearcher({});
  let probes: ReturnType<typeof probeHost> | null = null;
  // After every finished step: the plan and the blackboard, so `run --resume` can continue from there.
  let snapshot: SnapshotWriter | null = null;
  const emit = (event: EngineEvent): void => {
    snapshot?.onEvent(event);
    input.emit(event);
  };
  // Steps get ports, never the config: every setting they use is in their plan step.
  const ports: StepPorts = {
    credentials,
    exec,
    git,
    // Chosen and checked once the plan exists (it names the sandbox); the clone needs none.
    get sandbox(): Sandbox {
      if (!sandbox) throw new Error('no sandbox before the plan exists');
      return sandbox;
    },
    get searcher(): Searcher {
      return searcher;
    },
    llm: async () => {
      const { createLlm } = await import('../ports/llm.js');
      const llm = createLlm({
        apiUrl: config.llm.api_url,
        apiKey: credentials.llmApiKey,
        timeoutMs: config.llm.request_timeout_secs * 1000,
        provider: config.llm.provider,
      });
      return input.wrapLlm ? input.wrapLlm(llm) : llm;
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
    get workspaceDir(): string {
      return workspace!.dir;
    },
  };

  // Before anything is spent (a workspace, a clone, a baseline build): the credentials the run will need.
  const check = async (): Promise<void> => {
    const prPlanned = resume ? resume.plan.steps.some((s) => s.tool === 'pr') : undefined;
    // A grading run asks no model: what only the model needs is not missing.
    const grading = input.purpose === 'grade';
    const forModel = (key: string): boolean => key === config.llm.api_key_env || key.startsWith('llm.');
    const refusal = preflightError(missingFor(prepared, prPlanned).filter((m) => !(grading && forModel(m.key))));
    if (refusal) throw refusal;
    const opened = workspace ?? (await createWorkspace(taskId));
    workspace = opened;
    state.repoDir ||= opened.repoDir;
    input.onWorkspace?.(opened.dir);
    snapshot = createSnapshotWriter({
      workspaceDir: opened.dir,
      taskId,
      state,
      plan: () => plan,
      finished: resume?.finished,
      warn: (message) => input.emit({ type: 'log', taskId, level: 'warn', message }),
    });
    // Learnt while the clone runs, so they cost no time. (The tokenizer is not preloaded here: its
    // table is CPU work on this thread, which would hold up the clone's end and the planning.)
    probes = probeHost(prepared, input.signal, { sandbox: true });
  };

  // After the clone (or in the resumed workspace): facts, plan, and what the plan needs of this machine.
  const build = async (): Promise<Plan> => {
    const [host, unreachable] = await Promise.all([probes!.host, probes!.unreachable]);
    if (resume) {
      emit({ type: 'log', taskId, level: 'info', message: `resuming task ${taskId} at step ${resume.startAt} in ${workspace!.dir}` });
    } else {
      const down = preflightError(unreachable && input.purpose !== 'grade' ? [unreachable] : []);
      if (down) throw down;
      plan = await planTask(prepared, state.repoDir, state.baseBranch!, host, input.purpose);
    }
    const made = plan!;
    task = taskInfo(taskId, request, made.base);
    input.onPlan?.(made, task);
    if (!made.toolchain) {
      throw new ExternalError(
        `cannot verify changes to ${request.repo}: ${made.toolchainReason}`,
        `autodev supports ${supportedToolchains()} projects`,
      );
    }
    // The image the plan chose for its toolchain (its config key, sandbox_image, or its default).
    const image = made.steps.map((s) => s.inputs.image).find((i): i is string => typeof i === 'string') ?? containerImage(config, null);
    const chosen = createSandbox(made.sandbox, { exec, image });
    // Checked while the clone ran when the config named this kind (with the same image); once per
    // process, and bwrap's pass once per machine state (ports/sandbox/checked.ts).
    const early = probes!.sandbox?.kind === made.sandbox && probes!.sandbox.image === image ? probes!.sandbox.problem : null;
    const problem = await (early ?? checkOnce(chosen, { exec, image, machineFile: sandboxChecksFile(cacheDir(env)) }));
    if (problem)
      throw new ExternalError(
        `sandbox ${made.sandbox} is not usable: ${problem}`,
        'run `autodev doctor`, or choose another with --sandbox',
      );
    if (made.sandbox === 'none') {
      emit({ type: 'log', taskId, level: 'warn', message: 'sandbox "none": generated code runs on this machine without isolation' });
    }
    sandbox = chosen;
    searcher = createSearcher({ rgPath: host.programs.rg ? undefined : null });
    return resume ? resume.enginePlan : made;
  };

  let outcome: EngineOutcome;
  try {
    outcome = await runPlan({
      taskId,
      request,
      plan: { first: resume ? [] : [prepared.clone], build },
      check,
      tools: createRegistry(),
      ports,
      state,
      signal: input.signal,
      emit,
      ...(resume ? { startAt: resume.startAt } : {}),
    });
  } finally {
    const left = workspace as Workspace | null;
    if (left && !request.keepWorkspace) await left.remove();
  }
  const kept = workspace as Workspace | null;
  return redactDeep(buildResult(task, plan, outcome, state, request.keepWorkspace && kept ? kept.dir : null));
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
    reason: outcome.reason ?? state.abstain?.diagnosis ?? null,
    exitCode: exitCodeFor(outcome),
    plan,
    steps: outcome.steps.map(({ data: _data, ...rest }) => rest),
    change: state.change,
    pushed: state.pushed,
    pr: state.pr ? { url: state.pr.url, number: state.pr.number, draft: state.pr.draft, updated: state.pr.updated } : null,
    policy: state.policy ? { engine: state.policy.engine, decision: state.policy.decision, reasons: state.policy.reasons } : null,
    secrets: state.secrets
      ? {
          engine: state.secrets.engine,
          findings: state.secrets.findings.map((f) => ({ rule: f.rule, file: f.file, line: f.line, redacted: f.redacted })),
        }
      : null,
    dependencies: state.dependencies
      ? { summary: summarizeDependencies(state.dependencies), findings: state.dependencies.findings, warnings: state.dependencies.warnings }
      : null,
    usage: state.usage,
    baseline: {
      failingTests: state.baseline.test?.tests?.failed.map((f) => f.name) ?? [],
      build: state.baseline.build?.summary ?? null,
      test: state.baseline.test?.summary ?? null,
      lint: state.baseline.lint
        ? `${state.baseline.lint.summary}${state.baseline.lint.couldNotRun ? ` (${state.baseline.lint.couldNotRun})` : ''}`
        : null,
    },
    evidence: state.verify.test?.evidence ?? null,
    reproduction: reproductionResult(state),
    tests: state.verify.test?.tests
      ? {
          passed: state.verify.test.tests.passed,
          failed: state.verify.test.tests.failed.map((f) => f.name),
          ignored: state.verify.test.tests.ignoredTests ?? [],
        }
      : null,
    verdicts: state.verify.test?.verdicts ?? null,
    lint: state.verify.lint ? { diagnostics: lintDiagnostics(state) ?? [] } : null,
    verification,
    candidates: (state.candidates ?? []).map(candidateSummary),
    abstain: abstainOf(outcome, state),
    agent: state.agent
      ? { turns: state.agent.turns, toolCalls: state.agent.toolCalls, stopReason: state.agent.stopReason, fellBack: state.agent.fellBack }
      : null,
    workspace,
    notes: [...(plan?.notes ?? []), ...state.notes],
  };
}

function reproductionResult(state: TaskState): ReproductionResult | null {
  const repro = state.reproduction;
  if (!repro) return null;
  const head = repro.head ?? { passed: [], failed: [], notRun: repro.tests };
  const outcome = head.failed.length ? 'failed' : head.notRun.length ? 'not run' : 'passed';
  return {
    file: repro.file,
    tests: repro.tests,
    kept: repro.kept ?? false,
    base: { outcome: 'failed', failure: repro.baseFailure },
    head: { outcome, ...head },
  };
}

function candidateSummary(record: CandidateRecord): CandidateSummary {
  const { generation: _g, feedback: _f, diff: _d, repairNext: _r, verified: _v, ...summary } = record;
  return summary;
}

/** The abstention: a draft for a human (state.abstain), or no pull request (select ended the task unproven). */
function abstainOf(outcome: EngineOutcome, state: TaskState): TaskResult['abstain'] {
  if (state.abstain) return { label: state.abstain.label, diagnosis: state.abstain.diagnosis };
  const abstained = outcome.failedStep === 'select' && outcome.status === 'unproven';
  return abstained ? { label: null, diagnosis: outcome.reason ?? 'no candidate meets the bar' } : null;
}
