// The agent strategy's loop against a scripted tool-calling model and an in-memory workspace: limits
// checked before each call (turns, wall time, budget), malformed and unknown calls told to the model,
// long files paged, a submission with no change refused, the conversation kept and continued by a
// repair round, and old tool results elided once it outgrows its context budget.
import { describe, expect, it } from '@jest/globals';
import { elide } from '../../../src/generate/agent/loop.js';
import {
  newAgentState,
  ToolRefused,
  type AgentSession,
  type AgentWorkspace,
  type TrajectoryEntry,
} from '../../../src/generate/agent/types.js';
import { budgetMeter, promptBound } from '../../../src/generate/budget.js';
import { editFormat } from '../../../src/generate/formats/index.js';
import { strategyNamed } from '../../../src/generate/strategies/index.js';
import type { StrategyInput, Usage } from '../../../src/generate/types.js';
import type { AgentInputs, CodegenInputs } from '../../../src/plan/types.js';
import type { ChatReply, Llm, ToolCall, ToolChatMessage, ToolChatReply, ToolChatRequest } from '../../../src/ports/types.js';

const LIMITS: AgentInputs = {
  maxTurns: 10,
  maxWallSecs: 600,
  commandTimeoutSecs: 30,
  maxOutputChars: 4000,
  contextTokens: 100_000,
  stream: true,
  onUnsupported: 'fail',
  commands: { test: ['npm', 'test'] },
  sandbox: {},
};

function settings(agent: Partial<AgentInputs> = {}, budget: Partial<CodegenInputs> = {}): CodegenInputs {
  return {
    strategy: 'agent',
    format: 'udiff',
    model: 'test-model',
    apiUrl: 'http://127.0.0.1:1/v1',
    temperature: 0,
    maxTokens: 1000,
    callsPerAttempt: 3,
    maxTotalTokens: 1_000_000,
    maxCostUsd: null,
    promptPricePer1k: null,
    completionPricePer1k: null,
    agent: { ...LIMITS, ...agent },
    ...budget,
  };
}

/** Files in memory; `diff` is a marker of what changed (the real one is git's). */
function memoryWorkspace(files: Record<string, string>): AgentWorkspace & { files: Record<string, string> } {
  const original = { ...files };
  return {
    files,
    async listFiles() {
      return Object.keys(files).sort();
    },
    async readFile(p) {
      if (p.startsWith('..')) throw new ToolRefused(`${p}: path escapes the repository through ..`);
      if (!(p in files)) throw new Error(`${p} does not exist`);
      return files[p];
    },
    async search(pattern) {
      return Object.entries(files).flatMap(([p, t]) => (t.includes(pattern) ? [`${p}:1: ${pattern}`] : []));
    },
    async run(command) {
      return { exitCode: 0, timedOut: false, output: `ran ${command}` };
    },
    async edit(p, oldText, newText) {
      if (oldText === null) files[p] = newText;
      else files[p] = files[p].replace(oldText, newText);
      return `edited ${p}`;
    },
    async diff() {
      const changed = Object.keys(files).filter((p) => files[p] !== original[p]);
      return changed.map((p) => `--- a/${p}\n+++ b/${p}\n@@ -1 +1 @@\n-${original[p] ?? ''}\n+${files[p]}\n`).join('');
    },
  };
}

type Turn = { calls: { name: string; arguments: unknown }[]; content?: string } | { content: string };

function scripted(turns: Turn[], tokens = 100): Llm & { requests: ToolChatRequest[] } {
  const requests: ToolChatRequest[] = [];
  let seq = 0;
  return {
    requests,
    async chat(): Promise<ChatReply> {
      return { content: 'single reply', promptTokens: 1, completionTokens: 1 };
    },
    async chatWithTools(request): Promise<ToolChatReply> {
      requests.push(structuredClone({ ...request, signal: undefined }));
      const turn = turns.shift() ?? { calls: [{ name: 'list_files', arguments: { path: `d${seq}` } }] };
      const toolCalls: ToolCall[] =
        'calls' in turn
          ? turn.calls.map((c) => ({
              id: `c${++seq}`,
              name: c.name,
              arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
            }))
          : [];
      return { content: turn.content ?? '', toolCalls, promptTokens: tokens, completionTokens: tokens / 2 };
    },
  };
}

