// The `single` strategy against a scripted model: one call for a good reply, a re-ask that tells the
// model what was wrong with a malformed one, a stop after the plan's calls per attempt, and every
// call counted against the task's token and cost budget.
import { describe, expect, it } from '@jest/globals';
import type { Usage } from '../../../src/generate/types.js';
import { budgetMeter, promptBound } from '../../../src/generate/budget.js';
import { buildMessages } from '../../../src/generate/prompt.js';
import { editFormat } from '../../../src/generate/formats/index.js';
import { strategyNamed } from '../../../src/generate/strategies/index.js';
import type { StrategyInput } from '../../../src/generate/types.js';
import type { CodegenInputs } from '../../../src/plan/types.js';
import { TransientError, type ChatReply, type ChatRequest, type Llm } from '../../../src/ports/types.js';
import { ExternalError } from '../../../src/util/errors.js';

const DIFF = '--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n fn add() {\n-    a - b\n+    a + b\n }\n';
const GOOD = `## Rationale\nWrong operator.\n\n## Commit message\nFix add\n\n## Patch\n\`\`\`diff\n${DIFF}\`\`\`\n`;
const PROSE = 'You should replace the minus with a plus in src/lib.rs.';

const SETTINGS: CodegenInputs = {
  strategy: 'single',
  format: 'udiff',
  model: 'test-model',
  apiUrl: 'http://127.0.0.1:1/v1',
  temperature: 0.3,
  maxTokens: 1234,
  callsPerAttempt: 3,
  maxTotalTokens: 100_000,
  maxCostUsd: null,
  promptPricePer1k: null,
  completionPricePer1k: null,
};

type Scripted = string | Error;

function scriptedLlm(replies: Scripted[], tokens = { promptTokens: 100, completionTokens: 50 }): Llm & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  return {
    requests,
    async chat(request): Promise<ChatReply> {
      requests.push(request);
      const next = replies.shift();
      if (next === undefined) throw new Error('the test scripted no more replies');
      if (next instanceof Error) throw next;
      return { content: next, ...tokens };
    },
  };
}

function usage(): Usage {
  return { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: null, calls: 0 };
}

function run(llm: Llm, options: { settings?: Partial<CodegenInputs>; spent?: Usage; signal?: AbortSignal } = {}) {
  const settings = { ...SETTINGS, ...options.settings };
  const spent = options.spent ?? usage();
  const calls: { promptTokens: number; completionTokens: number; costUsd: number | null }[] = [];
  const warnings: string[] = [];
  const input: StrategyInput = {
    task: { title: 'Fix add', description: '' },
    context: null,
    baseline: { failingTests: [] },
    repair: null,
    settings,
    format: editFormat(settings.format),
    llm,
    budget: budgetMeter(settings, spent, (call) => calls.push(call)),
    signal: options.signal ?? new AbortController().signal,
    warn: (message) => warnings.push(message),
  };
  return { outcome: strategyNamed('single').generate(input), spent, calls, warnings };
}

