// Every side effect the steps need, as small interfaces. Real implementations live beside this
// file (one module per library); tests of a single step may pass fakes.

import type { SandboxKind } from '../plan/types.js';
import { ExternalError } from '../util/errors.js';

// ---------- processes ----------
export interface ExecOptions {
  cwd?: string;
  /** The complete environment of the child (nothing is inherited unless given here). */
  env?: Record<string, string>;
  /** Inherit process.env and overlay `env` (only for trusted tools such as git, never project code). */
  inheritEnv?: boolean;
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes kept of stdout and of stderr each; the rest is dropped and `truncated` set. */
  maxOutputBytes?: number;
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** A finished command is data; the wrapper never throws for a non-zero exit. */
export interface ExecResult {
  command: string[];
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
  truncated: boolean;
  durationMs: number;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
}

export interface Exec {
  run(command: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Absolute path of a program on PATH, or null. */
  which(program: string): Promise<string | null>;
}

// ---------- sandbox ----------
export interface Mount {
  host: string;
  target: string;
  writable: boolean;
}

/** The host installations a sandbox that binds host directories (bwrap) shows, as the toolchains describe them. */
export interface ToolchainBinds {
  /** Programs whose PATH directory and installation root are bound when the command's PATH finds them. */
  programs: string[];
  /**
   * Programs that resolve to a multiplexing proxy (rustup behind cargo): only the PATH directory is
   * bound, never the proxy's installation root, which may hold the host's registry and credentials.
   */
  proxies: string[];
  /** Parts of a home named by an environment variable of the command (RUSTUP_HOME's toolchains and settings). */
  homes: { env: string; parts: string[] }[];
}

export interface SandboxSpec {
  /** Host directory of the repository checkout; writable inside the sandbox. */
  workspace: string;
  /** Working directory inside the sandbox (default: the workspace's target). */
  cwd?: string;
  command: string[];
  /** The scrubbed environment the command sees (PATH, HOME, CARGO_HOME, ...). No secrets. */
  env: Record<string, string>;
  network: boolean;
  mounts?: Mount[];
  /** What a sandbox that binds host directories must show for the toolchains to run. */
  toolchains?: ToolchainBinds;
  timeoutMs: number;
  signal?: AbortSignal;
  maxOutputBytes?: number;
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface Sandbox {
  kind: SandboxKind;
  /** The argv that would run `spec` (data, so it can be shown and tested). */
  argv(spec: SandboxSpec): string[];
  run(spec: SandboxSpec): Promise<ExecResult>;
  /** Null when usable; otherwise one line saying what is missing and what to do. */
  check(): Promise<string | null>;
}

// ---------- git ----------
export interface CloneOptions {
  /** URL or local path. */
  source: string;
  dest: string;
  branch?: string | null;
  depth?: number;
  /** Given to git through the environment (never argv, never the stored remote URL). */
  token?: string | null;
  signal?: AbortSignal;
}

/** How a clone used the repository's local mirror: made it, fetched into it, or replaced a broken or foreign one. */
export type MirrorUse = 'created' | 'updated' | 'rebuilt';

export interface Cloned {
  branch: string;
  commit: string;
  /** Set when the clone came out of the local mirror (git.clone_cache). */
  mirror?: MirrorUse;
}

export interface GitIdentity {
  name: string;
  email: string;
}

export interface ApplyCheck {
  ok: boolean;
  error: string;
}

export interface Git {
  clone(options: CloneOptions): Promise<Cloned>;
  /** The remote's default branch (HEAD symref) without cloning. */
  defaultBranch(source: string, token?: string | null): Promise<string>;
  headCommit(dir: string): Promise<string>;
  /** Discard every change in the working tree and index (back to HEAD, or to `commit`). */
  resetHard(dir: string, commit?: string): Promise<void>;
  /** `git apply` (optionally --check; with `index`, to the index too, ready to commit) of a patch text. */
  apply(dir: string, patch: string, options?: { check?: boolean; index?: boolean }): Promise<ApplyCheck>;
  diff(dir: string, options?: { cached?: boolean; base?: string }): Promise<string>;
  changedFiles(dir: string, base?: string): Promise<string[]>;
  createBranch(dir: string, branch: string): Promise<void>;
  commitAll(dir: string, message: string, identity: GitIdentity): Promise<string>;
  /**
   * `branch` created (or reset) at `base` and checked out, the work tree and index forced to it; with
   * `clean`, untracked files go too (ignored ones stay). One process (two with `clean`).
   */
  startBranch(dir: string, branch: string, base: string, options?: { clean?: boolean }): Promise<void>;
  /**
   * Commits the index (after `add` of `paths`, for changes written outside git) as `identity`, and
   * returns the commit and its diff against its parent: two processes (three with `paths`).
   */
  commitIndex(dir: string, message: string, identity: GitIdentity, paths?: string[]): Promise<{ commit: string; diff: string }>;
  /** Push `branch` to the clone's origin (force-with-lease on the same name for re-runs). */
  push(dir: string, branch: string, options?: { token?: string | null; force?: boolean; signal?: AbortSignal }): Promise<void>;
  /** Delete `branch` on the clone's origin (undoing a push whose pull request could not be opened). */
  deleteRemoteBranch(dir: string, branch: string, options?: { token?: string | null; signal?: AbortSignal }): Promise<void>;
  remoteUrl(dir: string): Promise<string | null>;
  /** File paths tracked at HEAD (or at `rev`). */
  listFiles(dir: string, rev?: string): Promise<string[]>;
  /** A file's content at a revision (`git show <rev>:<path>`). */
  showFile(dir: string, rev: string, file: string): Promise<string>;
  /** Recent commits' changed files, for co-change ranking (empty on a shallow clone). */
  history(dir: string, maxCommits: number): Promise<string[][]>;
}

// ---------- LLM ----------
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  model: string;
  temperature: number;
  maxTokens: number;
  /** Replies asked for in one request (OpenAI's `n`); servers that ignore it answer one. */
  n?: number;
  signal?: AbortSignal;
}

export interface ChatReply {
  content: string;
  /** Every reply's content when `n` > 1 was asked for (the first is `content`); as many as the server gave. */
  choices?: string[];
  promptTokens: number;
  completionTokens: number;
}

/** Thrown by the LLM/forge/OPA ports for failures worth retrying (network, 429, 5xx). */
/**
 * GitHub refused a request (401, 403, 404, 422…): the outside world failing the task, exit 1.
 * `pullRequest` is the one opened (or updated) before the refusal, if any. Declared here, not beside
 * octokit, so the pr step can recognise it without loading the SDK.
 */
export class ForgeError extends ExternalError {
  constructor(
    message: string,
    readonly pullRequest: PullRequestInfo | null = null,
  ) {
    super(message);
  }
}

export class TransientError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

/** One tool call the model asked for: `arguments` is the JSON text it wrote (parsed by the caller). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A message of a tool-calling conversation, in the port's own shape (the port maps it to the wire). */
export type ToolChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** A function the model may call: its JSON Schema parameters as the API takes them. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ToolChatRequest {
  messages: ToolChatMessage[];
  tools: ToolSpec[];
  model: string;
  temperature: number;
  maxTokens: number;
  /** Streamed (server-sent events, tool-call argument deltas assembled) or one JSON reply. */
  stream: boolean;
  signal?: AbortSignal;
}

export interface ToolChatReply {
  /** Text the model wrote beside (or instead of) tool calls. */
  content: string;
  toolCalls: ToolCall[];
  promptTokens: number;
  completionTokens: number;
}

/**
 * The endpoint refused a request for its tools (a 400/404/422 naming `tools` or `tool_choice`): it
 * or its model does not do tool calls. Not retried; the agent strategy falls back or fails on it.
 */
export class ToolsUnsupportedError extends Error {
  override name = 'ToolsUnsupportedError';
}

export interface Llm {
  chat(request: ChatRequest): Promise<ChatReply>;
  /** A chat completion with tools (the agent strategy); absent on ports that cannot make one. */
  chatWithTools?(request: ToolChatRequest): Promise<ToolChatReply>;
}

// ---------- forge ----------
export interface PullRequestSpec {
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  labels: string[];
}

export interface PullRequestInfo {
  number: number;
  url: string;
  draft: boolean;
  state: 'open' | 'closed' | 'merged';
  updated: boolean;
}

export interface Forge {
  /** Opens a PR, or updates the open one for the same head branch. */
  upsertPullRequest(spec: PullRequestSpec): Promise<PullRequestInfo>;
  getPullRequest(owner: string, repo: string, number: number): Promise<PullRequestInfo & { mergeCommit: string | null }>;
  getIssue(owner: string, repo: string, number: number): Promise<{ title: string; body: string }>;
}

/** A pull request as a follow-up reads it (`review`, `ci-fix`, webhooks). */
export interface PullRequestDetails {
  number: number;
  url: string;
  state: 'open' | 'closed' | 'merged';
  title: string;
  body: string;
  headRef: string;
  headSha: string;
  /** `owner/name` the head branch lives in (a fork's differs from the base repository). */
  headRepo: string | null;
  baseRef: string;
}

export interface ReviewThread {
  /** The GraphQL node id. */
  id: string;
  resolved: boolean;
  outdated: boolean;
  path: string | null;
  line: number | null;
  /** Oldest first; `id` is the REST id a reply goes to. */
  comments: { id: number; author: string | null; body: string }[];
}

export interface Review {
  id: number;
  author: string | null;
  state: string;
  body: string;
}

export interface CheckRun {
  id: number;
  name: string;
  status: string;
  /** success, failure, neutral, cancelled, skipped, timed_out, action_required, stale; null while running. */
  conclusion: string | null;
  /** The app that ran it (`github-actions` has job logs at actions/jobs/{id}/logs). */
  app: string | null;
  summary: string;
  text: string;
}

/** What follow-ups on an opened pull request need of the forge (GitHub: REST, and GraphQL for threads). */
export interface FollowupForge {
  getPullRequestDetails(owner: string, repo: string, number: number): Promise<PullRequestDetails>;
  /** Every review thread with its comments (GraphQL: REST cannot tell whether a thread is resolved). */
  listReviewThreads(owner: string, repo: string, number: number): Promise<ReviewThread[]>;
  listReviews(owner: string, repo: string, number: number): Promise<Review[]>;
  replyToReviewComment(owner: string, repo: string, number: number, commentId: number, body: string): Promise<void>;
  addIssueComment(owner: string, repo: string, number: number, body: string): Promise<void>;
  requestReviewers(owner: string, repo: string, number: number, reviewers: string[]): Promise<void>;
  /** The check runs of a commit, or of a branch's head commit. */
  listCheckRuns(owner: string, repo: string, ref: string): Promise<CheckRun[]>;
  /** A GitHub Actions job's log (the API redirects to a download URL); null when there is none. */
  getJobLog(owner: string, repo: string, jobId: number): Promise<string | null>;
  /** The parents of a commit, first parent first. */
  getCommitParents(owner: string, repo: string, sha: string): Promise<string[]>;
}

// ---------- policy ----------
export interface OpaDecision {
  allow: boolean;
  reasons: { code: string; message: string }[];
  review: boolean;
}

export interface Opa {
  evaluate(input: unknown, signal?: AbortSignal): Promise<OpaDecision>;
}

// ---------- search ----------
export interface SearchHit {
  path: string;
  line: number;
  text: string;
  term: string;
}

export interface Searcher {
  /** Which engine answered: ripgrep, or git grep when rg is missing. */
  readonly engine: 'rg' | 'git-grep';
  search(dir: string, terms: string[], options?: { maxHitsPerTerm?: number; signal?: AbortSignal }): Promise<SearchHit[]>;
}
