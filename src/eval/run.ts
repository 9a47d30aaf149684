// `autodev eval`: every task with every model, each run exactly as `autodev run --no-pr` runs it,
// then graded on its own — a fresh checkout of the result, the hidden tests applied, the named tests
// run in the sandbox — whatever the run claimed. Results are appended as each run ends; a rerun
// skips what is done; budgets across the whole eval are handed to each run as its own.
import path from 'node:path';
import type { Env } from '../config/load.js';
import { taskRequestSchema, type TaskRequest } from '../config/request.js';
import type { Config } from '../config/schema.js';
import { createMetrics } from '../observe/metrics.js';
import { cacheDir, stateDir } from '../observe/paths.js';
import { checkGates } from '../plan/gates.js';
import { createExec } from '../ports/exec.js';
import type { Exec } from '../ports/types.js';
import { createTaskStore, newStoredTask, type TaskStore } from '../store/task-store.js';
import type { TaskResult } from '../task/run-task.js';
import { openTaskSession } from '../task/session.js';
import { newTaskId } from '../task/task.js';
import { appendOutcome, outcomeKey, outcomeLabel, readOutcomes, variantLabel, type EvalCategory, type EvalOutcome } from './results.js';
import { BASE_BRANCH, EvalSetupError, commitOnBranch, mirrorFor, safeName, taskRepo } from './repos.js';
import { isSimulated, simulatedRates, startSimulatedModel, type SimulatedServer } from './simulator.js';
import type { EvalTask } from './tasks.js';

export interface EvalOptions {
  tasks: EvalTask[];
  models: string[];
  /** Generation strategies compared (`--strategies`): every model runs every task with each; absent, the config's one. */
  strategies?: string[];
  config: Config;
  env: Env;
  cwd: string;
  outDir: string;
  jobs: number;
  maxCostUsd: number | null;
  maxTokens: number | null;
  seed: number;
  signal: AbortSignal;
  /** Called as runs start and end (the progress view). */
  onProgress?: (event: EvalProgress) => void;
  /** Runs the jobs, `concurrency` at a time (default: a plain pool; the CLI's terminal view brings its own). */
  schedule?: Scheduler;
}

/** One (task, model) run: `run` records its outcome, or says why it was skipped (budget spent, interrupted). */
export interface EvalJob {
  task: string;
  model: string;
  run(): Promise<{ outcome: EvalOutcome | null; skipped: string | null }>;
}

export type Scheduler = (jobs: EvalJob[], concurrency: number) => Promise<void>;

/** `concurrency` workers taking the jobs in order. */
async function poolSchedule(jobs: EvalJob[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++].run();
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
}

export type EvalProgress =
  | { type: 'planned'; total: number; done: number }
  | { type: 'started'; task: string; model: string }
  | { type: 'finished'; outcome: EvalOutcome }
  | { type: 'stopped'; reason: string }
  | { type: 'checked'; check: GoldCheck };

export interface EvalSummary {
  outcomes: EvalOutcome[];
  /** Runs not done: the budget ran out, or the eval was interrupted. */
  skipped: number;
  stoppedBy: string | null;
  resultsFile: string;
}

