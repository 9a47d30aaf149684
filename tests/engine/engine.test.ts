// runPlan with fake tools: lifecycle, baseline pass, repair loop, retries with backoff, denial,
// cancellation and timeouts. The tools are scripted functions; the engine is the real one.
import { describe, expect, it } from '@jest/globals';
import { runPlan, type EngineOutcome } from '../../src/engine/engine.js';
import type { EngineEvent, StepContext, StepResult, Tool } from '../../src/engine/types.js';
import type { TaskRequest } from '../../src/config/request.js';
import type { Plan, PlanStep, ToolName } from '../../src/plan/types.js';
import { TransientError } from '../../src/ports/types.js';
import { ConfigError, ExternalError, RefusedError } from '../../src/util/errors.js';

type Script = (ctx: StepContext) => Promise<StepResult> | StepResult;

const REQUEST: TaskRequest = { repo: '/tmp/r', title: 't', description: '', risk: 'medium', noPr: false, keepWorkspace: false };
const OK: StepResult = { status: 'ok', summary: 'ok' };

function step(tool: ToolName, extra: Partial<PlanStep> = {}): PlanStep {
  return { id: tool, tool, title: tool, sandbox: null, network: false, timeoutSecs: 30, retries: 0, inputs: {}, ...extra };
}

/** The Rust plan's shape: baseline + repairable build/test/lint, policy and pr advancing the lifecycle. */
function fullPlan(budget = 2, extra: Partial<Record<ToolName, Partial<PlanStep>>> = {}): Plan {
  const s = (tool: ToolName, base: Partial<PlanStep> = {}) => step(tool, { ...base, ...(extra[tool] ?? {}) });
  return {
    toolchain: 'rust',
    toolchainReason: 'found Cargo.toml',
    base: 'main',
    branch: 'autodev/t-1',
    sandbox: 'bwrap',
    repair: { from: 'codegen', budget },
    steps: [
      s('clone'),
      s('search'),
      s('codegen'),
      s('apply', { repairable: true }),
      s('build', { baseline: true, repairable: true }),
      s('test', { baseline: true, repairable: true }),
      s('lint', { baseline: true, repairable: true }),
      s('secrets'),
      s('policy'),
      s('pr'),
    ],
    notes: [],
  };
}

interface Harness {
  outcome: EngineOutcome;
  events: EngineEvent[];
  calls: { tool: string; mode: string; round: number; attempt: number; feedback: string | null }[];
  delays: number[];
}

async function run(
  plan: Plan,
  scripts: Partial<Record<string, Script>>,
  opts: {
    signal?: AbortSignal;
    backoffMs?: number;
    sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
    startAt?: string;
    tools?: Map<string, Tool>;
  } = {},
): Promise<Harness> {
  const events: EngineEvent[] = [];
  const calls: Harness['calls'] = [];
  const delays: number[] = [];
  const tools = opts.tools ?? new Map<string, Tool>();
  if (!opts.tools) {
    for (const s of plan.steps) {
      tools.set(s.tool, {
        name: s.tool,
        run: async (ctx) => {
          calls.push({ tool: ctx.step.tool, mode: ctx.mode, round: ctx.round, attempt: ctx.attempt, feedback: ctx.feedback });
          return (await scripts[ctx.step.tool]?.(ctx)) ?? OK;
        },
      });
    }
  }
  const outcome = await runPlan({
    taskId: 'task-1',
    request: REQUEST,
    plan,
    tools,
    ports: {},
    state: {},
    signal: opts.signal ?? new AbortController().signal,
    emit: (e) => events.push(e),
    backoffMs: opts.backoffMs ?? 100,
    sleep:
      opts.sleep ??
      (async (ms) => {
        delays.push(ms);
      }),
    startAt: opts.startAt,
  });
  return { outcome, events, calls, delays };
}

const statuses = (events: EngineEvent[]) => events.filter((e) => e.type === 'task.status').map((e) => (e as { status: string }).status);

