// Walks a Plan: the whole lifecycle (pending → planning → executing → …, or failed / cancelled /
// denied at any point, planning included), retries with backoff, the baseline pass, the repair loop
// and cancellation. It knows no tool by name: tools come from the registry, and everything the
// engine needs to know about a step is in the plan (retries, baseline, repairable, timeout).
import type { Plan, PlanStep } from '../plan/types.js';
import { TransientError } from '../ports/types.js';
import { AutodevError, ExitCode } from '../util/errors.js';
import { deadline } from '../util/deadline.js';
import type { TaskRequest } from '../config/request.js';
import type { EngineEvent, RunMode, StepResult, StepStatus, TaskStatus, Tool } from './types.js';
import { statusEvent } from './lifecycle.js';

export interface StepRecord {
  id: string;
  tool: string;
  mode: RunMode;
  round: number;
  status: StepStatus | 'cancelled';
  attempts: number;
  durationMs: number;
  summary: string;
  data?: Record<string, unknown>;
}

export interface EngineOutcome {
  status: TaskStatus;
  /** Why the task ended as it did (the failing step's summary, the denial, the cancellation). */
  reason: string | null;
  failedStep: string | null;
  /** An AutodevError that ended the task, so the CLI can use its exit code. */
  error: AutodevError | null;
  rounds: number;
  steps: StepRecord[];
}

/**
 * A plan still to be made: the planner needs what `first` does (the clone: a plan depends on the
 * repository's files), so those steps run while the task is planning, then `build` makes the plan.
 * The plan lists them too (it shows everything that runs); they do not run twice.
 */
export interface PlanSource {
  first: PlanStep[];
  build(): Promise<Plan>;
}

export interface EngineOptions<Ports, State> {
  taskId: string;
  request: TaskRequest;
  plan: Plan | PlanSource;
  /**
   * Runs before anything else, before anything is spent (credentials a run needs, say); an
   * AutodevError it throws ends the task, as one from planning does.
   */
  check?: () => Promise<void>;
  tools: ReadonlyMap<string, Tool<Ports, State>>;
  ports: Ports;
  state: State;
  signal: AbortSignal;
  emit: (event: EngineEvent) => void;
  /** First retry delay; doubles each attempt. */
  backoffMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Skip the steps before this one (resume), treating them as done. */
  startAt?: string;
}