describe('the single strategy', () => {
  it("asks once with the plan's model, temperature and max tokens, and returns the parsed candidate", async () => {
    const llm = scriptedLlm([GOOD]);
    const { outcome, spent, calls, warnings } = run(llm);
    expect(await outcome).toEqual({
      status: 'generated',
      candidates: [{ rationale: 'Wrong operator.', commitMessage: 'Fix add', patch: DIFF, format: 'udiff' }],
    });
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0]).toMatchObject({ model: 'test-model', temperature: 0.3, maxTokens: 1234 });
    expect(llm.requests[0].messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(spent).toEqual({ promptTokens: 100, completionTokens: 50, totalTokens: 150, costUsd: null, calls: 1 });
    expect(calls).toEqual([{ promptTokens: 100, completionTokens: 50, costUsd: null }]);
    expect(warnings).toEqual([]);
    expect(() => strategyNamed('swarm')).toThrow(/unknown generation strategy "swarm" \(known: single, candidates, agent\)/);
  });

  it('asks again after a reply with only prose, telling the model which section is missing', async () => {
    const llm = scriptedLlm([PROSE, GOOD]);
    const { outcome, spent, warnings } = run(llm);
    expect((await outcome).status).toBe('generated');
    expect(llm.requests).toHaveLength(2);
    const reask = llm.requests[1].messages.at(-1)!;
    expect(reask).toEqual({
      role: 'user',
      content: 'Your last reply could not be used: missing section "## Rationale". Reply again in exactly the required format.',
    });
    expect(warnings).toEqual([`the model's reply was malformed (missing section "## Rationale"); asking again`]);
    // The re-ask is paid for like any other call.
    expect(spent.calls).toBe(2);
    expect(spent.totalTokens).toBe(300);
  });

  it("stops after the plan's calls per attempt when every reply is malformed, with the last reason", async () => {
    const llm = scriptedLlm([PROSE, PROSE]);
    const { outcome } = run(llm, { settings: { callsPerAttempt: 2 } });
    expect(await outcome).toEqual({
      status: 'stopped',
      reason: 'the model\'s replies were malformed 2 times: missing section "## Rationale"',
    });
    expect(llm.requests).toHaveLength(2);
  });

  it("does not call the model once the task's token budget is spent, nor make a re-ask that could cross it", async () => {
    const spent = { ...usage(), totalTokens: 1000, calls: 4 };
    const none = scriptedLlm([GOOD]);
    const first = run(none, { settings: { maxTotalTokens: 1000 }, spent });
    expect(await first.outcome).toEqual({
      status: 'stopped',
      reason: 'token budget exhausted: 1000 of llm.max_total_tokens = 1000 used',
      budget: true,
    });
    expect(none.requests).toHaveLength(0);

    // A budget that pays for exactly one call at its full max_tokens: the re-ask is bounded first
    // and not made, though the budget is not yet spent.
    const bound = promptBound(
      buildMessages({
        task: { title: 'Fix add', description: '' },
        context: null,
        baseline: { failingTests: [] },
        repair: null,
        format: editFormat('udiff'),
        formatError: null,
      }),
    );
    const llm = scriptedLlm([PROSE, GOOD], { promptTokens: 500, completionTokens: 1000 });
    const second = run(llm, { settings: { maxTotalTokens: bound + 1234 } });
    const outcome = await second.outcome;
    expect(outcome).toMatchObject({ status: 'stopped', budget: true });
    expect(outcome.status === 'stopped' && outcome.reason).toMatch(
      new RegExp(
        `^token budget: the next call could use up to \\d+ tokens \\(\\d+ prompt, 256 reply\\); llm\\.max_total_tokens = ${bound + 1234}, 1500 used$`,
      ),
    );
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0].maxTokens).toBe(1234);
    expect(second.spent.totalTokens).toBe(1500);
  });

  it("prices each call with the plan's prices and stops when the cost budget is spent", async () => {
    const llm = scriptedLlm([PROSE, PROSE, GOOD], { promptTokens: 1000, completionTokens: 500 });
    const { outcome, spent, calls } = run(llm, { settings: { promptPricePer1k: 0.01, completionPricePer1k: 0.02, maxCostUsd: 0.035 } });
    expect(await outcome).toEqual({
      status: 'stopped',
      reason: 'cost budget exhausted: $0.0400 of llm.max_cost_usd = $0.035',
      budget: true,
    });
    expect(calls.map((c) => c.costUsd)).toEqual([0.02, 0.02]);
    expect(spent.costUsd).toBeCloseTo(0.04, 10);
    expect(llm.requests).toHaveLength(2);
  });

  it("reports a refused request as the service failing the task, and leaves a transient failure to the engine's retries", async () => {
    const refused = run(scriptedLlm([new Error('401 invalid api key')]));
    await expect(refused.outcome).rejects.toThrow(ExternalError);
    await expect(run(scriptedLlm([new Error('404 unknown model')])).outcome).rejects.toThrow('404 unknown model');
    const transient = new TransientError('429 slow down', 2000);
    await expect(run(scriptedLlm([transient])).outcome).rejects.toBe(transient);
    const controller = new AbortController();
    controller.abort();
    const aborted = new Error('aborted');
    await expect(run(scriptedLlm([aborted]), { signal: controller.signal }).outcome).rejects.toBe(aborted);
  });
});
