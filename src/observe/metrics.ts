import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import lockfile from 'proper-lockfile';
import { AggregatorRegistry, Counter, Histogram, Pushgateway, Registry } from 'prom-client';
import writeFileAtomic from 'write-file-atomic';
import type { EngineEvent, TaskStatus } from '../engine/types.js';
import { makeSubscriber, type Subscriber } from './types.js';

/** The agent's tools, as metric labels (a bounded set, whatever names the model calls). */
const AGENT_TOOL_NAMES = new Set(['list_files', 'read_file', 'search', 'run', 'edit', 'submit']);

/*
 * Metrics are fed ONLY by engine events (plus `recordRevert`, which the task-sync command calls), so they
 * can never disagree with the progress view or the audit trail. The event contract they rely on:
 *
 *  - a task is counted in autodev_tasks_total on its first `task.status` of pending, planning or executing;
 *  - its outcome comes from `task.status`: pr_created = success; verified = success unless a later status
 *    of the same task says otherwise (it is settled when the metrics are read or closed: with --no-pr,
 *    verified is the last status); failed, unproven, cancelled and denied are outcomes of their own. Each task's
 *    outcome is counted once, and its duration is measured from its first status to the deciding one;
 *  - a policy denial is a `task.status` with status 'denied' whose `reason` holds the denial codes,
 *    comma-separated (e.g. "high_risk_needs_review,secrets_found"); each code counts once in
 *    autodev_policy_denials_total{reason}; a denial without codes counts as reason "unspecified";
 *  - a candidate change (generate.candidates) is a `candidate` event with its model, the format it was asked
 *    for and its outcome; one that did not apply (or was malformed) also counts as an apply failure;
 *  - a PR opened is a `task.status` pr_created; a merge is a `task.status` merged (the task-sync command
 *    emits it when it sees the PR merged); a revert is `recordRevert()`.
 */

export interface Metrics {
  subscriber: Subscriber;
  /** A private registry: nothing else in the process (or a library) can add to or reset it. */
  registry: Registry;
  /** The Prometheus text exposition of everything counted so far. */
  text(): Promise<string>;
  /** A merged change was reverted (the task-sync command finds the revert). */
  recordRevert(): void;
}

type Outcome = 'success' | 'failed' | 'unproven' | 'cancelled' | 'denied';

interface TaskState {
  startedAt: number | null;
  /** Set once verified: a success unless a later status decides otherwise. */
  verifiedAt: number | null;
  outcome: Outcome | null;
}