export async function runPlan<Ports, State>(options: EngineOptions<Ports, State>): Promise<EngineOutcome> {
  const { signal, taskId } = options;
  const emit = options.emit;
  const records: StepRecord[] = [];
  let status: TaskStatus | null = null;
  const setStatus = (next: TaskStatus, reason?: string): void => {
    status = next;
    emit(statusEvent(taskId, next, reason));
  };
  const end = (
    final: TaskStatus,
    reason: string | null,
    failedStep: string | null,
    error: AutodevError | null = null,
    rounds = 0,
  ): EngineOutcome => {
    if (final !== status || reason) setStatus(final, reason ?? undefined);
    return { status: final, reason, failedStep, error, rounds, steps: records };
  };
  const checkTools = (steps: PlanStep[]): void => {
    for (const step of steps) {
      if (!options.tools.has(step.tool)) throw new Error(`no tool registered for "${step.tool}" (step ${step.id})`);
    }
  };

  // A plan naming a tool nobody registered is a bug: thrown before the task has a status.
  checkTools('build' in options.plan ? options.plan.first : options.plan.steps);
  // A resumed task is past pending and planning: it goes on executing.
  const resuming = options.startAt !== undefined;
  if (!resuming) setStatus('pending');
  let plan: Plan;
  /** Steps that ran before the plan existed. */
  const ran = new Set<string>();
  try {
    await options.check?.();
    if ('build' in options.plan) {
      if (!resuming) setStatus('planning');
      const source = options.plan;
      const sofar: Plan = {
        toolchain: null,
        toolchainReason: 'not planned yet',
        base: null,
        branch: '',
        sandbox: 'none',
        repair: null,
        steps: source.first,
        notes: [],
      };
      for (const step of source.first) {
        const { record, result } = await runStep(options, sofar, step, 'change', 0, null);
        records.push(record);
        ran.add(step.id);
        if (record.status === 'cancelled') return end('cancelled', 'cancelled', step.id);
        if (record.status === 'denied') return end('denied', record.summary, step.id, result.error ?? null);
        if (record.status === 'failed') return end(result.endsAs ?? 'failed', record.summary, step.id, result.error ?? null);
      }
      plan = await source.build();
    } else {
      plan = options.plan;
    }
  } catch (error) {
    if (signal.aborted) return end('cancelled', 'cancelled', null);
    if (error instanceof AutodevError) return end(error.exitCode === ExitCode.refused ? 'denied' : 'failed', error.message, null, error);
    throw error;
  }
  if (signal.aborted) return end('cancelled', 'cancelled', null);

  checkTools(plan.steps);
  setStatus('executing');

  const loopStart = plan.repair ? plan.steps.findIndex((s) => s.id === plan.repair!.from) : -1;
  let index = options.startAt
    ? Math.max(
        0,
        plan.steps.findIndex((s) => s.id === options.startAt),
      )
    : 0;
  let round = 0;
  let feedback: string | null = null;
  let baselineDone = index > loopStart && loopStart >= 0;
  // The baseline starts before the first step that may overlap it (one before the loop), else right
  // before the loop; it then runs beside those steps, and the first step without the flag waits.
  const overlapFrom = plan.steps.findIndex((s, i) => s.overlapsBaseline && i < loopStart);
  const baselineFrom = loopStart >= 0 ? (overlapFrom >= 0 ? overlapFrom : loopStart) : -1;
  let baseline: Promise<string | null> | null = null;
  const startBaseline = (): void => {
    // Records go in as steps finish, so the steps list has the order of the step.finished events.
    const running = (async (): Promise<string | null> => {
      for (const baselineStep of plan.steps.filter((s) => s.baseline)) {
        const { record } = await runStep(options, plan, baselineStep, 'baseline', 0, null);
        records.push(record);
        if (record.status === 'cancelled') return baselineStep.id;
      }
      return null;
    })();
    // Awaited by joinBaseline; should the engine throw before that, its failure is not unhandled.
    running.catch(() => undefined);
    baseline = running;
  };
  /** Waits for a running baseline; the id of its cancelled step, if any. */
  const joinBaseline = async (): Promise<string | null> => {
    if (!baseline) return null;
    const cancelled = await baseline;
    baseline = null;
    baselineDone = true;
    return cancelled;
  };
  /** Ends the task once the baseline running beside the last step (if any) has ended too. */
  const finish = async (...args: Parameters<typeof end>): Promise<EngineOutcome> => {
    await joinBaseline();
    return end(...args);
  };

  while (index < plan.steps.length) {
    const step = plan.steps[index];
    if (ran.has(step.id)) {
      index += 1;
      continue;
    }
    if (!baselineDone && !baseline && baselineFrom >= 0 && index >= baselineFrom) startBaseline();
    if (baseline && !step.overlapsBaseline) {
      const cancelledAt = await joinBaseline();
      if (cancelledAt !== null) return end('cancelled', 'cancelled', cancelledAt, null, round);
    }
    const { record, result }: StepOutcome = await runStep(options, plan, step, 'change', round, feedback);
    records.push(record);
    if (record.status === 'cancelled') return finish('cancelled', 'cancelled', step.id, null, round);
    if (record.status === 'denied') return finish('denied', record.summary, step.id, result.error ?? null, round);
    if (record.status === 'failed') {
      if (step.repairable && plan.repair && loopStart >= 0 && round < plan.repair.budget) {
        round += 1;
        const distilled: string = result.feedback ?? record.summary;
        feedback = distilled;
        emit({ type: 'repair.round', taskId, round, budget: plan.repair.budget, failedStep: step.id, feedback: distilled });
        index = loopStart;
        continue;
      }
      const exhausted = step.repairable && plan.repair && round >= plan.repair.budget && plan.repair.budget > 0;
      const reason = exhausted ? `${record.summary} (after ${round} repair round${round === 1 ? '' : 's'})` : record.summary;
      return finish(result.endsAs ?? 'failed', reason, step.id, result.error ?? null, round);
    }
    if (result.advance && result.advance !== status) setStatus(result.advance);
    index += 1;
  }
  await joinBaseline();
  const final: TaskStatus = status === 'executing' ? 'verified' : (status ?? 'verified');
  return end(final, null, null, null, round);
}

