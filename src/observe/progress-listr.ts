import type { EngineEvent, RunMode, StepStatus, TaskStatus } from '../engine/types.js';
import type { Plan, PlanStep } from '../plan/types.js';
import { cleanLine, feedbackHeadline, firstLine, formatDuration, runQualifiers, statusWord } from './format.js';
import { identity, makeSubscriber, type Redact, type Subscriber } from './types.js';

export interface ListrProgressOptions {
  /** Usually process.stderr: stdout is reserved for the result. */
  stream: NodeJS.WritableStream;
  /**
   * 'default' (spinners, redrawn in place) on a terminal; 'simple' and 'test' write lines and exist for
   * tests and debugging. The default renderer is used whatever stdout is: progress goes to `stream`.
   */
  renderer?: 'default' | 'simple' | 'test';
  redact?: Redact;
  /** How often running steps' elapsed time is refreshed; 0 turns the ticker off (tests). */
  tickMs?: number;
  /** For tests; the wall clock otherwise. */
  now?: () => number;
}

type Final = 'ok' | 'failed' | 'denied' | 'skipped';

interface Run {
  mode: RunMode;
  round: number;
  attempt: number;
}

interface StepView {
  step: PlanStep;
  label: string;
  title: string;
  /** `since` is when the start event arrived here: the engine's clock and ours may differ. */
  running: (Run & { since: number }) | null;
  last: (Run & { status: StepStatus; summary: string; durationMs: number }) | null;
  /** Failed in the change run, but a retry or repair round may still follow: not final yet. */
  tentativeFailure: boolean;
  repairing: boolean;
  final: Final | null;
  settle: (final: Final) => void;
  done: Promise<Final>;
}

/** A listr2 task object, as far as this bridge touches it (listr2 is loaded lazily, so no type import). */
interface ListrTaskHandle {
  title$: string;
  output$: string;
}

const ENDING: ReadonlySet<TaskStatus> = new Set(['failed', 'unproven', 'cancelled', 'denied', 'pr_created', 'merged']);

/**
 * The engine drives progress by events; listr2 drives its view by awaiting task functions. The bridge: one
 * listr task per plan step, run one after another, each awaiting a deferred that the step's finish
 * settles. Events that arrive out of listr's order (a baseline build before codegen, codegen again in a
 * repair round) only re-title the task they belong to.
 * A failed change run stays open while a retry or repair round may follow, so the spinner stays on the
 * step being repaired. The task ending (or `close()`) settles every step still open, so the listr promise
 * always finishes: steps that never ran show as skipped.
 */