describe('lifecycle', () => {
  it("goes executing → verified → pr_created through the steps' advance", async () => {
    const { outcome, events, calls } = await run(fullPlan(), {
      policy: () => ({ status: 'ok', summary: 'policy passed', advance: 'verified' }),
      pr: () => ({ status: 'ok', summary: 'PR #1', advance: 'pr_created', data: { number: 1 } }),
    });
    expect(statuses(events)).toEqual(['pending', 'executing', 'verified', 'pr_created']);
    expect(outcome).toMatchObject({ status: 'pr_created', reason: null, failedStep: null, error: null, rounds: 0 });
    // the verified event comes after policy finished and before pr started
    const idx = (pred: (e: EngineEvent) => boolean) => events.findIndex(pred);
    const verifiedAt = idx((e) => e.type === 'task.status' && e.status === 'verified');
    expect(verifiedAt).toBeGreaterThan(idx((e) => e.type === 'step.finished' && e.stepId === 'policy'));
    expect(verifiedAt).toBeLessThan(idx((e) => e.type === 'step.started' && e.stepId === 'pr'));
    expect(calls.filter((c) => c.mode === 'change').map((c) => c.tool)).toEqual(fullPlan().steps.map((s) => s.tool));
    expect(outcome.steps.find((s) => s.id === 'pr')?.data).toEqual({ number: 1 });
    for (const e of events) expect(e.taskId).toBe('task-1');
  });

  it('ends verified when no step advances the lifecycle', async () => {
    const { outcome, events } = await run(fullPlan(), {});
    expect(outcome.status).toBe('verified');
    expect(statuses(events)).toEqual(['pending', 'executing', 'verified']);
  });

  it('emits started/finished pairs in step order with mode, round and attempt', async () => {
    const { events } = await run(fullPlan(), {});
    const trail = events
      .filter((e) => e.type === 'step.started' || e.type === 'step.finished')
      .map((e) => `${e.type === 'step.started' ? '>' : '<'}${(e as { stepId: string }).stepId}`);
    expect(trail.slice(0, 6)).toEqual(['>clone', '<clone', '>search', '<search', '>build', '<build']);
    const started = events.find((e) => e.type === 'step.started' && e.stepId === 'clone');
    expect(started).toMatchObject({ tool: 'clone', title: 'clone', attempt: 1, round: 0, mode: 'change' });
    const finished = events.find((e) => e.type === 'step.finished' && e.stepId === 'clone');
    expect(finished).toMatchObject({ status: 'ok', summary: 'ok', attempt: 1, round: 0 });
  });

  it('adds the task id to events a tool emits', async () => {
    const { events } = await run(fullPlan(), {
      search: (ctx) => {
        ctx.emit({ type: 'log', level: 'info', message: 'found 3 files' });
        return OK;
      },
    });
    expect(events).toContainEqual({ type: 'log', taskId: 'task-1', level: 'info', message: 'found 3 files' });
  });

  it('hands every tool the request, plan, step, ports and the shared state', async () => {
    const plan = fullPlan();
    const seen: unknown[] = [];
    await run(plan, {
      search: (ctx) => {
        (ctx.state as Record<string, unknown>).hits = 3;
        return OK;
      },
      codegen: (ctx) => {
        seen.push((ctx.state as Record<string, unknown>).hits, ctx.request.title, ctx.plan.branch, ctx.step.id, ctx.taskId);
        return OK;
      },
    });
    expect(seen).toEqual([3, 't', 'autodev/t-1', 'codegen', 'task-1']);
  });

  it('resumes at startAt, skipping the steps before it and the baseline', async () => {
    const { calls } = await run(fullPlan(), {}, { startAt: 'test' });
    expect(calls.map((c) => c.tool)).toEqual(['test', 'lint', 'secrets', 'policy', 'pr']);
  });

  it('throws before anything runs when a step names an unregistered tool', async () => {
    const events: EngineEvent[] = [];
    const plan = fullPlan();
    const tools = new Map<string, Tool>(
      plan.steps.filter((s) => s.tool !== 'lint').map((s) => [s.tool, { name: s.tool, run: async () => OK }]),
    );
    await expect(
      runPlan({
        taskId: 't',
        request: REQUEST,
        plan,
        tools,
        ports: {},
        state: {},
        signal: new AbortController().signal,
        emit: (e) => events.push(e),
      }),
    ).rejects.toThrow(/no tool registered for "lint"/);
    expect(events).toEqual([]);
  });
});

