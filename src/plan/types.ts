// The plan is plain data: what `run` will do, in order. `--plan-only` prints it; the engine walks it.

export type ToolName =
  | 'clone'
  | 'deps'
  | 'search'
  | 'codegen'
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
  /** Tool-specific inputs, all serializable. */
  inputs: Record<string, unknown>;
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