export function createListrProgress(plan: Plan, options: ListrProgressOptions): Subscriber {
  const redact = options.redact ?? identity;
  const now = options.now ?? Date.now;
  const tickMs = options.tickMs ?? 1000;
  const repairBudget = plan.repair?.budget ?? 0;

  const views = new Map<string, StepView>();
  for (const step of plan.steps) {
    let settle!: (final: Final) => void;
    const done = new Promise<Final>((resolve) => {
      settle = resolve;
    });
    const label = step.title || step.id;
    views.set(step.id, {
      step,
      label,
      title: label,
      running: null,
      last: null,
      tentativeFailure: false,
      repairing: false,
      final: null,
      settle,
      done,
    });
  }

  const handles = new Map<string, ListrTaskHandle>();
  const outputs = new Map<string, string>();
  let lastActive: StepView | null = null;
  let closed = false;

  function show(view: StepView, title: string): void {
    view.title = cleanLine(redact(title));
    const handle = handles.get(view.step.id);
    if (handle) handle.title$ = view.title;
  }

  function showOutput(view: StepView, line: string): void {
    const text = cleanLine(redact(line));
    if (text === '') return;
    outputs.set(view.step.id, text);
    const handle = handles.get(view.step.id);
    if (handle) handle.output$ = text;
  }

  function named(view: StepView, run: Run): string {
    const q = runQualifiers(run);
    return q.length > 0 ? `${view.label} (${q.join(', ')})` : view.label;
  }

  function runningTitle(view: StepView): string {
    const r = view.running!;
    return `${named(view, r)}: running ${formatDuration(now() - r.since)}`;
  }

  function finishedTitle(view: StepView): string {
    const l = view.last!;
    const summary = l.summary ? `: ${firstLine(l.summary, 120)}` : '';
    return `${named(view, l)}: ${statusWord(l)} in ${formatDuration(l.durationMs)}${summary}`;
  }

  function finalize(view: StepView, final: Final): void {
    if (view.final !== null) return;
    view.final = final;
    view.tentativeFailure = false;
    view.repairing = false;
    view.settle(final);
  }

  /** A failure nobody retried or repaired before the next thing happened is the step's result. */
  function confirmFailures(except: string | null): void {
    for (const view of views.values()) {
      if (view.tentativeFailure && view.step.id !== except) finalize(view, 'failed');
    }
  }

  /** The task is over: whatever is still open gets the state it reached. */
  function settleAll(ending: string | null): void {
    for (const view of views.values()) {
      if (view.final !== null) continue;
      if (view.running) {
        show(view, `${named(view, view.running)}: ${ending ?? 'stopped'} after ${formatDuration(now() - view.running.since)}`);
        view.running = null;
        finalize(view, 'failed');
      } else if (view.last && view.last.mode === 'change') {
        finalize(view, view.last.status);
      } else {
        // Never ran on the change (at most a baseline run): it did not happen for this task.
        if (!view.last) show(view, `${view.label}: not run`);
        finalize(view, 'skipped');
      }
    }
  }

  function onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'step.started': {
        const view = views.get(event.stepId);
        confirmFailures(event.stepId);
        if (!view) return;
        view.tentativeFailure = false;
        view.running = { mode: event.mode, round: event.round, attempt: event.attempt, since: now() };
        lastActive = view;
        show(view, runningTitle(view));
        return;
      }
      case 'step.output': {
        const view = views.get(event.stepId);
        if (view) showOutput(view, event.line);
        return;
      }
      case 'step.finished': {
        const view = views.get(event.stepId);
        confirmFailures(event.stepId);
        if (!view) return;
        view.running = null;
        view.last = {
          mode: event.mode,
          round: event.round,
          attempt: event.attempt,
          status: event.status,
          summary: event.summary,
          durationMs: event.durationMs,
        };
        show(view, finishedTitle(view));
        // A baseline run only tells what already failed on the base; the change run decides the step.
        if (event.mode === 'baseline') return;
        if (event.status === 'failed') {
          // Without a repair budget left, nothing can follow but a transient retry.
          view.tentativeFailure = true;
          const canRepair = view.step.repairable === true && event.round < repairBudget;
          if (!canRepair && view.step.retries <= 0) finalize(view, 'failed');
          return;
        }
        finalize(view, event.status);
        return;
      }
      case 'step.retry': {
        const view = views.get(event.stepId);
        confirmFailures(event.stepId);
        if (!view) return;
        view.tentativeFailure = false;
        show(view, `${view.title}; retrying (attempt ${event.attempt}) in ${formatDuration(event.delayMs)}`);
        return;
      }
      case 'repair.round': {
        const view = views.get(event.failedStep);
        confirmFailures(event.failedStep);
        if (!view) return;
        view.tentativeFailure = false;
        if (view.final === null) view.repairing = true;
        const last = view.last ? `${view.last.status} in round ${view.last.round}` : 'failed';
        show(view, `${view.label}: ${last}; repairing (round ${event.round} of ${event.budget})`);
        showOutput(view, feedbackHeadline(event.feedback));
        return;
      }
      case 'task.status':
        if (ENDING.has(event.status)) {
          confirmFailures(null);
          settleAll(event.status);
        }
        return;
      case 'log':
        if ((event.level === 'warn' || event.level === 'error') && lastActive) showOutput(lastActive, `${event.level}: ${event.message}`);
        return;
      default:
        return;
    }
  }

  const ticker =
    tickMs > 0
      ? setInterval(() => {
          for (const view of views.values()) if (view.running) show(view, runningTitle(view));
        }, tickMs)
      : null;
  ticker?.unref();

  const running = startListr(plan, views, handles, outputs, options).catch(() => {
    // The view is a convenience; a renderer failure must not fail the task. Steps stay settled by events.
  });

  return makeSubscriber(
    (event) => {
      if (closed) return;
      try {
        onEvent(event);
      } catch {
        // Never let the view break the engine's emit.
      }
    },
    async () => {
      if (closed) return running;
      closed = true;
      if (ticker) clearInterval(ticker);
      confirmFailures(null);
      settleAll(null);
      await running;
    },
  );
}

async function startListr(
  plan: Plan,
  views: Map<string, StepView>,
  handles: Map<string, ListrTaskHandle>,
  outputs: Map<string, string>,
  options: ListrProgressOptions,
): Promise<void> {
  // Lazy: listr2 and its renderer dependencies cost startup time that `--help` and `--plan-only` skip.
  const listr2 = await import('listr2');
  const { Listr, ListrLogger, ProcessOutput, DefaultRenderer } = listr2;
  const stream = options.stream as NodeJS.WriteStream;
  // Everything the view writes goes to `stream`; with stdout also pointed there, stdout (the result)
  // is never touched or hijacked.
  const logger = new ListrLogger({ processOutput: new ProcessOutput(stream, stream), useIcons: true });

  // listr2 picks its default renderer only when process.stdout is a TTY; ours draws on `stream` (stderr),
  // which the caller has already checked, so the renderer declares itself fit for any stdout.
  class StreamRenderer extends DefaultRenderer {
    static override nonTTY = true;
  }
  const choice = options.renderer ?? 'default';
  const renderer = choice === 'default' ? StreamRenderer : choice;

  const tasks = plan.steps.map((step) => {
    const view = views.get(step.id)!;
    return {
      title: view.label, // stays the task's initial title (its path); the current one is set below
      task: async (_ctx: unknown, task: { skip(message?: string): void; output: string }) => {
        const final = await view.done;
        if (final === 'skipped') {
          task.skip(view.title);
          return;
        }
        if (final === 'failed' || final === 'denied') throw new Error(view.title);
      },
      rendererOptions: { persistentOutput: false, outputBar: 1 },
    };
  });

  const list = new Listr(tasks as never, {
    renderer: renderer as never,
    rendererOptions: { logger, formatOutput: 'truncate', collapseSubtasks: false } as never,
    fallbackRenderer: 'simple',
    fallbackRendererOptions: { logger } as never,
    fallbackRendererCondition: false,
    concurrent: false,
    exitOnError: false,
    registerSignalListeners: false,
  });

  list.tasks.forEach((task, i) => {
    const step = plan.steps[i]!;
    const handle = task as unknown as ListrTaskHandle;
    handles.set(step.id, handle);
    // Events that arrived while listr2 was loading.
    handle.title$ = views.get(step.id)!.title;
    const out = outputs.get(step.id);
    if (out) handle.output$ = out;
  });

  await list.run();
}
