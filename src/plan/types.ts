// The plan is plain data: what `run` will do, in order. `--plan-only` prints it; the engine walks it.
import type { GuardsSetting } from '../guards/codes.js';

export type ToolName =
  | 'clone'
  | 'deps'
  | 'search'
  | 'reproduce'
  | 'codegen'
  | 'select'
  | 'apply'
  | 'build'
  | 'test'
  | 'lint'
  | 'deps-check'
  | 'secrets'
  | 'policy'
  | 'pr'
  | 'push';

/** The GitHub repository a pull request goes to (from the repository URL, its origin, or git.github_repo). */
export interface ForgeTarget {
  owner: string;
  repo: string;
}

export type SandboxKind = 'docker' | 'podman' | 'bwrap' | 'none';
export type RiskTier = 'low' | 'medium' | 'high';
/** A registered toolchain's id (src/toolchains/registry.ts). */
export type ToolchainId = string;

export interface PlanStep {
  /** Unique within the plan; equal to the tool name unless a tool appears twice. */
  id: string;
  tool: ToolName;
  title: string;
  /** The exact command line where the step runs one (argv, not a shell string). */
  command?: string[];
  /** Where the command runs; null for steps that run no project code. */
  sandbox: SandboxKind | null;
  /** Whether the sandboxed command may reach the network (only `deps`). */
  network: boolean;
  timeoutSecs: number;
  /** Retries with exponential backoff for transient failures (network, 429/5xx). */
  retries: number;
  /** Also run once on the untouched base, before the first codegen, to learn what already fails. */
  baseline?: boolean;
  /** A failure here goes back to codegen (the repair loop) while the budget lasts. */
  repairable?: boolean;
  /**
   * Runs while the baseline runs: it needs none of the baseline's results and leaves the work tree
   * as it is (search reads it). The baseline then starts before the first such step instead of
   * right before codegen, and the first step without the flag waits for the whole baseline.
   */
  overlapsBaseline?: boolean;
  /** Tool-specific inputs, all serializable. */
  inputs: Record<string, unknown>;
}

/**
 * What the search step uses: how many tokens of code the model may be shown, counted with the
 * model's tokenizer. `engine` says which searcher the host offers (informative).
 */
export type SearchInputs = {
  budgetTokens: number;
  model: string;
  engine: 'rg' | 'git-grep';
};

/** Everything the codegen step uses, so `--plan-only --json` shows what the model will be asked with. */
export type CodegenInputs = {
  /** How candidates are produced: a name from the table in src/generate/strategies/. */
  strategy: string;
  /** What the model is asked to write: a name from the table in src/generate/formats/. */
  format: string;
  model: string;
  /** Where the model is reached (the llm port is built from it; shown here, not read by the step). */
  apiUrl: string;
  temperature: number;
  maxTokens: number;
  /** Model calls one attempt may make: the reply and the re-asks of a malformed one. */
  callsPerAttempt: number;
  /** The task's budgets, over all its model calls (retries and repair rounds included). */
  maxTotalTokens: number;
  maxCostUsd: number | null;
  /** USD per 1000 tokens; null when unknown (cost is then not reported, and not budgeted). */
  promptPricePer1k: number | null;
  completionPricePer1k: number | null;
  /**
   * The `candidates` strategy: one entry per candidate asked for in a round, in order (the model,
   * the edit format that model writes best, the temperature of the spread). Absent for `single`.
   */
  candidates?: CandidateSpec[];
  /** The agent strategy's limits and how its commands run; present when `strategy` is `agent`. */
  agent?: AgentInputs;
};

/**
 * What the reproduce step uses besides the test step's sandbox inputs (command format, toolchain,
 * caches, env, binds), which its plan step carries too: the step runs the test command on the base.
 */
export type ReproduceInputs = {
  /** `auto`: only when the task names no test failing on the base; `always`: whatever it names. */
  mode: 'auto' | 'always';
  /** The reproduction test is committed with the change (generate.keep_reproduction). */
  keep: boolean;
  /** Model calls for a reproduction, each run on the base (generate.reproduce_tries). */
  tries: number;
} & Pick<
  CodegenInputs,
  'model' | 'temperature' | 'maxTokens' | 'maxTotalTokens' | 'maxCostUsd' | 'promptPricePer1k' | 'completionPricePer1k'