interface StepOutcome {
  record: StepRecord;
  result: StepResult & { error?: AutodevError };
}

async function runStep<Ports, State>(
  options: EngineOptions<Ports, State>,
  plan: Plan,
  step: PlanStep,
  mode: RunMode,
  round: number,
  feedback: string | null,
): Promise<StepOutcome> {
  const { taskId, signal } = options;
  const tool = options.tools.get(step.tool)!;
  const sleep = options.sleep ?? abortableSleep;
  const backoff = options.backoffMs ?? 1000;
  const started = Date.now();
  const maxAttempts = 1 + Math.max(0, step.retries);
  let attempt = 0;
  let last: StepResult & { error?: AutodevError } = { status: 'failed', summary: 'not run' };
  const cancelled = (): { record: StepRecord; result: StepResult } => ({
    record: cancelledRecord(step, mode, round, attempt, started),
    result: { status: 'failed', summary: 'cancelled' },
  });

  while (attempt < maxAttempts) {
    attempt += 1;
    if (signal.aborted) return cancelled();
    options.emit({
      type: 'step.started',
      taskId,
      stepId: step.id,
      tool: step.tool,
      title: step.title,
      attempt,
      round,
      mode,
      at: new Date().toISOString(),
    });
    const stepDeadline = deadline(signal, step.timeoutSecs * 1000);
    const stepSignal = stepDeadline.signal;
    let retryAfter: number | null = null;
    try {
      last = await tool.run({
        taskId,
        request: options.request,
        plan,
        step,
        mode,
        attempt,
        round,
        feedback,
        signal: stepSignal,
        emit: (event) => options.emit({ ...event, taskId } as EngineEvent),
        ports: options.ports,
        state: options.state,
      });
    } catch (error) {
      if (signal.aborted) return cancelled();
      if (error instanceof TransientError) {
        last = { status: 'failed', summary: error.message, transient: true };
        retryAfter = error.retryAfterMs;
      } else if (error instanceof AutodevError) {
        last = { status: error.exitCode === 3 ? 'denied' : 'failed', summary: error.message, error };
      } else if (stepDeadline.expired) {
        last = { status: 'failed', summary: `${step.id} timed out after ${step.timeoutSecs}s` };
      } else {
        throw error;
      }
    } finally {
      stepDeadline.dispose();
    }
    if (signal.aborted) return cancelled();
    // A tool whose process was killed by the step's timeout usually returns a failed result rather
    // than throwing; the reason the user sees is still the timeout (and a timeout is not retried).
    if (stepDeadline.expired && last.status === 'failed' && !last.summary.includes('timed out')) {
      last = { ...last, summary: `${step.id} timed out after ${step.timeoutSecs}s`, transient: false };
    }
    const finishedAt = new Date().toISOString();
    options.emit({
      type: 'step.finished',
      taskId,
      stepId: step.id,
      tool: step.tool,
      status: last.status,
      summary: last.summary,
      attempt,
      round,
      mode,
      durationMs: Date.now() - started,
      at: finishedAt,
    });
    if (last.status === 'failed' && last.transient && attempt < maxAttempts) {
      // The server's Retry-After wins when it gave one (capped at a minute); else exponential backoff.
      const delayMs = retryAfter !== null ? Math.min(retryAfter, 60_000) : backoff * 2 ** (attempt - 1);
      options.emit({ type: 'step.retry', taskId, stepId: step.id, attempt: attempt + 1, delayMs, reason: last.summary });
      try {
        await sleep(delayMs, signal);
      } catch {
        return cancelled();
      }
      continue;
    }
    break;
  }
  const record: StepRecord = {
    id: step.id,
    tool: step.tool,
    mode,
    round,
    status: last.status,
    attempts: attempt,
    durationMs: Date.now() - started,
    summary: last.summary,
    ...(last.data ? { data: last.data } : {}),
  };
  return { record, result: last };
}

function cancelledRecord(step: PlanStep, mode: RunMode, round: number, attempts: number, started: number): StepRecord {
  return {
    id: step.id,
    tool: step.tool,
    mode,
    round,
    status: 'cancelled',
    attempts,
    durationMs: Date.now() - started,
    summary: 'cancelled',
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