describe('baseline', () => {
  it('runs the baseline steps once, in mode baseline, right before codegen', async () => {
    const { calls } = await run(fullPlan(), {});
    expect(calls.map((c) => `${c.tool}:${c.mode}`)).toEqual([
      'clone:change',
      'search:change',
      'build:baseline',
      'test:baseline',
      'lint:baseline',
      'codegen:change',
      'apply:change',
      'build:change',
      'test:change',
      'lint:change',
      'secrets:change',
      'policy:change',
      'pr:change',
    ]);
    expect(calls.filter((c) => c.mode === 'baseline').every((c) => c.round === 0)).toBe(true);
  });

  it('goes on when the base already fails, and records the baseline results', async () => {
    const { outcome } = await run(fullPlan(), {
      test: (ctx) => (ctx.mode === 'baseline' ? { status: 'failed', summary: '1 test failing on base', data: { failing: ['a'] } } : OK),
    });
    expect(outcome.status).toBe('verified');
    expect(outcome.steps.find((s) => s.id === 'test' && s.mode === 'baseline')).toMatchObject({
      status: 'failed',
      data: { failing: ['a'] },
    });
  });

  it('does not run the baseline again in repair rounds', async () => {
    let builds = 0;
    const { calls, outcome } = await run(fullPlan(), {
      build: (ctx) => (ctx.mode === 'change' && ++builds === 1 ? { status: 'failed', summary: 'build failed', feedback: 'E0308' } : OK),
    });
    expect(outcome.status).toBe('verified');
    expect(calls.filter((c) => c.mode === 'baseline')).toHaveLength(3);
  });
});

describe('baseline overlapping the steps that do not need it', () => {
  /** Tools that take a few turns of the event loop, as real ones do. */
  const slow: Script = async () => {
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    return OK;
  };
  const marks = (events: EngineEvent[]): string[] =>
    events.flatMap((e) =>
      e.type === 'step.started' ? [`start ${e.stepId}:${e.mode}`] : e.type === 'step.finished' ? [`end ${e.stepId}:${e.mode}`] : [],
    );

  it('starts the baseline before a step flagged overlapsBaseline, runs them side by side, and codegen waits for the whole baseline', async () => {
    const { outcome, events } = await run(fullPlan(2, { search: { overlapsBaseline: true } }), {
      search: slow,
      build: slow,
      test: slow,
      lint: slow,
    });
    expect(outcome.status).toBe('verified');
    const order = marks(events);
    const at = (mark: string): number => order.indexOf(mark);
    // Side by side: search starts while the base builds, and ends before the baseline does.
    expect(at('start build:baseline')).toBeLessThan(at('start search:change'));
    expect(at('start search:change')).toBeLessThan(at('end build:baseline'));
    expect(at('end search:change')).toBeLessThan(at('end lint:baseline'));
    // Codegen only after the last baseline step; the baseline's own order is kept.
    expect(at('end lint:baseline')).toBeLessThan(at('start codegen:change'));
    expect(order.filter((m) => m.endsWith(':baseline'))).toEqual([
      'start build:baseline',
      'end build:baseline',
      'start test:baseline',
      'end test:baseline',
      'start lint:baseline',
      'end lint:baseline',
    ]);
    // Every step that started ended, once.
    for (const mark of order.filter((m) => m.startsWith('start '))) {
      expect(order.filter((m) => m === mark.replace('start ', 'end '))).toHaveLength(1);
    }
    // The steps list has the order of the step.finished events.
    expect(outcome.steps.map((s) => `end ${s.id}:${s.mode}`)).toEqual(order.filter((m) => m.startsWith('end ')));
  });

  it('waits for the baseline before ending when the overlapping step fails, and files its records', async () => {
    const { outcome, events } = await run(fullPlan(2, { search: { overlapsBaseline: true } }), {
      search: () => ({ status: 'failed', summary: 'search broke' }),
      build: slow,
      test: slow,
      lint: slow,
    });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'search broke', failedStep: 'search' });
    expect(outcome.steps.map((s) => `${s.id}:${s.mode}`).sort()).toEqual(
      ['clone:change', 'build:baseline', 'test:baseline', 'lint:baseline', 'search:change'].sort(),
    );
    // The task's end is the last event: nothing of the baseline comes after it.
    expect(events.at(-1)).toMatchObject({ type: 'task.status', status: 'failed' });
  });

  it('ends cancelled when the baseline is cancelled while a step runs beside it', async () => {
    const controller = new AbortController();
    const { outcome, calls } = await run(
      fullPlan(2, { search: { overlapsBaseline: true } }),
      {
        build: async () => {
          controller.abort();
          return OK;
        },
        search: slow,
      },
      { signal: controller.signal },
    );
    expect(outcome.status).toBe('cancelled');
    expect(calls.map((c) => c.tool)).not.toContain('codegen');
  });
});