const STEP_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const TASK_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
const STARTING: ReadonlySet<TaskStatus> = new Set(['pending', 'planning', 'executing']);

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];

  const tasksTotal = new Counter({ name: 'autodev_tasks_total', help: 'Tasks started.', registers });
  const outcomes: Record<Outcome, Counter> = {
    success: new Counter({ name: 'autodev_tasks_success_total', help: 'Tasks that ended verified or with a PR opened.', registers }),
    failed: new Counter({ name: 'autodev_tasks_failed_total', help: 'Tasks that failed.', registers }),
    unproven: new Counter({
      name: 'autodev_tasks_unproven_total',
      help: 'Tasks whose change no test showed to do the task (no PR).',
      registers,
    }),
    cancelled: new Counter({ name: 'autodev_tasks_cancelled_total', help: 'Tasks cancelled (Ctrl-C, timeout).', registers }),
    denied: new Counter({ name: 'autodev_tasks_denied_total', help: 'Tasks denied by policy.', registers }),
  };
  const taskDuration = new Histogram({
    name: 'autodev_task_duration_seconds',
    help: 'Wall time of a task, from its first status to its outcome.',
    buckets: TASK_BUCKETS,
    registers,
  });
  const stepsTotal = new Counter({
    name: 'autodev_steps_total',
    help: 'Step runs finished (baseline, repair and retried runs included), by status.',
    labelNames: ['status'] as const,
    registers,
  });
  const stepDuration = new Histogram({
    name: 'autodev_step_duration_seconds',
    help: 'Duration of one step run, by tool.',
    labelNames: ['tool'] as const,
    buckets: STEP_BUCKETS,
    registers,
  });
  const prsOpened = new Counter({ name: 'autodev_prs_opened_total', help: 'Pull requests opened.', registers });
  const merges = new Counter({ name: 'autodev_merges_total', help: 'Pull requests of autodev merged.', registers });
  const reverts = new Counter({ name: 'autodev_reverts_total', help: 'Merged autodev changes reverted.', registers });
  const denials = new Counter({
    name: 'autodev_policy_denials_total',
    help: 'Policy denials, by reason code.',
    labelNames: ['reason'] as const,
    registers,
  });
  const llmTokens = new Counter({
    name: 'autodev_llm_tokens_total',
    help: 'LLM tokens, by kind (prompt, completion).',
    labelNames: ['kind'] as const,
    registers,
  });
  const llmCost = new Counter({ name: 'autodev_llm_cost_usd_total', help: 'LLM cost in US dollars, where the price is known.', registers });
  const agentTurns = new Counter({ name: 'autodev_agent_turns_total', help: 'Model calls of the agent strategy.', registers });
  const agentToolCalls = new Counter({
    name: 'autodev_agent_tool_calls_total',
    help: 'Tool calls of the agent strategy, by tool and whether they went through (ok) or were refused or failed.',
    labelNames: ['tool', 'ok'] as const,
    registers,
  });

  const candidates = new Counter({
    name: 'autodev_candidates_total',
    help: 'Candidate changes generated (generate.candidates), by model, edit format asked for and outcome (chosen, dropped, malformed, abstained).',
    labelNames: ['model', 'format', 'outcome'] as const,
    registers,
  });
  const candidateApplyFailures = new Counter({
    name: 'autodev_candidate_apply_failures_total',
    help: 'Candidate changes that did not apply (malformed replies included), by model and edit format asked for.',
    labelNames: ['model', 'format'] as const,
    registers,
  });

  const tasks = new Map<string, TaskState>();

  function stateOf(taskId: string): TaskState {
    let state = tasks.get(taskId);
    if (!state) {
      state = { startedAt: null, verifiedAt: null, outcome: null };
      tasks.set(taskId, state);
    }
    return state;
  }

  function record(state: TaskState, outcome: Outcome, at: number): void {
    if (state.outcome !== null) return;
    state.outcome = outcome;
    outcomes[outcome].inc();
    if (state.startedAt !== null && Number.isFinite(at)) taskDuration.observe(Math.max(0, (at - state.startedAt) / 1000));
  }

  function settleVerified(): void {
    for (const state of tasks.values()) {
      if (state.outcome === null && state.verifiedAt !== null) record(state, 'success', state.verifiedAt);
    }
  }

  function onStatus(event: Extract<EngineEvent, { type: 'task.status' }>): void {
    const state = stateOf(event.taskId);
    const at = Date.parse(event.at);
    if (STARTING.has(event.status) && state.startedAt === null) {
      state.startedAt = Number.isFinite(at) ? at : Date.now();
      tasksTotal.inc();
    }
    switch (event.status) {
      case 'verified':
        state.verifiedAt = Number.isFinite(at) ? at : Date.now();
        break;
      case 'pr_created':
        prsOpened.inc();
        record(state, 'success', at);
        break;
      case 'merged':
        merges.inc();
        break;
      case 'failed':
      case 'unproven':
      case 'cancelled':
        record(state, event.status, at);
        break;
      case 'denied': {
        const codes = (event.reason ?? '')
          .split(',')
          .map((c) => c.trim())
          .filter((c) => c !== '');
        for (const code of codes.length > 0 ? codes : ['unspecified']) denials.inc({ reason: code });
        record(state, 'denied', at);
        break;
      }
      default:
        break;
    }
  }

  function onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'task.status':
        onStatus(event);
        break;
      case 'step.finished':
        stepsTotal.inc({ status: event.status });
        stepDuration.observe({ tool: event.tool }, Math.max(0, event.durationMs / 1000));
        break;
      case 'candidate':
        candidates.inc({ model: event.model, format: event.format, outcome: event.outcome });
        if (!event.applied) candidateApplyFailures.inc({ model: event.model, format: event.format });
        break;
      case 'llm.usage':
        if (event.promptTokens > 0) llmTokens.inc({ kind: 'prompt' }, event.promptTokens);
        if (event.completionTokens > 0) llmTokens.inc({ kind: 'completion' }, event.completionTokens);
        if (event.costUsd !== null && event.costUsd > 0) llmCost.inc(event.costUsd);
        break;
      case 'agent.turn':
        agentTurns.inc();
        break;
      case 'agent.tool':
        // The tool names are the agent's own (an unknown one the model made up counts as "other").
        agentToolCalls.inc({ tool: AGENT_TOOL_NAMES.has(event.tool) ? event.tool : 'other', ok: String(event.ok) });
        break;
      default:
        break;
    }
  }

  const subscriber = makeSubscriber(
    (event) => {
      try {
        onEvent(event);
      } catch {
        // prom-client throws on a negative increment or a bad label; a count lost beats a failed task.
      }
    },
    async () => settleVerified(),
  );

  return {
    subscriber,
    registry,
    async text() {
      settleVerified();
      return registry.metrics();
    },
    recordRevert() {
      reverts.inc();
    },
  };
}

type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];
type SampleJson = MetricJson['values'][number] & { metricName?: string };

