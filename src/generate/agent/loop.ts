// The agent's conversation: the model calls tools on the workspace until it submits, within limits
// checked before every call (turns, the task's token and cost budget, wall time), with the same call
// repeated on an unchanged workspace pointed out and then stopped, and old tool results elided once
// the conversation outgrows its context budget. The submitted change is the workspace's diff; what
// the model says about it is kept as its rationale only.
import { ToolsUnsupportedError, type ToolCall, type ToolChatMessage, type ToolChatReply } from '../../ports/types.js';
import { redact } from '../../util/redact.js';
import { promptBound, type BudgetMeter } from '../budget.js';
import type { AgentInputs } from '../../plan/types.js';
import type { Generation, StrategyInput } from '../types.js';
import { agentRepairPrompt, agentSystemPrompt, agentTaskPrompt } from './prompt.js';
import { AGENT_TOOLS, BadArguments, parseArguments, runTool } from './tools.js';
import type { AgentSession, AgentState } from './types.js';

export type AgentOutcome =
  | { kind: 'submitted'; generation: Generation }
  /** A limit or the budget ended the conversation; `budget` marks a spent budget or limit. */
  | { kind: 'stopped'; reason: string; budget: boolean }
  /** The endpoint does not do tool calls. */
  | { kind: 'unsupported'; reason: string };

/** Characters of a call's arguments and result the trajectory keeps. */
const TRAJECTORY_CHARS = 2000;
/** The newest messages are never elided: the model is working with them. */
const KEEP_RECENT = 6;
/** An exact call repeated on an unchanged workspace this many times is pointed out; once more stops the loop. */
const REPEAT_WARN = 3;

const ELIDED = (tool: string) =>
  `[elided to keep the conversation within its context budget: an earlier ${tool} result; call again if you need it]`;

export async function runAgent(input: StrategyInput, session: AgentSession, limits: AgentInputs): Promise<AgentOutcome> {
  const { state } = session;
  const started = Date.now();
  try {
    return await converse(input, session, limits, state, started);
  } finally {
    state.elapsedMs += Date.now() - started;
  }
}

async function converse(
  input: StrategyInput,
  session: AgentSession,
  limits: AgentInputs,
  state: AgentState,
  started: number,
): Promise<AgentOutcome> {
  const { settings, budget } = input;
  const chat = input.llm.chatWithTools;
  if (!chat) return { kind: 'unsupported', reason: 'the LLM port has no tool-call support' };
  openConversation(input, session, state);
  state.stopReason = null;
  for (;;) {
    const limit = limitReached(state, limits, started, budget);
    if (limit) return stop(state, limit);
    elide(state.messages, limits.contextTokens);
    const admitted = budget.admit(boundedText(state.messages), settings.maxTokens);
    if (!admitted.ok) return stop(state, admitted.reason);
    let reply: ToolChatReply;
    try {
      reply = await chat({
        messages: state.messages,
        tools: AGENT_TOOLS,
        model: settings.model,
        temperature: settings.temperature,
        maxTokens: admitted.maxTokens,
        stream: limits.stream,
        signal: input.signal,
      });
    } catch (error) {
      if (error instanceof ToolsUnsupportedError) return { kind: 'unsupported', reason: error.message };
      throw error;
    }
    budget.record(reply.promptTokens, reply.completionTokens);
    state.turns += 1;
    session.onTurn(state.turns);
    state.messages.push({ role: 'assistant', content: reply.content || null, toolCalls: reply.toolCalls });
    if (reply.toolCalls.length === 0) {
      // A model that never calls a tool, from its first reply on, is served by an endpoint that
      // ignored the tools (some accept and drop them): the same as one that refuses them.
      if (Object.keys(state.toolCalls).length === 0) {
        state.messages.pop();
        state.turns -= 1;
        return {
          kind: 'unsupported',
          reason: `the model answered the first call with text only, no tool call ("${short(reply.content, 80)}")`,
        };
      }
      state.messages.push({
        role: 'user',
        content: 'Work through the tools: call edit to change files, and submit when the change is done.',
      });
      continue;
    }
    const outcome = await handleCalls(input, session, limits, state, reply.toolCalls);
    if (outcome) return outcome;
  }
}

/** The first round's system and task messages, or a repair round's feedback on the kept conversation. */
function openConversation(input: StrategyInput, session: AgentSession, state: AgentState): void {
  if (state.messages.length === 0) {
    state.messages.push({ role: 'system', content: agentSystemPrompt() });
    state.messages.push({
      role: 'user',
      content: agentTaskPrompt({ task: input.task, context: input.context, baseline: input.baseline, commands: session.commands }),
    });
    return;
  }
  answerOpenCalls(state.messages, 'not run: the step was interrupted before this call');
  if (input.repair) state.messages.push({ role: 'user', content: agentRepairPrompt(input.repair.feedback) });
}

/** Every call of the last assistant message answered, so the conversation is valid to continue. */
function answerOpenCalls(messages: ToolChatMessage[], text: string): void {
  const lastAssistant = messages.findLastIndex((m) => m.role === 'assistant');
  if (lastAssistant < 0) return;
  const message = messages[lastAssistant];
  if (message.role !== 'assistant') return;
  const answered = new Set(messages.slice(lastAssistant + 1).flatMap((m) => (m.role === 'tool' ? [m.toolCallId] : [])));
  for (const call of message.toolCalls) if (!answered.has(call.id)) messages.push({ role: 'tool', toolCallId: call.id, content: text });
}