describe('repair loop', () => {
  it('goes back to codegen with the feedback and succeeds in a later round', async () => {
    const { outcome, calls, events } = await run(fullPlan(), {
      test: (ctx) =>
        ctx.mode === 'change' && ctx.round === 0 ? { status: 'failed', summary: '1 test failed', feedback: 'adds: left 0 right 4' } : OK,
    });
    expect(outcome).toMatchObject({ status: 'verified', rounds: 1 });
    const codegens = calls.filter((c) => c.tool === 'codegen');
    expect(codegens.map((c) => [c.round, c.feedback])).toEqual([
      [0, null],
      [1, 'adds: left 0 right 4'],
    ]);
    // the round's steps after codegen run again, with round 1
    expect(calls.filter((c) => c.round === 1).map((c) => c.tool)).toEqual([
      'codegen',
      'apply',
      'build',
      'test',
      'lint',
      'secrets',
      'policy',
      'pr',
    ]);
    expect(events.filter((e) => e.type === 'repair.round')).toEqual([
      { type: 'repair.round', taskId: 'task-1', round: 1, budget: 2, failedStep: 'test', feedback: 'adds: left 0 right 4' },
    ]);
  });

  it('uses the summary as feedback when the tool gives none', async () => {
    const { calls } = await run(fullPlan(), {
      apply: (ctx) => (ctx.round === 0 ? { status: 'failed', summary: 'hunk 1 does not apply' } : OK),
    });
    expect(calls.filter((c) => c.tool === 'codegen')[1].feedback).toBe('hunk 1 does not apply');
  });

  it('stops at the budget: failed, naming the rounds', async () => {
    const { outcome, calls, events } = await run(fullPlan(2), {
      build: (ctx) => (ctx.mode === 'change' ? { status: 'failed', summary: `build failed r${ctx.round}`, feedback: `E${ctx.round}` } : OK),
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.failedStep).toBe('build');
    expect(outcome.rounds).toBe(2);
    expect(outcome.reason).toBe('build failed r2 (after 2 repair rounds)');
    expect(calls.filter((c) => c.tool === 'codegen').map((c) => c.feedback)).toEqual([null, 'E0', 'E1']);
    expect(calls.map((c) => c.tool)).not.toContain('secrets');
    expect(events.filter((e) => e.type === 'repair.round').map((e) => (e as { round: number }).round)).toEqual([1, 2]);
    expect(statuses(events)).toEqual(['pending', 'executing', 'failed']);
    const last = events.filter((e) => e.type === 'task.status').at(-1);
    expect(last).toMatchObject({ status: 'failed', reason: 'build failed r2 (after 2 repair rounds)' });
  });

  it('says "1 repair round" in the singular', async () => {
    const { outcome } = await run(fullPlan(1), {
      lint: (ctx) => (ctx.mode === 'change' ? { status: 'failed', summary: 'clippy: 1 warning' } : OK),
    });
    expect(outcome.reason).toBe('clippy: 1 warning (after 1 repair round)');
  });

  it('ends with the status the last failure names (unproven), after the repair rounds, and only then', async () => {
    const noEvidence: StepResult = {
      status: 'failed',
      summary: 'no evidence the change does the task',
      feedback: 'add a test',
      endsAs: 'unproven',
    };
    const { outcome, calls, events } = await run(fullPlan(1), { test: (ctx) => (ctx.mode === 'change' ? noEvidence : OK) });
    expect(outcome).toMatchObject({
      status: 'unproven',
      reason: 'no evidence the change does the task (after 1 repair round)',
      failedStep: 'test',
      rounds: 1,
    });
    expect(calls.filter((c) => c.tool === 'codegen').map((c) => c.feedback)).toEqual([null, 'add a test']);
    expect(calls.map((c) => c.tool)).not.toContain('pr');
    expect(statuses(events)).toEqual(['pending', 'executing', 'unproven']);
    // A later round that fails for another reason ends failed: the last failure decides.
    const mixed = await run(fullPlan(1), {
      test: (ctx) => (ctx.mode === 'change' && ctx.round === 0 ? noEvidence : OK),
      build: (ctx) => (ctx.mode === 'change' && ctx.round === 1 ? { status: 'failed', summary: 'build failed' } : OK),
    });
    expect(mixed.outcome.status).toBe('failed');
    // With no repair budget at all, the first such failure ends the task unproven.
    expect((await run(fullPlan(0), { test: (ctx) => (ctx.mode === 'change' ? noEvidence : OK) })).outcome.status).toBe('unproven');
  });

  it('fails at once with a zero budget, and for a failure outside the loop', async () => {
    const zero = await run(fullPlan(0), { test: (ctx) => (ctx.mode === 'change' ? { status: 'failed', summary: 'tests failed' } : OK) });
    expect(zero.outcome).toMatchObject({ status: 'failed', reason: 'tests failed', rounds: 0, failedStep: 'test' });
    expect(zero.calls.filter((c) => c.tool === 'codegen')).toHaveLength(1);

    const secrets = await run(fullPlan(), { secrets: () => ({ status: 'failed', summary: 'scanner crashed' }) });
    expect(secrets.outcome).toMatchObject({ status: 'failed', reason: 'scanner crashed', failedStep: 'secrets', rounds: 0 });
    expect(secrets.calls.filter((c) => c.tool === 'codegen')).toHaveLength(1);
  });
});

describe('retries', () => {
  it('retries a thrown TransientError with exponential backoff', async () => {
    let n = 0;
    const { outcome, delays, events, calls } = await run(fullPlan(2, { codegen: { retries: 3 } }), {
      codegen: () => {
        n += 1;
        if (n <= 3) throw new TransientError(`HTTP 503 (${n})`);
        return OK;
      },
    });
    expect(outcome.status).toBe('verified');
    expect(delays).toEqual([100, 200, 400]);
    expect(calls.filter((c) => c.tool === 'codegen').map((c) => c.attempt)).toEqual([1, 2, 3, 4]);
    expect(events.filter((e) => e.type === 'step.retry')).toEqual([
      { type: 'step.retry', taskId: 'task-1', stepId: 'codegen', attempt: 2, delayMs: 100, reason: 'HTTP 503 (1)' },
      { type: 'step.retry', taskId: 'task-1', stepId: 'codegen', attempt: 3, delayMs: 200, reason: 'HTTP 503 (2)' },
      { type: 'step.retry', taskId: 'task-1', stepId: 'codegen', attempt: 4, delayMs: 400, reason: 'HTTP 503 (3)' },
    ]);
    expect(outcome.steps.find((s) => s.id === 'codegen')?.attempts).toBe(4);
  });

  it("uses the server's Retry-After instead of the backoff when one is given", async () => {
    let n = 0;
    const { delays } = await run(fullPlan(2, { codegen: { retries: 2 } }), {
      codegen: () => {
        n += 1;
        if (n === 1) throw new TransientError('429', 5000);
        if (n === 2) throw new TransientError('429', 10);
        return OK;
      },
    });
    expect(delays).toEqual([5000, 10]);
  });

  it('retries a result marked transient, and fails when the retries run out', async () => {
    const { outcome, delays, calls } = await run(fullPlan(2, { clone: { retries: 2 } }), {
      clone: () => ({ status: 'failed', summary: 'connection reset', transient: true }),
    });
    expect(calls.filter((c) => c.tool === 'clone')).toHaveLength(3);
    expect(delays).toEqual([100, 200]);
    expect(outcome).toMatchObject({ status: 'failed', failedStep: 'clone', reason: 'connection reset' });
    expect(outcome.steps[0]).toMatchObject({ id: 'clone', status: 'failed', attempts: 3 });
  });

  it('does not retry a non-transient failure or error', async () => {
    const failed = await run(fullPlan(2, { pr: { retries: 3 } }), { pr: () => ({ status: 'failed', summary: 'branch protected' }) });
    expect(failed.calls.filter((c) => c.tool === 'pr')).toHaveLength(1);
    expect(failed.delays).toEqual([]);
    expect(failed.outcome.status).toBe('failed');

    const error = new ExternalError('cannot clone: repository not found');
    const thrown = await run(fullPlan(2, { clone: { retries: 3 } }), {
      clone: () => {
        throw error;
      },
    });
    expect(thrown.calls).toHaveLength(1);
    expect(thrown.delays).toEqual([]);
    expect(thrown.outcome).toMatchObject({ status: 'failed', reason: 'cannot clone: repository not found', failedStep: 'clone' });
    expect(thrown.outcome.error).toBe(error);
  });

  it('passes a bug in a tool through as an exception', async () => {
    await expect(
      run(fullPlan(), {
        search: () => {
          throw new TypeError('x is undefined');
        },
      }),
    ).rejects.toThrow('x is undefined');
  });

  it('sleeps for real (abortably) when no sleep is injected', async () => {
    let n = 0;
    const plan = fullPlan(2, { clone: { retries: 1 } });
    const { outcome } = await run(
      plan,
      { clone: () => (++n === 1 ? { status: 'failed', summary: 'reset', transient: true } : OK) },
      { backoffMs: 5, sleep: undefined as never },
    );
    expect(outcome.status).toBe('verified');
    expect(n).toBe(2);
  });
});

describe('denial, cancellation and timeouts', () => {
  it('stops on a denied result: status denied with the reason, nothing after it runs', async () => {
    const { outcome, calls, events } = await run(fullPlan(), {
      policy: () => ({ status: 'denied', summary: 'SECRETS_FOUND: a token was added' }),
    });
    expect(outcome).toMatchObject({ status: 'denied', reason: 'SECRETS_FOUND: a token was added', failedStep: 'policy' });
    expect(calls.map((c) => c.tool)).not.toContain('pr');
    expect(statuses(events)).toEqual(['pending', 'executing', 'denied']);
  });

  it('turns a thrown RefusedError into a denial that keeps the error', async () => {
    const error = new RefusedError('repository not allowed');
    const { outcome } = await run(fullPlan(), {
      clone: () => {
        throw error;
      },
    });
    expect(outcome).toMatchObject({ status: 'denied', reason: 'repository not allowed' });
    expect(outcome.error).toBe(error);
  });

  it('is cancelled when the signal aborts during a step', async () => {
    const controller = new AbortController();
    const { outcome, calls, events } = await run(
      fullPlan(),
      {
        build: (ctx) =>
          ctx.mode === 'change'
            ? new Promise<StepResult>((_, reject) => {
                ctx.signal.addEventListener('abort', () => reject(new Error('killed')), { once: true });
                setImmediate(() => controller.abort());
              })
            : OK,
      },
      { signal: controller.signal },
    );
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'cancelled', failedStep: 'build' });
    expect(outcome.steps.at(-1)).toMatchObject({ id: 'build', status: 'cancelled' });
    expect(calls.at(-1)).toMatchObject({ tool: 'build', mode: 'change' });
    expect(calls.filter((c) => c.mode === 'change').map((c) => c.tool)).not.toContain('test');
    expect(statuses(events).at(-1)).toBe('cancelled');
  });

  it('is cancelled when the signal aborts while a step returns normally', async () => {
    const controller = new AbortController();
    const { outcome, calls } = await run(
      fullPlan(),
      {
        search: () => {
          controller.abort();
          return OK;
        },
      },
      { signal: controller.signal },
    );
    expect(outcome.status).toBe('cancelled');
    expect(calls.map((c) => c.tool)).toEqual(['clone', 'search']);
  });

  it('is cancelled when the signal aborts during a retry wait', async () => {
    const controller = new AbortController();
    const { outcome, calls } = await run(
      fullPlan(2, { clone: { retries: 3 } }),
      { clone: () => ({ status: 'failed', summary: 'reset', transient: true }) },
      {
        signal: controller.signal,
        backoffMs: 60_000,
        sleep: (_ms, signal) =>
          new Promise<void>((_, reject) => {
            signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
            controller.abort();
          }),
      },
    );
    expect(outcome.status).toBe('cancelled');
    expect(calls).toHaveLength(1);
  });

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { outcome, calls } = await run(fullPlan(), {}, { signal: controller.signal });
    expect(outcome.status).toBe('cancelled');
    expect(calls).toEqual([]);
  });

  it('fails a step that outlives its timeout with "timed out"', async () => {
    const { outcome } = await run(fullPlan(2, { secrets: { timeoutSecs: 0.05 } }), {
      secrets: (ctx) =>
        new Promise<StepResult>((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('killed by signal')), { once: true });
        }),
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.failedStep).toBe('secrets');
    expect(outcome.reason).toMatch(/secrets timed out after 0\.05s/);
  });

  it('reports a timeout even when the tool returns a failure instead of throwing', async () => {
    // A tool whose child process is killed by the step's signal returns a failed result (a failed
    // command is data); the reason must still say the step timed out.
    const { outcome } = await run(fullPlan(2, { secrets: { timeoutSecs: 0.05, retries: 2 } }), {
      secrets: (ctx) =>
        new Promise<StepResult>((resolve) => {
          ctx.signal.addEventListener(
            'abort',
            () => resolve({ status: 'failed', summary: 'gitleaks exited with signal SIGTERM', transient: true }),
            { once: true },
          );
        }),
    });
    expect(outcome).toMatchObject({ status: 'failed', failedStep: 'secrets' });
    expect(outcome.reason).toMatch(/secrets timed out after 0\.05s/);
    expect(outcome.steps.at(-1)?.attempts).toBe(1);
  });

  it('treats a timed-out repairable step as a failure the repair loop may retry', async () => {
    const { outcome, calls } = await run(fullPlan(1, { test: { timeoutSecs: 0.05 } }), {
      test: (ctx) =>
        ctx.mode === 'change' && ctx.round === 0
          ? new Promise<StepResult>((_, reject) => {
              ctx.signal.addEventListener('abort', () => reject(new Error('killed')), { once: true });
            })
          : OK,
    });
    expect(outcome).toMatchObject({ status: 'verified', rounds: 1 });
    expect(calls.filter((c) => c.tool === 'codegen')[1].feedback).toMatch(/timed out/);
  });
});