/**
 * The samples of an existing exposition, keyed by sample name. The parser's own histogram handling folds
 * all label sets of a histogram into one (it assumes an unlabelled histogram), so TYPE lines are dropped
 * first: every `_bucket`, `_sum` and `_count` series then comes back as a plain labelled sample, and the
 * family it belongs to is known from our own metric definitions.
 */
function parseSamples(text: string): Map<string, { labels: Record<string, string>; value: number }[]> {
  const untyped = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('# TYPE '))
    .join('\n');
  const samples = new Map<string, { labels: Record<string, string>; value: number }[]>();
  for (const family of parsePrometheusTextFormat(untyped)) {
    for (const sample of family.metrics) {
      const value = Number(sample.value);
      if (sample.value === undefined || !Number.isFinite(value)) continue;
      const list = samples.get(family.name) ?? [];
      list.push({ labels: sample.labels ?? {}, value });
      samples.set(family.name, list);
    }
  }
  return samples;
}

/** The previous file's values, shaped like this run's `getMetricsAsJSON()`, family by family. */
function previousAsJson(text: string, current: MetricJson[]): MetricJson[] {
  const samples = parseSamples(text);
  return current.map((family) => {
    // prom-client declares `type` as a numeric enum, but at run time it is the exposition name.
    const histogram = (family.type as unknown as string) === 'histogram';
    const names = histogram ? [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`] : [family.name];
    const values: SampleJson[] = [];
    for (const name of names) {
      for (const sample of samples.get(name) ?? []) {
        values.push(histogram ? { ...sample, metricName: name } : { ...sample });
      }
    }
    return { ...family, values };
  });
}

export interface TextfileOptions {
  /** How long to wait for another run holding the lock, in ms (default 10 s). */
  lockWaitMs?: number;
}

/**
 * Adds this run's counts to a node_exporter textfile-collector file (`*.prom`).
 *
 * Accumulating: node_exporter exposes the file as it is, so counters must keep growing across runs; the
 * previous file is read, parsed and summed with this run (counters, and histograms bucket by bucket).
 * Series the previous file has and this run lacks are kept; metrics this version no longer defines are
 * dropped.
 * Atomic: the new content is written to a temporary file in the same directory and renamed over the old
 * one, so the collector never reads half a file.
 * Locked: an exclusive lock (a `<file>.lock` directory, retried, broken when stale) spans the
 * read-add-write, so two runs finishing together do not lose each other's counts.
 */
export async function writeTextfile(path: string, metrics: Metrics, options: TextfileOptions = {}): Promise<void> {
  const waitMs = options.lockWaitMs ?? 10_000;
  await mkdir(dirname(path), { recursive: true });
  const release = await lockfile.lock(path, {
    realpath: false,
    stale: 10_000,
    // proper-lockfile's default throws from a timer, which would crash the run; a compromised lock
    // (someone removed it) costs at worst a lost count.
    onCompromised: () => {},
    retries: { retries: Math.max(1, Math.ceil(waitMs / 100)), factor: 1.2, minTimeout: 20, maxTimeout: 200, randomize: true },
  });
  try {
    let previous = '';
    try {
      previous = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await metrics.text(); // settles outcomes still pending, as a scrape would
    const current = await metrics.registry.getMetricsAsJSON();
    let prior: MetricJson[];
    try {
      prior = previous.trim() === '' ? [] : previousAsJson(previous, current);
    } catch (err) {
      // Overwriting a file we cannot read would silently reset every counter in it.
      throw new Error(`cannot parse the existing metrics file ${path}; left it unchanged (${(err as Error).message})`);
    }
    const merged = AggregatorRegistry.aggregate(prior.length > 0 ? [prior, current] : [current]);
    await writeFileAtomic(path, await merged.metrics(), { mode: 0o644 });
  } finally {
    await release();
  }
}

export interface PushOptions {
  /** Extra grouping labels, e.g. `{ instance: hostname }`, so runs on different hosts do not overwrite each other. */
  groupings?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Sends this run's metrics to a Prometheus Pushgateway (POST: replaces only the metrics of the same names
 * in the job's group, leaving the group's others alone). The Pushgateway keeps the last push, so these
 * are per-run values; use the textfile for totals across runs.
 */
export async function pushToGateway(url: string, metrics: Metrics, job: string, options: PushOptions = {}): Promise<void> {
  await metrics.text();
  const gateway = new Pushgateway(url, { timeout: options.timeoutMs ?? 10_000 }, metrics.registry);
  try {
    await gateway.pushAdd({ jobName: job, ...(options.groupings ? { groupings: options.groupings } : {}) });
  } catch (err) {
    // The URL may carry basic-auth credentials; name the gateway by its host only.
    throw new Error(`push to the Pushgateway at ${safeOrigin(url)} failed: ${(err as Error).message}`);
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