export async function runEval(options: EvalOptions): Promise<EvalSummary> {
  const { tasks, models, config, env } = options;
  for (const model of models) if (isSimulated(model)) simulatedRates(model);
  const variants = evalVariants(models, options.strategies);
  for (const repo of new Set(tasks.map((t) => t.repo))) {
    checkGates(config, repo, options.cwd);
    // Each strategy as its runs will have it (agent mode with sandbox = "none" is refused here, before any run).
    for (const strategy of options.strategies ?? []) {
      checkGates({ ...config, generate: { ...config.generate, strategy: strategy as Config['generate']['strategy'] } }, repo, options.cwd);
    }
  }
  const resultsFile = path.join(options.outDir, 'results.jsonl');
  const previous = await readOutcomes(resultsFile);
  const done = new Map(previous.map((o) => [outcomeKey(o.task, outcomeLabel(o)), o]));
  const pending = tasks
    .flatMap((task) => variants.map((variant) => ({ task, ...variant })))
    .filter((r) => !done.has(outcomeKey(r.task.id, r.label)));
  const total = tasks.length * variants.length;
  options.onProgress?.({ type: 'planned', total, done: total - pending.length });

  const exec = createExec();
  const store = createTaskStore(stateDir(env));
  const simulator = models.some(isSimulated) ? await startSimulatedModel({ tasks, seed: options.seed }) : null;
  const spent = { tokens: previous.reduce((s, o) => s + o.usage.promptTokens + o.usage.completionTokens, 0), cost: sumCost(previous) };
  const outcomes: EvalOutcome[] = [...previous];
  const repos = new Map<string, Promise<string>>();
  let stoppedBy: string | null = null;
  let running = 0;

  // One task repository per task, made once and shared by its models' runs.
  const repoOf = (task: EvalTask): Promise<string> => {
    let made = repos.get(task.id);
    if (!made) {
      made = (async () => {
        const mirror = await mirrorFor(exec, path.join(cacheDir(env), 'eval-mirrors'), task.repo, task.base, options.signal);
        return taskRepo(exec, path.join(options.outDir, 'repos'), mirror, task, options.signal);
      })();
      repos.set(task.id, made);
    }
    return made;
  };

  // Each run checks the eval's budget as it starts: once it is spent, the runs not started are skipped.
  const jobs: EvalJob[] = pending.map(({ task, model, strategy, label }) => ({
    task: task.id,
    model: label,
    run: async () => {
      if (options.signal.aborted) return { outcome: null, skipped: 'interrupted' };
      if (stoppedBy) return { outcome: null, skipped: stoppedBy };
      const budget = remainingBudget(options, spent, running + 1);
      if (budget.exhausted) {
        stoppedBy = budget.exhausted;
        options.onProgress?.({ type: 'stopped', reason: budget.exhausted });
        return { outcome: null, skipped: budget.exhausted };
      }
      running += 1;
      options.onProgress?.({ type: 'started', task: task.id, model: label });
      try {
        const outcome = await evalOne({ ...options, exec, store, simulator, budget, repoOf, task, model, strategy });
        if (!outcome) return { outcome: null, skipped: 'interrupted' }; // nothing recorded: the rerun does it again
        spent.tokens += outcome.usage.promptTokens + outcome.usage.completionTokens;
        spent.cost += outcome.usage.costUsd ?? 0;
        await appendOutcome(resultsFile, outcome);
        outcomes.push(outcome);
        options.onProgress?.({ type: 'finished', outcome });
        return { outcome, skipped: null };
      } finally {
        running -= 1;
      }
    },
  }));
  try {
    await (options.schedule ?? poolSchedule)(jobs, Math.max(1, Math.min(options.jobs, jobs.length)));
  } finally {
    await simulator?.close();
  }
  if (options.signal.aborted) stoppedBy ??= 'interrupted';
  const wanted = new Set(tasks.flatMap((task) => variants.map((v) => outcomeKey(task.id, v.label))));
  const finishedKeys = new Set(outcomes.map((o) => outcomeKey(o.task, outcomeLabel(o))).filter((key) => wanted.has(key)));
  return {
    outcomes,
    skipped: total - finishedKeys.size,
    stoppedBy,
    resultsFile,
  };
}

/** The (model, strategy) pairs an eval runs, each with the label its figures use. */
export function evalVariants(models: string[], strategies?: string[]): { model: string; strategy: string | undefined; label: string }[] {
  if (!strategies || strategies.length === 0) return models.map((model) => ({ model, strategy: undefined, label: model }));
  return models.flatMap((model) => strategies.map((strategy) => ({ model, strategy, label: variantLabel(model, strategy) })));
}

function sumCost(outcomes: EvalOutcome[]): number {
  return outcomes.reduce((s, o) => s + (o.usage.costUsd ?? 0), 0);
}

/**
 * What one run may spend: the eval's remaining budget shared among the runs going at once (each
 * run checks its own budget before every model call, so the eval's holds too).
 */
export function remainingBudget(
  options: Pick<EvalOptions, 'maxCostUsd' | 'maxTokens'>,
  spent: { tokens: number; cost: number },
  runs: number,
): { tokens: number | null; costUsd: number | null; exhausted: string | null } {
  const tokensLeft = options.maxTokens === null ? null : options.maxTokens - spent.tokens;
  const costLeft = options.maxCostUsd === null ? null : options.maxCostUsd - spent.cost;
  if (tokensLeft !== null && tokensLeft <= 0)
    return { tokens: 0, costUsd: costLeft, exhausted: `--max-tokens ${options.maxTokens} reached` };
  if (costLeft !== null && costLeft <= 0) return { tokens: tokensLeft, costUsd: 0, exhausted: `--max-cost ${options.maxCostUsd} reached` };
  return {
    tokens: tokensLeft === null ? null : Math.max(1, Math.floor(tokensLeft / runs)),
    costUsd: costLeft === null ? null : costLeft / runs,
    exhausted: null,
  };
}

