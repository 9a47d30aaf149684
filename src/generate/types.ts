// Generation behind one interface: a strategy turns the task, the code shown, what fails on the base
// and the budget into candidate changes; an edit format is what the model is told to write and how
// its reply is read. Both are chosen by name (the plan's codegen inputs) from the tables beside this.
import type { ContextSelection } from '../context/index.js';
import type { CodegenInputs } from '../plan/types.js';
import type { Llm } from '../ports/types.js';
import type { AgentSession } from './agent/types.js';
import type { BudgetMeter } from './budget.js';

/** One candidate change, as the model wrote it. */
export interface Generation {
  rationale: string;
  commitMessage: string;
  /** The edits in the format the model wrote (src/patch/edits.ts reads every one): a unified diff, blocks, an envelope… */
  patch: string;
  /** The edit format(s) the reply used, `+`-joined when mixed (`search-replace`, `udiff+whole`). */
  format?: string;
  /** Who wrote it, when several candidates were asked for (the `candidates` strategy). */
  origin?: CandidateOrigin;
}

/** A candidate's request: the model, the format it was asked for, the temperature, what it cost. */
export interface CandidateOrigin {
  model: string;
  requestedFormat: string;
  temperature: number;
  promptTokens: number;
  completionTokens: number;
  /** The candidate this one repairs (its id), in a repair round. */
  repairs?: string;
}

/** A candidate asked for that yielded no change (a malformed reply), kept for the evidence. */
export interface DroppedCandidate {
  origin: CandidateOrigin;
  reason: string;
}

/** A reply that does not follow the format; its message is shown to the model when it is asked again. */
export class ReplyFormatError extends Error {
  override name = 'ReplyFormatError';
}

export interface EditFormat {
  name: string;
  /** The format's part of the system prompt: the reply's layout and the rules for the edit. */
  instructions: string;
  /** The reply as a candidate; throws ReplyFormatError when it cannot be used. */
  parse(reply: string): Generation;
}

/** What already fails on the untouched base, so the model knows it before it writes anything. */
export interface BaselineFailures {
  /** Tests failing on the base (most likely the ones the task is about). */
  failingTests: string[];
}

/** A test written before the fix that fails on the base (the shape of the task state's `reproduction`). */
export interface ReproductionTest {
  file: string;
  content: string;
  tests: string[];
  baseFailure: string;
}

/** The previous round's failure, in a repair round. */
export interface RepairFeedback {
  feedback: string;
  /** The patch that failed, quoted back so the model does not write it again. */
  previousPatch: string | null;
}

export interface StrategyInput {
  task: { title: string; description: string };
  context: ContextSelection | null;
  baseline: BaselineFailures;
  repair: RepairFeedback | null;
  /** The reproduction test the change must make pass (generate.reproduce); null or absent when there is none. */
  reproduction?: ReproductionTest | null;
  /**
   * `candidates` in a repair round: the best failed candidates, each with its own failure (the
   * round repairs these only). Null or empty outside repair rounds.
   */
  repairs?: (RepairFeedback & { id: string; model: string; format: string; temperature: number })[] | null;
  settings: CodegenInputs;
  format: EditFormat;
  llm: Llm;
  /** Counts every call against the task's budgets (and stops asking when they are spent). */
  budget: BudgetMeter;
  signal: AbortSignal;
  /** A line for the log (a malformed reply asked again, say). */
  warn: (message: string) => void;
  /** The agent strategy's workspace and conversation (given when the plan's strategy is `agent`). */
  agent?: AgentSession;
}

export type StrategyOutcome =
  /** Candidates, best first. */
  | {
      status: 'generated';
      candidates: Generation[];
      /** Candidates asked for whose replies were unusable. */
      dropped?: DroppedCandidate[];
      /** Why fewer candidates than planned were asked for (the budget), for the log and the result. */
      notes?: string[];
    }
  /** No usable candidate: the budget is spent or every reply was malformed; `reason` says which, `budget` marks the first. */
  | { status: 'stopped'; reason: string; budget?: boolean };

export interface Strategy {
  name: string;
  generate(input: StrategyInput): Promise<StrategyOutcome>;
}

/** What a task's model calls cost so far: tokens, calls and, when prices are set, dollars. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number | null;
  calls: number;
}