async function handleCalls(
  input: StrategyInput,
  session: AgentSession,
  limits: AgentInputs,
  state: AgentState,
  calls: ToolCall[],
): Promise<AgentOutcome | null> {
  for (const call of calls) {
    state.toolCalls[call.name] = (state.toolCalls[call.name] ?? 0) + 1;
    const key = `${call.name} ${canonical(call.arguments)}`;
    const seen = (state.repeats[key] = (state.repeats[key] ?? 0) + 1);
    let result: { text: string; ok: boolean };
    let submitted: Generation | null = null;
    if (seen > REPEAT_WARN) {
      const reason = `the model made the same call ${seen} times on an unchanged workspace (${call.name} ${short(call.arguments, 120)})`;
      record(session, state, call, { text: `stopped: ${reason}`, ok: false });
      answerOpenCalls(state.messages, 'not run: the conversation was stopped');
      return stop(state, `agent stopped: ${reason}`, false);
    } else if (seen === REPEAT_WARN) {
      result = {
        text: `You have made this exact call ${seen} times and nothing changed in between: its result is the same. Do something else (or submit); the same call again stops the conversation.`,
        ok: false,
      };
    } else if (call.name === 'submit') {
      const submission = await submit(session, call.arguments);
      result = submission.result;
      submitted = submission.generation;
    } else {
      let args: Record<string, unknown>;
      try {
        args = parseArguments(call.arguments);
        result = await runTool(session.workspace, call.name, args, limits);
      } catch (error) {
        if (!(error instanceof BadArguments)) throw error;
        result = { text: `bad arguments for ${call.name}: ${error.message}`, ok: false };
      }
      // An edit changes what every call would now see: repeats count afresh.
      if (call.name === 'edit' && result.ok) state.repeats = {};
    }
    record(session, state, call, result);
    if (submitted) {
      answerOpenCalls(state.messages, 'not run: the change was submitted before this call');
      // A later round starts from a fresh count: the workspace is the same, but the feedback is new.
      state.repeats = {};
      return { kind: 'submitted', generation: submitted };
    }
  }
  return null;
}

async function submit(
  session: AgentSession,
  argumentText: string,
): Promise<{ result: { text: string; ok: boolean }; generation: Generation | null }> {
  let args: Record<string, unknown>;
  try {
    args = parseArguments(argumentText);
  } catch (error) {
    return { result: { text: `bad arguments for submit: ${(error as Error).message}`, ok: false }, generation: null };
  }
  const rationale = typeof args.rationale === 'string' ? args.rationale.trim() : '';
  const commitMessage = typeof args.commit_message === 'string' ? args.commit_message.trim() : '';
  if (!commitMessage) return { result: { text: 'bad arguments for submit: "commit_message" is required', ok: false }, generation: null };
  const patch = await session.workspace.diff();
  if (!patch.trim()) {
    return { result: { text: 'nothing to submit: the workspace has no change yet (edit files first)', ok: false }, generation: null };
  }
  return {
    result: { text: 'submitted: autodev now applies, builds, tests and lints the change; any failure comes back here', ok: true },
    generation: { rationale: rationale || commitMessage, commitMessage, patch, format: 'udiff' },
  };
}

function record(session: AgentSession, state: AgentState, call: ToolCall, result: { text: string; ok: boolean }): void {
  const text = redact(result.text);
  state.messages.push({ role: 'tool', toolCallId: call.id, content: text });
  session.onToolCall({
    round: session.round,
    turn: state.turns,
    tool: call.name,
    arguments: short(redact(call.arguments), TRAJECTORY_CHARS),
    result: short(text, TRAJECTORY_CHARS),
    ok: result.ok,
  });
}

function limitReached(state: AgentState, limits: AgentInputs, started: number, budget: BudgetMeter): string | null {
  if (state.turns >= limits.maxTurns) return `agent stopped: ${state.turns} model calls made, agent.max_turns = ${limits.maxTurns}`;
  const elapsed = state.elapsedMs + (Date.now() - started);
  if (elapsed >= limits.maxWallSecs * 1000) {
    return `agent stopped: ${Math.round(elapsed / 1000)}s spent, agent.max_wall_secs = ${limits.maxWallSecs}`;
  }
  return budget.exhausted();
}

function stop(state: AgentState, reason: string, budget = true): AgentOutcome {
  state.stopReason = reason;
  return { kind: 'stopped', reason, budget };
}

/** What the budget bounds a call by: every message's text and the tools' definitions. */
function boundedText(messages: ToolChatMessage[]): { content: string }[] {
  return [{ content: JSON.stringify(AGENT_TOOLS) }, ...messages.map((m) => ({ content: messageText(m) }))];
}

function messageText(message: ToolChatMessage): string {
  if (message.role === 'assistant') return (message.content ?? '') + message.toolCalls.map((c) => `${c.name}(${c.arguments})`).join('\n');
  return message.content;
}

/**
 * The oldest tool results replaced by a note while the conversation's estimate is over `budget`
 * tokens; the system prompt, the task and the newest messages stay whole.
 */
export function elide(messages: ToolChatMessage[], budget: number): number {
  let elided = 0;
  const toolOf = new Map<string, string>();
  for (const m of messages) if (m.role === 'assistant') for (const c of m.toolCalls) toolOf.set(c.id, c.name);
  for (let k = 0; k < messages.length - KEEP_RECENT && promptBound(boundedText(messages)) > budget; k++) {
    const m = messages[k];
    if (m.role !== 'tool' || m.content.startsWith('[elided')) continue;
    messages[k] = { ...m, content: ELIDED(toolOf.get(m.toolCallId) ?? 'tool') };
    elided++;
  }
  return elided;
}

function canonical(argumentText: string): string {
  try {
    const value = JSON.parse(argumentText) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))));
    }
  } catch {
    // Not JSON: compared as written.
  }
  return argumentText.trim();
}

function short(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
