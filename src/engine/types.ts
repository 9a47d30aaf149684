import type { TaskRequest } from '../config/request.js';
import type { Plan, PlanStep } from '../plan/types.js';

export type TaskStatus =
  | 'pending'
  | 'planning'
  | 'executing'
  | 'verified'
  | 'pr_created'
  | 'merged'
  | 'failed'
  /** The change passed every check, but no test showed that it does the task (see README). */
  | 'unproven'
  | 'cancelled'
  | 'denied';

export type StepStatus = 'ok' | 'failed' | 'denied' | 'skipped';

/** What a tool returns. A failed build is a result, not an exception. */
export interface StepResult {
  status: StepStatus;
  /** One line for the progress view and the summary. */
  summary: string;
  /** For a repairable failure: the distilled failure the model is shown in the next round. */
  feedback?: string;
  /** Transient failures (network, 429/5xx) are retried with backoff by the engine. */
  transient?: boolean;
  /** Structured evidence (diagnostics, failing tests, findings) for the result and the PR body. */
  data?: Record<string, unknown>;
  /** The task's lifecycle moves on after this step (policy passed → verified, PR opened → pr_created). */
  advance?: TaskStatus;
  /**
   * For a failure: the status the task ends with when this failure ends it (the repair budget is
   * spent), instead of `failed`; e.g. `unproven` when nothing shows the change does the task.
   */
  endsAs?: TaskStatus;
}

export type EngineEvent =
  | { type: 'task.status'; taskId: string; status: TaskStatus; at: string; reason?: string }
  | {
      type: 'step.started';
      taskId: string;
      stepId: string;
      tool: string;
      title: string;
      attempt: number;
      round: number;
      mode: RunMode;
      at: string;
    }
  | { type: 'step.output'; taskId: string; stepId: string; stream: 'stdout' | 'stderr'; line: string }
  | {
      type: 'step.finished';
      taskId: string;
      stepId: string;
      tool: string;
      status: StepStatus;
      summary: string;
      attempt: number;
      round: number;
      mode: RunMode;
      durationMs: number;
      at: string;
    }
  | { type: 'step.retry'; taskId: string; stepId: string; attempt: number; delayMs: number; reason: string }
  | { type: 'repair.round'; taskId: string; round: number; budget: number; failedStep: string; feedback: string }
  | { type: 'llm.usage'; taskId: string; promptTokens: number; completionTokens: number; costUsd: number | null }
  /** A candidate change's fate (the `candidates` strategy): metrics count them by model and format. */
  | {
      type: 'candidate';
      taskId: string;
      candidate: string;
      model: string;
      /** The format it was asked for. */
      format: string;
      outcome: 'chosen' | 'dropped' | 'malformed' | 'abstained';
      applied: boolean;
    }
  /** The agent strategy made model call `turn` (counted over the task's repair rounds). */
  | { type: 'agent.turn'; taskId: string; round: number; turn: number }
  /** One tool call of the agent: its arguments and result, capped (the audit trail redacts them again). */
  | { type: 'agent.tool'; taskId: string; round: number; turn: number; tool: string; arguments: string; result: string; ok: boolean }
  | { type: 'log'; taskId: string; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

export type RunMode = 'baseline' | 'change';

export type Emit = (event: DistributiveOmit<EngineEvent, 'taskId'>) => void;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface StepContext<Ports = unknown, State = unknown> {
  taskId: string;
  request: TaskRequest;
  plan: Plan;
  step: PlanStep;
  /** Which run of the step: baseline (untouched base) or the change. */
  mode: RunMode;
  attempt: number;
  /** 0 for the first generation, 1.. for repair rounds. */
  round: number;
  /** The distilled failure of the previous round, for codegen. */
  feedback: string | null;
  signal: AbortSignal;
  emit: Emit;
  ports: Ports;
  /** The task's blackboard: steps leave what later steps need. */
  state: State;
}

export interface Tool<Ports = unknown, State = unknown> {
  name: string;
  run(ctx: StepContext<Ports, State>): Promise<StepResult>;
}