interface EvalOneInput extends EvalOptions {
  exec: Exec;
  store: TaskStore;
  simulator: SimulatedServer | null;
  budget: { tokens: number | null; costUsd: number | null };
  repoOf(task: EvalTask): Promise<string>;
  task: EvalTask;
  model: string;
  /** The generation strategy this run uses, when the eval compares strategies. */
  strategy: string | undefined;
}

/** One task with one model: run, then grade. Null when interrupted (nothing to record). */
async function evalOne(input: EvalOneInput): Promise<EvalOutcome | null> {
  const { task, model } = input;
  const label = variantLabel(model, input.strategy);
  const started = Date.now();
  const base: Omit<EvalOutcome, 'category' | 'status' | 'claimed' | 'resolved' | 'reason' | 'grade' | 'wallMs' | 'finishedAt'> = {
    v: 1,
    task: task.id,
    model,
    ...(input.strategy ? { strategy: input.strategy } : {}),
    rounds: 0,
    applyFailures: 0,
    usage: { promptTokens: 0, completionTokens: 0, calls: 0, costUsd: null },
  };
  const finish = (
    fields: Pick<EvalOutcome, 'category' | 'status' | 'claimed' | 'resolved' | 'reason' | 'grade'>,
    extra: Partial<EvalOutcome> = {},
  ): EvalOutcome => ({
    ...base,
    ...extra,
    ...fields,
    wallMs: Date.now() - started,
    finishedAt: new Date().toISOString(),
  });
  let repo: string;
  try {
    repo = await input.repoOf(task);
  } catch (error) {
    if (input.signal.aborted) return null;
    return finish({ category: 'error', status: null, claimed: false, resolved: null, reason: setupReason(error), grade: null });
  }
  const config = runConfig(input, model);
  const request = taskRequestSchema.parse({
    repo,
    base: BASE_BRANCH,
    title: task.title,
    description: task.description,
    risk: 'low',
    noPr: true,
    keepWorkspace: false,
  });
  const result = await runSession(input, request, config, 'task');
  if (!result || result.status === 'cancelled') return null;
  const usage = {
    promptTokens: result.usage.promptTokens,
    completionTokens: result.usage.completionTokens,
    calls: result.usage.calls,
    costUsd: result.usage.costUsd,
  };
  const extra: Partial<EvalOutcome> = {
    usage,
    rounds: Math.max(0, ...result.steps.map((s) => s.round)),
    applyFailures: result.steps.filter((s) => s.id === 'apply' && s.status === 'failed').length,
  };
  const claimed = result.status === 'verified' || result.status === 'pr_created';
  if (!result.change) {
    const category: EvalCategory = result.status === 'unproven' || result.status === 'denied' ? 'abstained' : 'failed';
    return finish({ category, status: result.status, claimed: false, resolved: null, reason: result.reason, grade: null }, extra);
  }
  let grade: Awaited<ReturnType<typeof gradeResult>>;
  try {
    grade = await gradeResult(input, repo, result, label, config);
  } catch (error) {
    if (input.signal.aborted) return null;
    return finish(
      { category: 'error', status: result.status, claimed, resolved: null, reason: `grading: ${setupReason(error)}`, grade: null },
      extra,
    );
  }
  if (!grade) return null;
  const resolved = grade.resolved;
  // Only a claimed change reaches a reviewer: one the run did not claim is abstained (unproven,
  // denied) or failed, whatever its grade (which is still recorded).
  const category: EvalCategory = claimed
    ? resolved
      ? 'resolved'
      : 'wrong'
    : result.status === 'unproven' || result.status === 'denied'
      ? 'abstained'
      : 'failed';
  return finish({ category, status: result.status, claimed, resolved, reason: grade.reason ?? result.reason, grade: grade.detail }, extra);
}

const SIMULATED_KEY_ENV = 'AUTODEV_SIMULATED_MODEL_KEY';

function setupReason(error: unknown): string {
  return error instanceof EvalSetupError ? error.message : `${(error as Error).message}`;
}

