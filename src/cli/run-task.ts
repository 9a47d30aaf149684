// `autodev run` without --plan-only: wires progress, audit and metrics to the engine's events,
// turns Ctrl-C into cancellation, prints the result and returns the exit code.
import type { LoadedConfig } from '../config/load.js';
import type { EngineEvent } from '../engine/types.js';
import type { TaskRequest } from '../config/request.js';
import { createJsonlFile, createJsonlStream } from '../observe/audit.js';
import type { Metrics } from '../observe/metrics.js';
import { metricsTextfile, stateDir } from '../observe/paths.js';
import type { LiveProgress } from '../observe/progress-live.js';
import { createPlainProgress, shouldUsePlain } from '../observe/progress-plain.js';
import { makeSubscriber, type Subscriber } from '../observe/types.js';
import type { ResumeFrom } from '../task/resume.js';
import type { TaskResult } from '../task/run-task.js';
import { openTaskSession, writeMetrics } from '../task/session.js';
import { openTracing, tracingWanted } from '../observe/tracing.js';
import type { Llm } from '../ports/types.js';
import { newTaskId } from '../task/task.js';
import { createTaskStore, newStoredTask } from '../store/task-store.js';
import { UsageError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import type { CliIo } from './index.js';
import type { RunFlags } from './run.js';

export async function runTaskCommand(input: {
  request: TaskRequest;
  loaded: LoadedConfig;
  flags: RunFlags;
  io: CliIo;
  /** `run --resume`: continue this stored task (same id) from its workspace. */
  resume?: { taskId: string; from: ResumeFrom };
  /** The URL to clone when it holds credentials the request (which is stored) does not. */
  cloneUrl?: string;
  /** The live view the caller drew before this module loaded (a terminal); null for plain lines or none. */
  view?: LiveProgress | null;
  /** What follows the task before the result is printed (a follow-up answering on its pull request); returns warnings. */
  after?: (result: TaskResult) => Promise<string[]>;
}): Promise<number> {
  const { request, loaded, flags, io, resume } = input;
  const { config } = loaded;
  const events = openEventStream(flags, io);
  // `--events jsonl` without a file: stderr is the event stream alone, so no human line may reach it.
  const quiet = flags.events === 'jsonl' && flags.eventsFile === undefined;
  const store = createTaskStore(stateDir(io.env));
  const id = resume?.taskId ?? newTaskId();
  // With OTEL_EXPORTER_OTLP_ENDPOINT only: the SDK is imported then, never otherwise.
  const tracing = tracingWanted(io.env) ? await openTracing(io.env, 'autodev') : null;
  const trace = tracing?.task(id, {}) ?? null;
  const session = openTaskSession({
    store,
    stateDir: stateDir(io.env),
    taskId: id,
    metrics: deferredMetrics(),
    // The stream outlives the session: warnings from closing it still go out as events.
    extra: [...(events ? [makeSubscriber(events, async () => {})] : []), ...(trace ? [trace.subscriber] : [])],
  });
  const { taskId } = session;
  const view = input.view ?? null;
  const say = (level: 'info' | 'warn', message: string): void => {
    const line = `autodev: ${level === 'warn' ? 'warning: ' : ''}${message}`;
    if (quiet && events) events({ type: 'log', taskId, level, message });
    // While the live view draws, a line written past it would be drawn over.
    else if (view?.live) view.note(line);
    else io.stderr.write(`${line}\n`);
  };
  // The config's warnings, which the caller left for the event stream.
  if (quiet) for (const warning of loaded.warnings) say('warn', warning);
  const plain = shouldUsePlain({ isTTY: io.stderr.isTTY, env: io.env });
  const progress: Subscriber | null = quiet ? null : (view ?? (plain ? createPlainProgress({ stream: io.stderr, redact }) : null));

  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      if (!quiet && !view?.live) io.stderr.write('\n');
      say('info', `${signal}: cancelling (stopping every process of the task; press Ctrl-C again to force)`);
      session.controller.abort(new Error(signal));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: TaskResult;
  try {
    // Recorded only once SIGINT is handled, so `tasks cancel` can never kill the run outright.
    const recorded = resume
      ? store.update(taskId, (task) => {
          // The same task goes on under this process: it is no longer finished, nor stale.
          task.owner = { kind: 'run', pid: process.pid };
          task.exitCode = null;
          task.finishedAt = null;
          task.reason = null;
          task.cancelRequested = null;
          task.request = request;
          task.notes.push(`resumed at step ${resume.from.startAt} (${new Date().toISOString()})`);
        })
      : store.create(newStoredTask(taskId, request, { kind: 'run', pid: process.pid }));
    await recorded.catch((error: Error) => say('warn', `task store: ${error.message}`));
    result = await session.run({
      request,
      config,
      env: io.env,
      cloneUrl: input.cloneUrl,
      ...(resume ? { resume: resume.from } : {}),
      onEvent: (event) => progress?.(event),
      onPlan: (plan) => {
        trace?.plan({ toolchain: plan.toolchain, sandbox: plan.sandbox });
        view?.setPlan(plan, resume?.from.startAt);
      },
      ...(trace ? { wrapLlm: (llm: Llm) => trace.wrapLlm(llm) } : {}),
    });
  } catch (error) {
    await session.abandon();
    await events?.close();
    await tracing?.shutdown().catch(() => undefined);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await progress?.close();
  }
  const warnings = [
    ...(await session.finish(result)),
    ...(await writeMetrics(session.metrics, {
      textfile: metricsTextfile(flags.metricsFile, config.metrics.textfile, io.env),
      pushgatewayUrl: config.metrics.pushgateway_url || null,
    })),
  ];
  if (input.after) warnings.push(...(await input.after(result)));
  if (flags.sarif !== undefined) {
    const written = await writeSarif(flags.sarif, result, io);
    if (written) warnings.push(written);
  }
  trace?.end(result);
  await tracing?.shutdown().catch((error: Error) => warnings.push(`tracing: ${error.message}`));
  for (const warning of warnings) say('warn', warning);
  await events?.close();
  if (flags.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout.write(formatResult(result));
  return result.exitCode;
}

/**
 * The run's metrics without prom-client (and the OpenTelemetry API it requires: ~80 CommonJS files)
 * in front of the first event: it starts loading at the first event, beside the clone, and the
 * events until it has loaded wait for it, in order. The metrics measure from each event's own time
 * (`at`), so the wait skews nothing. `registry` exists once `text()` has resolved (writeTextfile and
 * pushToGateway call it first).
 */
export function deferredMetrics(
  load: () => Promise<Metrics> = async () => (await import('../observe/metrics.js')).createMetrics(),
): Metrics {
  let real: Metrics | null = null;
  let waiting: EngineEvent[] = [];
  let loading: Promise<Metrics> | null = null;
  const loaded = (): Promise<Metrics> => {
    if (!loading) {
      loading = load().then((metrics) => {
        for (const event of waiting) metrics.subscriber(event);
        waiting = [];
        real = metrics;
        return metrics;
      });
      // A failed load surfaces where it is awaited (close, text), not as an unhandled rejection.
      loading.catch(() => undefined);
    }
    return loading;
  };
  return {
    subscriber: makeSubscriber(
      (event) => {
        if (real) return real.subscriber(event);
        waiting.push(event);
        void loaded();
      },
      async () => (await loaded()).subscriber.close(),
    ),
    get registry() {
      if (!real) throw new Error('the metrics are still loading: await text() first');
      return real.registry;
    },
    text: async () => (await loaded()).text(),
    recordRevert() {
      void loaded().then((metrics) => metrics.recordRevert());
    },
  };
}

/** `--sarif`: the log written next to the result; a failure to write is a warning (the task's outcome stands). */
async function writeSarif(file: string, result: TaskResult, io: CliIo): Promise<string | null> {
  const [{ sarifLog }, { writeFile }, path] = await Promise.all([import('./sarif.js'), import('node:fs/promises'), import('node:path')]);
  try {
    await writeFile(path.resolve(io.cwd, file), `${JSON.stringify(sarifLog(result), null, 2)}\n`);
    return null;
  } catch (error) {
    return `--sarif ${file}: not written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
}

/** The `--events` subscriber: a file or inherited descriptor (`--events-file`), else stderr; none without the flags. */
function openEventStream(flags: RunFlags, io: CliIo): Subscriber | null {
  if (flags.eventsFile !== undefined) {
    try {
      return createJsonlFile({ target: flags.eventsFile, redact });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(
        `--events-file ${flags.eventsFile}: cannot open (${code ?? (error as Error).message})`,
        'give a writable path, or the number of a descriptor the process inherited',
      );
    }
  }
  return flags.events === 'jsonl' ? createJsonlStream({ stream: io.stderr, redact }) : null;
}

export function formatResult(result: TaskResult): string {
  const lines: string[] = [];
  const verdict: Record<string, string> = {
    pr_created: 'pull request ready',
    verified: 'change verified',
    failed: 'task failed',
    unproven: 'unproven (no test shows the change does the task; no pull request)',
    denied: 'denied',
    cancelled: 'cancelled',
  };
  const abstained = result.abstain
    ? `abstained (no candidate meets the bar; ${result.abstain.label ? `a draft pull request labelled ${result.abstain.label}` : 'no pull request'})`
    : null;
  lines.push(`${abstained ?? verdict[result.status] ?? result.status}: ${result.task.title}`);
  // One column for every label; "pull request" is the longest, and the one name the output uses for it.
  const row = (label: string, text: string): void => {
    lines.push(`  ${label.padEnd(13)} ${text}`);
  };
  if (result.reason) row('reason:', result.reason);
  if (result.pr) row('pull request:', `${result.pr.url}${result.pr.draft ? ' (draft)' : ''}${result.pr.updated ? ' (updated)' : ''}`);
  else if (result.pushed) row('pull request:', `none opened (${noPullRequestReason(result)})`);
  if (result.change)
    row(
      'branch:',
      `${result.change.branch} (${result.change.commit.slice(0, 8)}), ${result.change.files.length} file(s): ${result.change.files.join(', ')}`,
    );
  if (result.pushed && !result.pr) row('pushed:', `${result.pushed.branch} to ${result.pushed.remote}`);
  const sandbox = sandboxUsed(result);
  if (sandbox) row('sandbox:', sandbox);
  const failing = result.baseline.failingTests;
  if (failing.length)
    row('base:', `${failing.length} test${failing.length === 1 ? '' : 's'} failing before the change: ${failing.join(', ')}`);
  const repro = result.reproduction;
  if (repro) {
    const where = repro.kept ? 'committed with the change' : 'not committed';
    row('reproduction:', `${repro.file} (${where}): failed on the base (${repro.base.failure}); with the change: ${repro.head.outcome}`);
  } else if (result.verification.reproduce) row('reproduce', result.verification.reproduce);
  for (const [step, summary] of Object.entries(result.verification)) {
    if (['build', 'test', 'lint', 'secrets', 'policy'].includes(step)) row(step, summary);
  }
  const candidates = result.candidates ?? [];
  if (candidates.length) {
    const settled = candidates.find((c) => c.status === 'chosen' || c.status === 'abstained');
    row(
      'candidates:',
      `${candidates.length} tried${settled ? `; ${settled.id} (${settled.model}, ${settled.format}) ${settled.why}` : ''}`,
    );
  }
  if (result.policy?.reasons.length) {
    for (const r of result.policy.reasons) row('policy:', `${r.code}: ${r.message}`);
  }
  const u = result.usage;
  row('usage:', `${u.calls} LLM call(s), ${u.totalTokens} tokens${u.costUsd !== null ? `, $${u.costUsd.toFixed(4)}` : ''}`);
  if (result.workspace) row('workspace:', `${result.workspace} (kept)`);
  return `${lines.join('\n')}\n`;
}

/** Why a pushed change got no pull request: --no-pr, or no GitHub repository to open it on. */
function noPullRequestReason(result: TaskResult): string {
  const push = result.plan?.steps.find((s) => s.tool === 'push');
  const why = push?.inputs.noPullRequest;
  return typeof why === 'string' ? why : 'the branch was pushed only';
}

/** The sandbox project code ran in, when any did (a run that stopped before building used none). */
function sandboxUsed(result: TaskResult): string | null {
  const plan = result.plan;
  if (!plan) return null;
  const sandboxed = new Set(plan.steps.filter((s) => s.sandbox).map((s) => s.id));
  if (!result.steps.some((s) => sandboxed.has(s.id))) return null;
  const what: Record<string, string> = {
    bwrap: 'bwrap (bubblewrap)',
    none: 'none (no isolation: project code ran directly on this machine)',
  };
  return what[plan.sandbox] ?? plan.sandbox;
}