function setup(llm: Llm, workspace: AgentWorkspace, codegen = settings(), state = newAgentState()) {
  const usage: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: null, calls: 0 };
  const trajectory: TrajectoryEntry[] = [];
  const warnings: string[] = [];
  const session: AgentSession = {
    workspace,
    state,
    commands: codegen.agent!.commands,
    round: 0,
    onTurn: () => undefined,
    onToolCall: (entry) => trajectory.push(entry),
  };
  const input: StrategyInput = {
    task: { title: 'Fix sum', description: 'the first value is lost' },
    context: null,
    baseline: { failingTests: ['sums every value'] },
    repair: null,
    settings: codegen,
    format: editFormat('udiff'),
    llm,
    budget: budgetMeter(codegen, usage, () => undefined),
    signal: new AbortController().signal,
    warn: (m) => warnings.push(m),
    agent: session,
  };
  return { input, session, trajectory, warnings, usage };
}

const agent = strategyNamed('agent');
const SUBMIT = { name: 'submit', arguments: { rationale: 'starts at 0', commit_message: 'Fix sum' } };

describe('the agent strategy', () => {
  it('tells the model the task, the test command and what fails on the base, and returns the workspace diff on submit', async () => {
    const llm = scripted([
      { calls: [{ name: 'read_file', arguments: { path: 'sum.js' } }] },
      { calls: [{ name: 'edit', arguments: { path: 'sum.js', old_text: 'i = 1', new_text: 'i = 0' } }] },
      { calls: [SUBMIT] },
    ]);
    const { input, trajectory, usage } = setup(llm, memoryWorkspace({ 'sum.js': 'let i = 1' }));
    const outcome = await agent.generate(input);
    expect(outcome).toEqual({
      status: 'generated',
      candidates: [{ rationale: 'starts at 0', commitMessage: 'Fix sum', patch: expect.stringContaining('+let i = 0'), format: 'udiff' }],
    });
    const task = llm.requests[0].messages[1].content as string;
    expect(task).toContain('# Task\nFix sum');
    expect(task).toContain('- test: `npm test`');
    expect(task).toContain('- sums every value');
    expect(llm.requests[0].tools.map((t) => t.name)).toEqual(['list_files', 'read_file', 'search', 'run', 'edit', 'submit']);
    expect(trajectory.map((t) => `${t.turn}:${t.tool}:${t.ok}`)).toEqual(['1:read_file:true', '2:edit:true', '3:submit:true']);
    expect(trajectory[0].result).toBe('    1  let i = 1');
    expect(usage.calls).toBe(3);
  });

  it('tells the model of malformed arguments, unknown tools and refused paths, and refuses an empty submission', async () => {
    const llm = scripted([
      { calls: [{ name: 'read_file', arguments: '{"path": ' }] },
      { calls: [{ name: 'delete_everything', arguments: {} }] },
      { calls: [{ name: 'read_file', arguments: { path: '../secret' } }] },
      { calls: [{ name: 'edit', arguments: { path: 'a.txt' } }] },
      { calls: [SUBMIT] },
    ]);
    const { input, session } = setup(llm, memoryWorkspace({ 'a.txt': 'a' }), settings({ maxTurns: 5 }));
    const outcome = await agent.generate(input);
    expect(outcome).toEqual({ status: 'stopped', reason: 'agent stopped: 5 model calls made, agent.max_turns = 5', budget: true });
    const results = session.state.messages
      .filter((m): m is Extract<ToolChatMessage, { role: 'tool' }> => m.role === 'tool')
      .map((m) => m.content);
    expect(results[0]).toMatch(/^bad arguments for read_file: the arguments are not valid JSON/);
    expect(results[1]).toMatch(/^unknown tool "delete_everything"/);
    expect(results[2]).toBe('refused: ../secret: path escapes the repository through ..');
    expect(results[3]).toBe('bad arguments for edit: "new_text" is required');
    expect(results[4]).toBe('nothing to submit: the workspace has no change yet (edit files first)');
    expect(session.state.stopReason).toBe(outcome.status === 'stopped' ? outcome.reason : null);
  });

  it('pages a long file and says how to read on', async () => {
    const long = Array.from({ length: 1000 }, (_, k) => `line ${k + 1}`).join('\n');
    const llm = scripted([
      { calls: [{ name: 'read_file', arguments: { path: 'big.txt' } }] },
      { calls: [{ name: 'read_file', arguments: { path: 'big.txt', start_line: 990 } }] },
    ]);
    const { input, session } = setup(llm, memoryWorkspace({ 'big.txt': long }), settings({ maxTurns: 2, maxOutputChars: 100_000 }));
    await agent.generate(input);
    const trajectory = session.state.messages.flatMap((m) => (m.role === 'tool' ? [{ result: m.content }] : []));
    expect(trajectory[0].result).toMatch(/^ {4}1 {2}line 1\n/);
    expect(trajectory[0].result).toMatch(/ 400 {2}line 400\n\[lines 1-400 of 1000; read on with start_line=401\]$/);
    expect(trajectory[1].result).toMatch(/^ {2}990 {2}line 990\n[\s\S]* 1000 {2}line 1000$/);
  });

  it('checks wall time and the budget before a call: none is made once either is spent', async () => {
    const llm = scripted([]);
    const spent = { ...newAgentState(), elapsedMs: 601_000 };
    const wall = setup(llm, memoryWorkspace({}), settings(), spent);
    expect(await agent.generate(wall.input)).toEqual({
      status: 'stopped',
      reason: 'agent stopped: 601s spent, agent.max_wall_secs = 600',
      budget: true,
    });
    const tokens = setup(llm, memoryWorkspace({}), settings({}, { maxTotalTokens: 500 }));
    const outcome = await agent.generate(tokens.input);
    expect(outcome).toMatchObject({
      status: 'stopped',
      budget: true,
      reason: expect.stringMatching(/^token budget: the next call could use up to/),
    });
    expect(llm.requests).toHaveLength(0);
  });

  it('continues the same conversation in a repair round, with the gates\u2019 failure as the next message', async () => {
    const workspace = memoryWorkspace({ 'sum.js': 'let i = 1' });
    const llm = scripted([
      { calls: [{ name: 'edit', arguments: { path: 'sum.js', old_text: '1', new_text: '2' } }] },
      { calls: [SUBMIT] },
      { calls: [SUBMIT] },
    ]);
    const first = setup(llm, workspace);
    await agent.generate(first.input);
    const kept = first.session.state.messages.length;
    const second = setup(llm, workspace, settings(), first.session.state);
    second.input.repair = { feedback: '1 test(s) fail that passed on the base: sums nothing to zero', previousPatch: null };
    const outcome = await agent.generate(second.input);
    expect(outcome.status).toBe('generated');
    const sent = llm.requests[2].messages;
    expect(sent.slice(0, kept)).toEqual(first.session.state.messages.slice(0, kept));
    expect(sent[kept]).toEqual({
      role: 'user',
      content: expect.stringMatching(/It failed:\n\n1 test\(s\) fail that passed on the base: sums nothing to zero/),
    });
    expect(first.session.state.turns).toBe(3);
  });

  it('falls back to single in one line when the first reply has no tool call and fallback is allowed', async () => {
    const llm = scripted([{ content: 'I would change sum.js.' }]);
    const { input, warnings, session } = setup(llm, memoryWorkspace({}), settings({ onUnsupported: 'single' }));
    const outcome = await agent.generate(input);
    expect(warnings.filter((w) => w.includes('tool calls'))).toEqual([
      expect.stringMatching(
        /^the endpoint does not do tool calls \(the model answered the first call with text only.*falling back to the single strategy$/,
      ),
    ]);
    expect(session.state.fellBack).toMatch(/text only/);
    // The single strategy asked (and got a malformed reply, three times): it did run.
    expect(outcome.status).toBe('stopped');
    expect(session.state.turns).toBe(0);
  });
});

describe('elide', () => {
  it('replaces the oldest tool results until the conversation fits, keeping the task and the newest messages', () => {
    const big = 'x'.repeat(4000);
    const messages: ToolChatMessage[] = [
      { role: 'system', content: 'system' },
      { role: 'user', content: 'task' },
    ];
    for (let k = 0; k < 6; k++) {
      messages.push({ role: 'assistant', content: null, toolCalls: [{ id: `c${k}`, name: 'run', arguments: '{}' }] });
      messages.push({ role: 'tool', toolCallId: `c${k}`, content: big });
    }
    const before = promptBound(messages.map((m) => ({ content: m.content ?? '' })));
    const count = elide(messages, before - 2500);
    expect(count).toBe(3);
    const tools = messages.filter((m): m is Extract<ToolChatMessage, { role: 'tool' }> => m.role === 'tool');
    expect(tools.slice(0, 3).every((m) => m.content.startsWith('[elided') && m.content.includes('earlier run result'))).toBe(true);
    expect(tools.slice(3).every((m) => m.content === big)).toBe(true);
    expect(messages[1]).toEqual({ role: 'user', content: 'task' });
  });
});