/** The config of one run: the model (the simulator's address for `sim:` models) and this run's share of the budget. */
function runConfig(input: EvalOneInput, model: string): Config {
  // Prices by model (llm.prices) are the planner's to pick.
  const llm = { ...input.config.llm, model };
  if (isSimulated(model) && input.simulator) {
    // The simulator is ours, on 127.0.0.1: it gets a key of its own, never the user's.
    llm.api_url = input.simulator.baseUrl;
    llm.api_key_env = SIMULATED_KEY_ENV;
  }
  if (input.budget.tokens !== null) llm.max_total_tokens = Math.min(llm.max_total_tokens, input.budget.tokens);
  if (input.budget.costUsd !== null) llm.max_cost_usd = Math.min(llm.max_cost_usd ?? Infinity, input.budget.costUsd);
  // The simulated model writes fixes, not tests: a reproduction request would only spend its calls
  // (a real model is asked as `generate.reproduce` says).
  const generate = {
    ...input.config.generate,
    ...(isSimulated(model) ? { reproduce: 'never' as const } : {}),
    ...(input.strategy ? { strategy: input.strategy as Config['generate']['strategy'] } : {}),
  };
  // Each strategy pushes its own branch: two strategies of one task running at once must not share one.
  const git = input.strategy
    ? { ...input.config.git, branch_prefix: `${input.config.git.branch_prefix}${input.strategy}/` }
    : input.config.git;
  return { ...input.config, llm, generate, git };
}

/** One run through a task session (recorded in the task store and the audit trail, like `autodev run`). */
async function runSession(
  input: Pick<EvalOptions, 'env' | 'signal'> & { store: TaskStore },
  request: TaskRequest,
  config: Config,
  purpose: 'task' | 'grade',
): Promise<TaskResult | null> {
  const taskId = newTaskId();
  const session = openTaskSession({ store: input.store, stateDir: stateDir(input.env), taskId, metrics: createMetrics() });
  const abort = (): void => session.controller.abort(new Error('interrupted'));
  input.signal.addEventListener('abort', abort, { once: true });
  try {
    await input.store.create(newStoredTask(taskId, request, { kind: 'run', pid: process.pid })).catch(() => undefined);
    const env = isSimulated(config.llm.model) ? { ...input.env, [SIMULATED_KEY_ENV]: 'simulated' } : input.env;
    const result = await session.run({ request, config, env, ...(purpose === 'grade' ? { purpose } : {}) });
    await session.finish(result);
    return input.signal.aborted ? null : result;
  } catch (error) {
    await session.abandon();
    if (input.signal.aborted) return null;
    throw error;
  } finally {
    input.signal.removeEventListener('abort', abort);
  }
}

/**
 * The result graded on its own: the change (the branch the run pushed, else its diff) on a fresh
 * base, the hidden test patch over it, the tests run in the sandbox with nothing judged for them.
 */
async function gradeResult(input: EvalOneInput, repo: string, result: TaskResult, model: string, config: Config): Promise<Grade | null> {
  const { task } = input;
  const hidden = hiddenTests(task);
  const change = result.pushed
    ? { from: result.pushed.branch, patches: hidden }
    : { from: BASE_BRANCH, patches: [{ patch: result.change!.diff, what: "the run's change" }, ...hidden] };
  return grade(input, repo, change, `eval/grade/${safeName(model)}`, config);
}

interface Grade {
  resolved: boolean;
  reason: string | null;
  detail: NonNullable<EvalOutcome['grade']>;
}

function hiddenTests(task: EvalTask): { patch: string; what: string }[] {
  return task.testPatch && task.testPatchMode === 'hidden' ? [{ patch: task.testPatch, what: 'the hidden test patch' }] : [];
}

