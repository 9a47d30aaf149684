// The codegen step hands the plan's settings to the plan's strategy and keeps what comes back: it
// reads no config (its ports here have none), only its plan step's inputs and the task's blackboard.
import { describe, expect, it } from '@jest/globals';
import { autodevSchema } from '../../src/config/schema.js';
import type { EngineEvent } from '../../src/engine/types.js';
import { promptBound } from '../../src/generate/budget.js';
import { buildPlan } from '../../src/plan/planner.js';
import { createLlm } from '../../src/ports/llm.js';
import type { PlanStep } from '../../src/plan/types.js';
import type { ChatRequest, Llm } from '../../src/ports/types.js';
import { createRegistry } from '../../src/steps/registry.js';
import { initialState, type Ctx, type StepPorts, type TaskState } from '../../src/steps/types.js';
import { startOpenAiServer } from '../support/openai-server.js';

const REQUEST = {
  repo: 'https://github.com/acme/calc.git',
  title: 'Fix add',
  description: 'add subtracts',
  risk: 'medium' as const,
  noPr: false,
  keepWorkspace: false,
};
const PLAN = buildPlan({
  request: REQUEST,
  config: autodevSchema.parse({
    llm: { model: 'planned-model', temperature: 0.9, max_tokens: 321, prompt_price_per_1k: 1, completion_price_per_1k: 2 },
  }),
  forge: { owner: 'acme', repo: 'calc' },
  repo: {
    files: ['Cargo.toml', 'src/lib.rs'],
    manifests: { 'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\n' },
    branch: 'main',
  },
  host: { programs: { git: true, rg: true, cargo: true, bwrap: true }, autoSandbox: 'bwrap', installed: {} },
});
const CODEGEN = PLAN.steps.find((s) => s.id === 'codegen')!;

const DIFF = '--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n fn add() {\n-    a - b\n+    a + b\n }\n';
const GOOD = `## Rationale\nWrong operator.\n\n## Commit message\nFix add\n\nIt subtracted.\n\n## Patch\n\`\`\`diff\n${DIFF}\`\`\`\n`;

function scripted(replies: string[]): Llm & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  return {
    requests,
    async chat(request) {
      requests.push(request);
      return { content: replies.shift() ?? 'no more replies', promptTokens: 1000, completionTokens: 500 };
    },
  };
}

async function codegen(llm: Llm, options: { state?: TaskState; feedback?: string | null; step?: PlanStep } = {}) {
  const state = options.state ?? initialState('/nonexistent');
  const events: EngineEvent[] = [];
  const ports = { llm: async () => llm } as unknown as StepPorts;
  const ctx: Ctx = {
    taskId: 't',
    request: REQUEST,
    plan: PLAN,
    step: options.step ?? CODEGEN,
    mode: 'change',
    attempt: 1,
    round: options.feedback ? 1 : 0,
    feedback: options.feedback ?? null,
    signal: new AbortController().signal,
    emit: (event) => events.push({ ...event, taskId: 't' } as EngineEvent),
    ports,
    state,
  };
  const result = await createRegistry().get('codegen')!.run(ctx);
  return { result, state, events };
}