>;

/** One candidate of a round: who is asked, in which format, at which temperature. */
export interface CandidateSpec {
  model: string;
  format: string;
  temperature: number;
}

/** What the select step uses: how the candidates are verified and what happens when none meets the bar. */
export interface SelectInputs {
  /** Candidates verified at once, each in its own copy of the workspace and its own sandbox. */
  parallel: number;
  /** Failed candidates a repair round goes to (the best ones). */
  repairCandidates: number;
  /** No candidate meets the bar: a draft PR labelled `label` with the best one, or no PR. */
  onNoWinner: 'draft' | 'none';
  label: string;
}

/** What the agent strategy may do, and how its `run` tool runs commands (like the test step: offline, in the sandbox). */
export interface AgentInputs {
  maxTurns: number;
  maxWallSecs: number;
  commandTimeoutSecs: number;
  /** Characters of one tool result the model is shown. */
  maxOutputChars: number;
  /** Estimated tokens of the conversation past which old tool results are elided. */
  contextTokens: number;
  stream: boolean;
  /** An endpoint without tool calls: run the single strategy instead, or fail the task. */
  onUnsupported: 'single' | 'fail';
  /** The toolchain's commands, told to the model. */
  commands: { build?: string[]; test?: string[]; lint?: string[] };
  /** The sandbox settings of the toolchain's test command (toolchain id, image, caches, env, binds). */
  sandbox: Record<string, unknown>;
}

export interface Plan {
  toolchain: ToolchainId | null;
  /** Why the toolchain was chosen (the file that told us), or why none was. */
  toolchainReason: string;
  base: string | null;
  branch: string;
  sandbox: SandboxKind;
  /** The repair loop starts again at this step; `budget` rounds at most. */
  repair: { from: string; budget: number } | null;
  steps: PlanStep[];
  notes: string[];
}

// What a step reads from its plan step: the plan carries every setting a step uses, so
// `--plan-only --json` shows exactly what the run will use.

export interface CloneInputs {
  /** The repository as the request names it (no credentials: the clone gets those apart). */
  source: string;
  /** The branch to clone; null for the repository's default branch. */
  base: string | null;
  depth: number;
}

export interface ApplyInputs {
  branch: string;
  /** Globs (policy.protected_paths) a patch may not touch. */
  protectedPaths: string[];
  allowSymlinks: boolean;
  /** The identity the change is committed with. */
  author: { name: string; email: string };
}

/** `pr` and `push`: the same step, which stops after the push when no pull request is planned. */
export interface PublishInputs {
  branch: string;
  base: string | null;
  /** `owner/name` of the GitHub repository the pull request goes to (`pr` only). */
  repository?: string;
  /** Labels every pull request gets; policy may add more. */
  labels?: string[];
  /** Opened as a draft whatever policy says (high risk). */
  draft?: boolean;
  /** `push` only: why no pull request is opened. */
  noPullRequest?: string;
  /**
   * A follow-up's push onto a pull request's existing branch: a fast-forward only, never forced, so
   * a commit someone else pushed there meanwhile is never overwritten.
   */
  fastForwardOnly?: boolean;
}

export type PolicyInputs = (
  { engine: 'opa'; url: string; package: string } | { engine: 'local'; risk: RiskTier; allowDependencySourceChange: boolean }
) & {
  /** `policy.guards`: what each test-integrity or scope finding leads to (both engines see it in the input). */
  guards: GuardsSetting;
};

export interface SecretsInputs {
  engine: 'gitleaks' | 'builtin';
}

export interface DepsCheckInputs {
  toolchain: ToolchainId;
}

/** A step's inputs as the type its tool reads (the planner builds them to these shapes). */
export function inputsOf<T>(step: PlanStep): T {
  return step.inputs as T;
}
