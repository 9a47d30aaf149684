// What the steps share: the ports they reach the world through, and the task's blackboard.
import type { StepContext, Tool } from '../engine/types.js';
import type { Usage } from '../generate/types.js';
import type { Exec, Forge, Git, Llm, Opa, PullRequestInfo, Sandbox, Searcher } from '../ports/types.js';
import type { ContextSelection } from '../context/index.js';
import type { Generation } from '../generate/types.js';
import type { AgentState } from '../generate/agent/types.js';
import type { PatchApplyResult } from '../patch/apply-dir.js';
import type { DependencyReport } from '../depcheck/types.js';
import type { Finding } from '../secrets/types.js';
import type { Diagnostic, TestReport } from '../toolchains/types.js';

export interface Credentials {
  /** The LLM API key (from the variable config names); never logged, never in the sandbox. */
  llmApiKey: string | null;
  githubToken: string | null;
  /** The repository URL with the credentials the user gave, for the clone only (the request holds none). */
  cloneUrl?: string;
}

export interface StepPorts {
  credentials: Credentials;
  exec: Exec;
  git: Git;
  sandbox: Sandbox;
  searcher: Searcher;
  /** Created on first use, so runs that never reach codegen never load the SDK. */
  llm: () => Promise<Llm>;
  forge: () => Promise<Forge>;
  opa: (() => Promise<Opa>) | null;
  /** Where caches shared across tasks live ($XDG_CACHE_HOME/autodev). */
  cacheDir: string;
  /** The task's workspace directory (the clone is in `state.repoDir`). */
  workspaceDir: string;
}

export interface VerifyOutcome {
  ok: boolean;
  exitCode: number | null;
  summary: string;
  /** Diagnostics (build/lint; test compile errors), as the toolchain parsers report them. */
  diagnostics: Diagnostic[];
  tests: TestReport | null;
  /** Set when the tool itself could not run (e.g. clippy denied on the base). */
  couldNotRun?: string;
  /** Build only: it fails, but exactly as on the base (the change added no error). */
  failsOnBaseToo?: boolean;
  /** Lint only: diagnostics the change adds over the baseline. */
  added?: number;
  /** The end of the output when nothing could be parsed from it. */
  rawTail?: string;
  /** Test only: what shows the change does the task, and the tests that stopped running. */
  evidence?: TestEvidence;
  durationMs: number;
}

export interface TestEvidence {
  /** Failed on the base, ran and passed with the change. */
  fixed: string[];
  /** Tests the change adds or modifies: they fail on the base (with the change's test code) and pass with the change. */
  failOnBase: string[];
  /** Ran on the base and no longer run with the change (deleted, renamed away, ignored, skipped). */
  gone: string[];
}

export interface PolicyOutcome {
  engine: 'local' | 'opa';
  decision: 'allow' | 'review' | 'deny';
  reasons: { code: string; message: string }[];
  draft: boolean;
  labels: string[];
}

/**
 * A test the model wrote before the fix that fails on the base for the reported reason: the change
 * must make it pass (and candidates are ranked by it).
 */
export interface Reproduction {
  /** Repository-relative path of the test file. */
  file: string;
  /** The test's content, as written on the base. */
  content: string;
  /** The test names it adds, as the toolchain's test parser reports them. */
  tests: string[];
  /** How it failed on the base (one line). */
  baseFailure: string;
}

export interface TaskState {
  repoDir: string;
  baseBranch: string | null;
  baseCommit: string | null;
  context: ContextSelection | null;
  generation: Generation | null;
  generations: number;
  /** The reproduction test kept for this task (generate.reproduce); null when there is none. */
  reproduction: Reproduction | null;
  /** The agent strategy's conversation and counters, kept across repair rounds; null when it did not run. */
  agent: AgentState | null;
  usage: Usage;
  apply: PatchApplyResult | null;
  change: { branch: string; commit: string; diff: string; files: string[] } | null;
  baseline: Partial<Record<'build' | 'test' | 'lint', VerifyOutcome>>;
  verify: Partial<Record<'build' | 'test' | 'lint', VerifyOutcome>>;
  secrets: { engine: 'gitleaks' | 'builtin'; findings: Finding[]; warnings: string[] } | null;
  /** What the change does to the dependencies (deps-check); null when not compared. */
  dependencies: DependencyReport | null;
  policy: PolicyOutcome | null;
  pushed: { remote: string; branch: string } | null;
  pr: PullRequestInfo | null;
  notes: string[];
}

export type Ctx = StepContext<StepPorts, TaskState>;
export type StepTool = Tool<StepPorts, TaskState>;

export function initialState(repoDir: string): TaskState {
  return {
    repoDir,
    baseBranch: null,
    baseCommit: null,
    context: null,
    generation: null,
    generations: 0,
    reproduction: null,
    agent: null,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: null, calls: 0 },
    apply: null,
    change: null,
    baseline: {},
    verify: {},
    secrets: null,
    dependencies: null,
    policy: null,
    pushed: null,
    pr: null,
    notes: [],
  };
}
