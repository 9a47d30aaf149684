import { PassThrough } from 'node:stream';
import type { EngineEvent } from '../../src/engine/types.js';
import type { Plan, PlanStep, ToolName } from '../../src/plan/types.js';

/** A stream that keeps what was written, as a string. */
export function captureStream(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export function step(id: ToolName, extra: Partial<PlanStep> = {}): PlanStep {
  return { id, tool: id, title: id, sandbox: null, network: false, timeoutSecs: 60, retries: 0, inputs: {}, ...extra };
}

export function plan(steps: PlanStep[], budget = 2): Plan {
  return {
    toolchain: 'rust',
    toolchainReason: 'Cargo.toml',
    base: 'main',
    branch: 'autodev/t1',
    sandbox: 'bwrap',
    repair: { from: 'codegen', budget },
    steps,
    notes: [],
  };
}

/** Builds events with a clock that advances one second per event, so times are deterministic. */
export function scripter(taskId = 't1', start = Date.parse('2026-01-02T03:04:05.000Z')) {
  let t = start;
  const at = (advanceMs = 1000) => {
    t += advanceMs;
    return new Date(t).toISOString();
  };
  return {
    status: (status: Extract<EngineEvent, { type: 'task.status' }>['status'], reason?: string): EngineEvent => ({
      type: 'task.status',
      taskId,
      status,
      at: at(),
      ...(reason ? { reason } : {}),
    }),
    started: (stepId: string, o: { round?: number; attempt?: number; mode?: 'baseline' | 'change'; tool?: string } = {}): EngineEvent => ({
      type: 'step.started',
      taskId,
      stepId,
      tool: o.tool ?? stepId,
      title: stepId,
      attempt: o.attempt ?? 1,
      round: o.round ?? 0,
      mode: o.mode ?? 'change',
      at: at(),
    }),
    finished: (
      stepId: string,
      status: 'ok' | 'failed' | 'denied' | 'skipped',
      durationMs: number,
      o: { round?: number; attempt?: number; mode?: 'baseline' | 'change'; summary?: string; tool?: string } = {},
    ): EngineEvent => ({
      type: 'step.finished',
      taskId,
      stepId,
      tool: o.tool ?? stepId,
      status,
      summary: o.summary ?? '',
      attempt: o.attempt ?? 1,
      round: o.round ?? 0,
      mode: o.mode ?? 'change',
      durationMs,
      at: at(durationMs),
    }),
    output: (stepId: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): EngineEvent => ({
      type: 'step.output',
      taskId,
      stepId,
      stream,
      line,
    }),
    retry: (stepId: string, attempt: number, delayMs: number, reason: string): EngineEvent => ({
      type: 'step.retry',
      taskId,
      stepId,
      attempt,
      delayMs,
      reason,
    }),
    repair: (round: number, budget: number, failedStep: string, feedback: string): EngineEvent => ({
      type: 'repair.round',
      taskId,
      round,
      budget,
      failedStep,
      feedback,
    }),
    usage: (promptTokens: number, completionTokens: number, costUsd: number | null): EngineEvent => ({
      type: 'llm.usage',
      taskId,
      promptTokens,
      completionTokens,
      costUsd,
    }),
    log: (level: 'debug' | 'info' | 'warn' | 'error', message: string): EngineEvent => ({ type: 'log', taskId, level, message }),
  };
}