describe('planning (a plan made once the first steps ran)', () => {
  /** The plan comes from `build`, after the clone ran; the tools record their calls. */
  async function plan(opts: {
    first?: PlanStep[];
    build?: () => Promise<Plan>;
    check?: () => Promise<void>;
    scripts?: Partial<Record<string, Script>>;
    signal?: AbortSignal;
    startAt?: string;
  }) {
    const events: EngineEvent[] = [];
    const calls: string[] = [];
    const full = fullPlan();
    const tools = new Map<string, Tool>(
      full.steps.map((s) => [
        s.tool,
        { name: s.tool, run: async (ctx: StepContext) => (calls.push(ctx.step.id), (await opts.scripts?.[ctx.step.tool]?.(ctx)) ?? OK) },
      ]),
    );
    let built = 0;
    const outcome = await runPlan({
      taskId: 'task-1',
      request: REQUEST,
      plan: {
        first: opts.first ?? [full.steps[0]],
        build: async () => {
          built += 1;
          return opts.build ? opts.build() : full;
        },
      },
      check: opts.check,
      tools,
      ports: {},
      state: {},
      signal: opts.signal ?? new AbortController().signal,
      emit: (e) => events.push(e),
      sleep: async () => undefined,
      startAt: opts.startAt,
    });
    return { outcome, events, calls, built };
  }

  it('goes pending → planning (the clone runs) → executing, and the step the plan lists first does not run again', async () => {
    const { outcome, events, calls, built } = await plan({});
    expect(statuses(events)).toEqual(['pending', 'planning', 'executing', 'verified']);
    expect(calls.filter((c) => c === 'clone')).toHaveLength(1);
    expect(calls[0]).toBe('clone');
    expect(built).toBe(1);
    expect(outcome.steps.map((s) => `${s.id}:${s.mode}`).slice(0, 3)).toEqual(['clone:change', 'search:change', 'build:baseline']);
  });

  it('emits planning only after the check passed, and fails with its error when it does not', async () => {
    const refusal = new ConfigError('OPENAI_API_KEY is not set');
    const { outcome, events, calls, built } = await plan({ check: async () => Promise.reject(refusal) });
    expect(statuses(events)).toEqual(['pending', 'failed']);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'OPENAI_API_KEY is not set', error: refusal, steps: [] });
    expect(calls).toEqual([]);
    expect(built).toBe(0);
  });

  it('does not plan after a failed clone', async () => {
    const { outcome, events, built } = await plan({ scripts: { clone: () => ({ status: 'failed', summary: 'cannot clone /x' }) } });
    expect(statuses(events)).toEqual(['pending', 'planning', 'failed']);
    expect(outcome).toMatchObject({ status: 'failed', failedStep: 'clone', reason: 'cannot clone /x' });
    expect(built).toBe(0);
  });

  it('ends failed, or denied for a refusal, when planning throws, keeping the error and the clone it ran', async () => {
    const failed = await plan({ build: async () => Promise.reject(new ExternalError('cannot verify changes: no Cargo.toml')) });
    expect(statuses(failed.events)).toEqual(['pending', 'planning', 'failed']);
    expect(failed.outcome).toMatchObject({ status: 'failed', reason: 'cannot verify changes: no Cargo.toml', failedStep: null });
    expect(failed.outcome.error).toBeInstanceOf(ExternalError);
    expect(failed.outcome.steps.map((s) => s.id)).toEqual(['clone']);
    const denied = await plan({ build: async () => Promise.reject(new RefusedError('not allowed')) });
    expect(statuses(denied.events)).toEqual(['pending', 'planning', 'denied']);
  });

  it('is cancelled when the signal aborts while planning, whatever planning throws', async () => {
    const controller = new AbortController();
    const { outcome, events, calls } = await plan({
      signal: controller.signal,
      build: async () => {
        controller.abort();
        throw new Error('aborted');
      },
    });
    expect(statuses(events)).toEqual(['pending', 'planning', 'cancelled']);
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(calls).toEqual(['clone']);
  });

  it('resumes without pending and planning: the task was past them', async () => {
    const { events, calls } = await plan({ first: [], startAt: 'apply' });
    expect(statuses(events)).toEqual(['executing', 'verified']);
    expect(calls.slice(0, 2)).toEqual(['apply', 'build']);
  });
});
