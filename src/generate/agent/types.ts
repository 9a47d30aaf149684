// The agent strategy's contract with the step that runs it: a workspace the model's tool calls act
// on (a scratch copy of the base, confined and sandboxed by the step), the conversation kept across
// repair rounds, and the trajectory each call leaves for the audit trail.
import type { ToolChatMessage } from '../../ports/types.js';

/** A tool call the workspace will not carry out (a path outside it, under .git, a symlink out): the model is told why. */
export class ToolRefused extends Error {
  override name = 'ToolRefused';
}

/** A command's outcome in the sandbox, its output already capped. */
export interface RunOutcome {
  exitCode: number | null;
  timedOut: boolean;
  /** stdout then stderr, head and tail kept when long. */
  output: string;
}

/**
 * What the model's tools do, implemented by the codegen step over a scratch copy of the base
 * (outside the task's repository): paths are relative to its root and every one is checked there.
 * Methods throw ToolRefused for what may not be done; other errors are reported to the model as failures.
 */
export interface AgentWorkspace {
  /** Files under `dir` ('' or '.': the root), tracked and new, ignored ones left out, sorted. */
  listFiles(dir: string): Promise<string[]>;
  /** The text of a file. */
  readFile(path: string): Promise<string>;
  /** Lines matching `pattern` (a regular expression, as ripgrep reads it), as `path:line: text`. */
  search(pattern: string, path: string | null): Promise<string[]>;
  /** A shell command in the sandbox, at the root (no network, the scrubbed environment). */
  run(command: string, timeoutSecs: number, maxChars: number): Promise<RunOutcome>;
  /** Replaces the one occurrence of `oldText` with `newText`; `oldText` null creates the file (which must not exist). */
  edit(path: string, oldText: string | null, newText: string): Promise<string>;
  /** Everything changed since the base, as a git diff (new files included); empty when nothing is. */
  diff(): Promise<string>;
}

/** One tool call as the audit trail keeps it: arguments and result redacted and capped. */
export interface TrajectoryEntry {
  round: number;
  turn: number;
  tool: string;
  arguments: string;
  result: string;
  /** False for a refused, malformed or failed call (a non-zero exit of `run` is a result, not a failure). */
  ok: boolean;
}

/** The conversation and its counters, kept in the task state so a repair round continues it. */
export interface AgentState {
  messages: ToolChatMessage[];
  /** Model calls made, over all rounds. */
  turns: number;
  /** Tool calls made, by tool name. */
  toolCalls: Record<string, number>;
  /** Milliseconds spent in the conversation, over all rounds (wall time, for agent.max_wall_secs). */
  elapsedMs: number;
  /** How many times each exact call (tool and arguments) was made; the third is pointed out, a fourth stops. */
  repeats: Record<string, number>;
  /** Why the last round ended without a submission, if it did. */
  stopReason: string | null;
  /** Set when the endpoint had no tool calls and the single strategy ran instead. */
  fellBack: string | null;
}

export function newAgentState(): AgentState {
  return { messages: [], turns: 0, toolCalls: {}, elapsedMs: 0, repeats: {}, stopReason: null, fellBack: null };
}

/** What the codegen step gives the agent strategy besides the common input. */
export interface AgentSession {
  workspace: AgentWorkspace;
  state: AgentState;
  /** Hears of every model call and tool call (the step turns them into events for the audit trail and metrics). */
  onTurn(turn: number): void;
  onToolCall(entry: TrajectoryEntry): void;
  /** The commands the toolchain runs, told to the model so it knows how to build and test. */
  commands: { build?: string[]; test?: string[]; lint?: string[] };
  /** The repair round (0 for the first). */
  round: number;
}
