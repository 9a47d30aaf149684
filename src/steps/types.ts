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
import type { GuardFinding } from '../guards/index.js';
import type { Diagnostic, TestReport } from '../toolchains/types.js';
import type { TestVerdict } from '../toolchains/compare.js';

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
  /** Test only: every test of the base and the change with its verdict (fixed, regressed, flaky...). */
  verdicts?: TestVerdict[];
  /** Test only: tests whose result flipped when run again (verify.flaky_reruns); left out of `tests.failed`. */
  flaky?: string[];
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
  /** Part of the change (generate.keep_reproduction), or present only while the change is tested. */
  kept?: boolean;
  /** How its tests did in the change's last test run; absent until the change's tests ran. */
  head?: { passed: string[]; failed: string[]; notRun: string[] };
}

/** How one of a candidate's checks went in its own workspace: not run when an earlier one failed or none is planned. */
export type CandidateCheck = 'ok' | 'failed' | 'not run';

/**
 * A candidate change (the `candidates` strategy): who wrote it, how it fared in its own copy of the
 * workspace, and why it was chosen or dropped. The result's `candidates[]` is these, without the
 * patch and the feedback.
 */
export interface CandidateRecord {
  /** `c1`, `c2`, … in the order they were generated over the task. */
  id: string;
  /** The repair round that produced it (0: the first). */
  round: number;
  model: string;
  /** The format the model was asked for, and the one(s) it wrote (null when the reply was unusable). */
  requestedFormat: string;
  format: string | null;
  temperature: number;
  tokens: { prompt: number; completion: number };
  /** The candidate it repairs, in a repair round. */
  repairs: string | null;
  /** pending: not verified yet; malformed: the reply held no usable change. */
  status: 'pending' | 'chosen' | 'dropped' | 'malformed' | 'abstained';
  /** How the applier applied it (git-apply, fuzzy, search-replace…), null when it did not apply. */
  applyStrategy: string | null;
  apply: CandidateCheck;
  build: CandidateCheck;
  test: CandidateCheck;
  lint: CandidateCheck;
  /** Tests passing on the base that fail with it; null when its tests did not run. */
  newFailures: number | null;
  reproductionPasses: boolean | null;
  targetTestsPass: boolean | null;
  newLint: number | null;
  /** Every check passed and the reproduction test (if any) passes: it may be the change. */
  meetsBar: boolean;
  rank: number | null;
  votes: number;
  diffLines: number;
  /** Why it was chosen or dropped (one line). */
  why: string;
  /** The first failing check's summary, null when none failed. */
  failure: string | null;
  /** The first failing check's distilled failure, for a repair round (not in the result). */
  feedback: string | null;
  /** The candidate's edits as the model wrote them (not in the result). */
  generation: Generation;
  /** Picked for the next repair round. */
  repairNext?: boolean;
  /** Verified in its own workspace (in the round that produced it). */
  verified?: boolean;
  /** The change as git committed it in its workspace (not in the result). */
  diff?: string;
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
  /** Every candidate of the `candidates` strategy so far, all rounds; [] for `single`. */
  candidates: CandidateRecord[];
  /**
   * No candidate met the bar and generate.on_no_winner = "draft": the best goes to a draft pull
   * request labelled for a human, its failures shown rather than repaired; the task ends unproven.
   */
  abstain: { label: string; diagnosis: string } | null;
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
  /** Test-integrity and scope findings on the change (policy step; src/guards/); null before policy ran. */
  guards: GuardFinding[] | null;
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
    candidates: [],
    abstain: null,
    agent: null,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: null, calls: 0 },
    apply: null,
    change: null,
    baseline: {},
    verify: {},
    secrets: null,
    dependencies: null,
    guards: null,
    policy: null,
    pushed: null,
    pr: null,
    notes: [],
  };
}