/** `patches` committed on `from` as `branch`, the tests run there (a grade-purpose run), the named tests judged. */
async function grade(
  input: Pick<EvalOptions, 'env' | 'signal'> & { exec: Exec; store: TaskStore; task: EvalTask },
  repo: string,
  change: { from: string; patches: { patch: string; what: string }[] },
  branch: string,
  config: Config,
): Promise<Grade | null> {
  const { task } = input;
  await commitOnBranch(input.exec, repo, change.from, branch, change.patches, 'Grade: the change and the hidden tests', input.signal);
  const request = taskRequestSchema.parse({
    repo,
    base: branch,
    title: `Grade ${task.id}`.slice(0, 200),
    description: '',
    risk: 'low',
    noPr: true,
    keepWorkspace: false,
  });
  const graded = await runSession(input, request, config, 'grade');
  if (!graded) return null;
  if (!graded.tests) {
    return {
      resolved: false,
      reason: `grading: the tests did not run (${graded.reason ?? graded.status})`,
      detail: { failToPass: task.failToPass.map((name) => ({ name, passed: false })), passToPassFailed: [...task.passToPass] },
    };
  }
  const passed = new Set(graded.tests.passed);
  const failToPass = task.failToPass.map((name) => ({ name, passed: passed.has(name) }));
  // A pass-to-pass test that no longer runs counts as failing: a change must not make tests vanish.
  const passToPassFailed = task.passToPass.filter((name) => !passed.has(name));
  const resolved = failToPass.every((t) => t.passed) && passToPassFailed.length === 0;
  const missing = failToPass.filter((t) => !t.passed).map((t) => t.name);
  const list = (names: string[]): string => `${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`;
  const reason = resolved
    ? null
    : [
        missing.length ? `fail-to-pass not passing: ${list(missing)}` : '',
        passToPassFailed.length ? `pass-to-pass broken: ${list(passToPassFailed)}` : '',
      ]
        .filter(Boolean)
        .join('; ');
  return { resolved, reason, detail: { failToPass, passToPassFailed } };
}

export interface GoldCheck {
  task: string;
  /** The fail-to-pass tests that already pass on the base (with the hidden tests): they prove nothing. */
  passOnBase: string[];
  /** The gold patch resolves the task, as the grading sees it. */
  goldResolves: boolean;
  sound: boolean;
  reason: string | null;
}

/**
 * `--check-gold`: is each task itself sound? Its fail-to-pass tests must fail on the base (the
 * hidden tests applied) and the gold patch must resolve it. No model is asked.
 */
export async function checkGold(options: Omit<EvalOptions, 'models' | 'jobs' | 'maxCostUsd' | 'maxTokens' | 'seed'>): Promise<GoldCheck[]> {
  const { tasks, config, env } = options;
  for (const repo of new Set(tasks.map((t) => t.repo))) {
    checkGates(config, repo, options.cwd);
    // Each strategy as its runs will have it (agent mode with sandbox = "none" is refused here, before any run).
    for (const strategy of options.strategies ?? []) {
      checkGates({ ...config, generate: { ...config.generate, strategy: strategy as Config['generate']['strategy'] } }, repo, options.cwd);
    }
  }
  const exec = createExec();
  const store = createTaskStore(stateDir(env));
  const checks: GoldCheck[] = [];
  for (const task of tasks) {
    if (options.signal.aborted) break;
    const input = { env, signal: options.signal, exec, store, task };
    const noGold = !task.goldPatch;
    try {
      const mirror = await mirrorFor(exec, path.join(cacheDir(env), 'eval-mirrors'), task.repo, task.base, options.signal);
      const repo = await taskRepo(exec, path.join(options.outDir, 'repos'), mirror, task, options.signal);
      const onBase = await grade(input, repo, { from: BASE_BRANCH, patches: hiddenTests(task) }, 'eval/gold/base', config);
      const withGold = noGold
        ? null
        : await grade(
            input,
            repo,
            { from: BASE_BRANCH, patches: [{ patch: task.goldPatch!, what: 'the gold patch' }, ...hiddenTests(task)] },
            'eval/gold/patch',
            config,
          );
      if (!onBase || (!noGold && !withGold)) break;
      const passOnBase = onBase.detail.failToPass.filter((t) => t.passed).map((t) => t.name);
      const goldResolves = withGold?.resolved ?? false;
      const problems = [
        task.failToPass.length === 0 ? 'no fail-to-pass test' : '',
        passOnBase.length ? `already passing on the base: ${passOnBase.join(', ')}` : '',
        noGold ? 'no gold patch' : goldResolves ? '' : `the gold patch does not resolve it (${withGold!.reason})`,
      ].filter(Boolean);
      checks.push({ task: task.id, passOnBase, goldResolves, sound: problems.length === 0, reason: problems.join('; ') || null });
      options.onProgress?.({ type: 'checked', check: checks.at(-1)! });
    } catch (error) {
      if (options.signal.aborted) break;
      checks.push({ task: task.id, passOnBase: [], goldResolves: false, sound: false, reason: setupReason(error) });
      options.onProgress?.({ type: 'checked', check: checks.at(-1)! });
    }
  }
  return checks;
}