describe('the codegen step', () => {
  it("asks with the plan's model settings, keeps the candidate, and reports the usage priced as planned", async () => {
    const llm = scripted([GOOD]);
    const { result, state, events } = await codegen(llm);
    expect(llm.requests[0]).toMatchObject({ model: 'planned-model', temperature: 0.9, maxTokens: 321 });
    expect(result).toEqual({
      status: 'ok',
      summary: 'patch received: "Fix add" (1500 tokens so far)',
      data: { subject: 'Fix add', format: 'udiff', patchLines: DIFF.split('\n').length },
    });
    expect(state.generation).toEqual({
      rationale: 'Wrong operator.',
      commitMessage: 'Fix add\n\nIt subtracted.',
      patch: DIFF,
      format: 'udiff',
    });
    expect(state.generations).toBe(1);
    expect(state.usage).toEqual({ promptTokens: 1000, completionTokens: 500, totalTokens: 1500, costUsd: 2, calls: 1 });
    expect(events.filter((e) => e.type === 'llm.usage')).toEqual([
      { type: 'llm.usage', taskId: 't', promptTokens: 1000, completionTokens: 500, costUsd: 2 },
    ]);
  });

  it('tells the model which tests fail on the base, and in a repair round quotes the patch that failed', async () => {
    const state = initialState('/nonexistent');
    state.baseline.test = {
      ok: false,
      exitCode: 101,
      summary: '1 failed',
      diagnostics: [],
      tests: { passed: [], failed: [{ name: 'lib::tests::adds', output: '' }], ignored: 0, summary: '' },
      durationMs: 1,
    };
    state.generation = { rationale: 'r', commitMessage: 'First try', patch: '--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-a\n+c\n' };
    state.generations = 1;
    const llm = scripted([GOOD]);
    const { state: after } = await codegen(llm, { state, feedback: 'error[E0425]: cannot find value `c`' });
    const prompt = llm.requests[0].messages[1].content;
    expect(prompt).toContain('# Already failing on the base (before any change)\n- lib::tests::adds');
    expect(prompt).toContain('It was:\n```diff\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-a\n+c\n```');
    expect(prompt).toContain('What failed:\nerror[E0425]: cannot find value `c`');
    expect(after.generations).toBe(2);
  });

  it("fails with the strategy's reason when no candidate comes back", async () => {
    const state = initialState('/nonexistent');
    const llm = scripted(['Just use a plus.', 'Just use a plus.', 'Just use a plus.']);
    const { result, events } = await codegen(llm, { state });
    expect(result).toEqual({ status: 'failed', summary: 'the model\'s replies were malformed 3 times: missing section "## Rationale"' });
    expect(state.generation).toBeNull();
    expect(state.usage.calls).toBe(3);
    expect(events.filter((e) => e.type === 'log' && e.level === 'warn')).toHaveLength(3);
  });

  it('refuses a plan naming a strategy or an edit format that does not exist', async () => {
    await expect(codegen(scripted([GOOD]), { step: { ...CODEGEN, inputs: { ...CODEGEN.inputs, strategy: 'swarm' } } })).rejects.toThrow(
      'unknown generation strategy "swarm"',
    );
    await expect(codegen(scripted([GOOD]), { step: { ...CODEGEN, inputs: { ...CODEGEN.inputs, format: 'whole-file' } } })).rejects.toThrow(
      'unknown edit format "whole-file"',
    );
  });

  it('makes only the calls the budget can pay for, lowering the last max_tokens on the wire, and stops with the reason', async () => {
    // The conversations of the first call and of the re-ask after a malformed reply, bounded as the meter bounds them.
    const probe = scripted(['Just use a plus.', GOOD]);
    await codegen(probe);
    const [first, second] = probe.requests.map((r) => promptBound(r.messages));
    // Each reply uses 50 tokens less than it was allowed: the budget pays for the first call at
    // the plan's 321 reply tokens, what is left for the second at 300, and not for a third.
    const budget = first + 271 + second + 300;
    const server = await startOpenAiServer({
      onRequest: (body) => ({
        content: 'Just use a plus.',
        promptTokens: promptBound(body.messages!),
        completionTokens: body.max_tokens! - 50,
      }),
    });
    try {
      const llm = createLlm({ apiUrl: server.baseUrl, timeoutMs: 10_000 });
      const step = { ...CODEGEN, inputs: { ...CODEGEN.inputs, maxTotalTokens: budget } };
      const { result, state } = await codegen(llm, { step });
      const bodies = server.chatBodies();
      expect(bodies).toHaveLength(2);
      expect(bodies.map((b) => b.max_tokens)).toEqual([321, 300]);
      const spent = budget - 50;
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(
        new RegExp(
          `^token budget: the next call could use up to \\d+ tokens \\(\\d+ prompt, 256 reply\\); llm\\.max_total_tokens = ${budget}, ${spent} used$`,
        ),
      );
      // The usage is what the API reported.
      expect(state.usage).toMatchObject({ promptTokens: first + second, completionTokens: 271 + 250, totalTokens: spent, calls: 2 });
    } finally {
      await server.close();
    }
  });

  it('makes no repair round the budget cannot pay for, ending with the failure it was to repair and why', async () => {
    const state = initialState('/nonexistent');
    Object.assign(state.usage, { promptTokens: 1000, completionTokens: 500, totalTokens: 1500, calls: 1 });
    state.generation = { rationale: 'r', commitMessage: 'First try', patch: DIFF };
    state.generations = 1;
    const llm = scripted([GOOD]);
    const step = { ...CODEGEN, inputs: { ...CODEGEN.inputs, maxTotalTokens: 1600 } };
    const { result } = await codegen(llm, { state, step, feedback: 'test lib::tests::adds failed: left 0 right 4\nmore output' });
    expect(llm.requests).toHaveLength(0);
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(
      /^test lib::tests::adds failed: left 0 right 4 more output; no repair round: token budget: the next call could use up to \d+ tokens \(\d+ prompt, 256 reply\); llm\.max_total_tokens = 1600, 1500 used$/,
    );
  });
});
