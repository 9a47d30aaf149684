// The task's budget meter holds before spending: each call is bounded (its prompt by the estimate
// that errs high, its reply by max_tokens) and admitted as asked, admitted with a lower max_tokens
// that fits what is left, or refused with a reason naming the setting; with prices, the same in dollars.
import { describe, expect, it } from '@jest/globals';
import { loadTokenCounter } from '../../src/context/tokenizer.js';
import { budgetMeter, MIN_REPLY_TOKENS, promptBound } from '../../src/generate/budget.js';
import { editFormat } from '../../src/generate/formats/index.js';
import { buildMessages } from '../../src/generate/prompt.js';
import type { Usage } from '../../src/generate/types.js';

const MESSAGES = [
  { role: 'system', content: 'You change code. Reply with a rationale, a commit message and a patch.' },
  { role: 'user', content: '# Task\nFix add\n\n## src/lib.rs\n```\nfn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n```' },
];
const P = promptBound(MESSAGES);
const CODE = 'pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n'.repeat(20);
const NO_PRICES = { maxCostUsd: null, promptPricePer1k: null, completionPricePer1k: null };

function used(totalTokens = 0, costUsd: number | null = null): Usage {
  return { promptTokens: totalTokens, completionTokens: 0, totalTokens, costUsd, calls: totalTokens > 0 ? 1 : 0 };
}

function meter(budget: Partial<Parameters<typeof budgetMeter>[0]>, usage: Usage) {
  return budgetMeter({ maxTotalTokens: 200_000, ...NO_PRICES, ...budget }, usage, () => undefined);
}

describe('the budget meter', () => {
  it('bounds the prompt above what the real encoders count, chat overhead included', async () => {
    const messages = buildMessages({
      task: { title: 'Fix add', description: 'add() subtracts; 2 + 2 gives 0 — it should give 4 (см. issue #12).' },
      context: {
        files: [{ path: 'src/lib.rs', score: 1, tokens: 0, ranges: null, content: CODE }],
        tokens: 0,
        budgetTokens: 8000,
        encoding: 'o200k_base',
        terms: [],
        ranking: [],
      },
      baseline: { failingTests: ['tests::adds'] },
      repair: null,
      format: editFormat('udiff'),
      formatError: null,
    });
    for (const model of ['gpt-4o', 'gpt-4']) {
      const counter = await loadTokenCounter(model);
      // What OpenAI bills for a chat prompt: each message's tokens, 3 per message, 3 to prime the reply.
      const exact = messages.reduce((sum, m) => sum + 3 + counter.count(m.content), 3);
      expect(promptBound(messages)).toBeGreaterThanOrEqual(exact);
    }
  });

  it('admits a call as asked while its bound fits, and lowers max_tokens to what is left when it does not', () => {
    expect(meter({}, used(1000)).admit(MESSAGES, 4096)).toEqual({ ok: true, maxTokens: 4096 });
    expect(meter({ maxTotalTokens: 1000 + P + 4096 }, used(1000)).admit(MESSAGES, 4096)).toEqual({ ok: true, maxTokens: 4096 });
    expect(meter({ maxTotalTokens: 1000 + P + 700 }, used(1000)).admit(MESSAGES, 4096)).toEqual({ ok: true, maxTokens: 700 });
    expect(meter({ maxTotalTokens: 1000 + P + MIN_REPLY_TOKENS }, used(1000)).admit(MESSAGES, 4096)).toEqual({
      ok: true,
      maxTokens: MIN_REPLY_TOKENS,
    });
  });

  it('refuses a call that could cross llm.max_total_tokens even with the smallest useful reply, saying why', () => {
    const budget = 1000 + P + MIN_REPLY_TOKENS - 1;
    expect(meter({ maxTotalTokens: budget }, used(1000)).admit(MESSAGES, 4096)).toEqual({
      ok: false,
      reason: `token budget: the next call could use up to ${P + 256} tokens (${P} prompt, 256 reply); llm.max_total_tokens = ${budget}, 1000 used`,
    });
    // A plan asking for fewer reply tokens than the floor keeps its own as the floor.
    expect(meter({ maxTotalTokens: P + 100 }, used()).admit(MESSAGES, 100)).toEqual({ ok: true, maxTokens: 100 });
    expect(meter({ maxTotalTokens: P + 99 }, used()).admit(MESSAGES, 100)).toEqual({
      ok: false,
      reason: `token budget: the next call could use up to ${P + 100} tokens (${P} prompt, 100 reply); llm.max_total_tokens = ${P + 99}, 0 used`,
    });
  });

  it('never lets the total cross the budget, even when every call uses all it was allowed', () => {
    const usage = used();
    const budget = meter({ maxTotalTokens: 3 * (P + 1000) }, usage);
    const made: number[] = [];
    for (;;) {
      const admitted = budget.admit(MESSAGES, 1500);
      if (!admitted.ok) break;
      made.push(admitted.maxTokens);
      budget.record(P, admitted.maxTokens);
    }
    expect(made).toEqual([1500, 1500]);
    expect(usage.totalTokens).toBeLessThanOrEqual(3 * (P + 1000));
    expect(usage.totalTokens).toBe(2 * (P + 1500));
  });

  it('with prices, lowers max_tokens to what max_cost_usd leaves, and refuses a call it cannot pay for', () => {
    const prices = { promptPricePer1k: 0.01, completionPricePer1k: 0.02 };
    // $0.05 cap, $0.03 spent: the reply may cost what is left after the prompt, to the whole token.
    const admitted = meter({ ...prices, maxCostUsd: 0.05 }, used(1000, 0.03)).admit(MESSAGES, 4096);
    if (!admitted.ok) throw new Error(admitted.reason);
    const cost = (reply: number) => 0.03 + (P / 1000) * 0.01 + (reply / 1000) * 0.02;
    expect(admitted.maxTokens).toBeLessThan(4096);
    expect(cost(admitted.maxTokens)).toBeLessThanOrEqual(0.05);
    expect(cost(admitted.maxTokens + 1)).toBeGreaterThan(0.05);

    const tight = meter({ ...prices, maxCostUsd: 0.035 }, used(1000, 0.03)).admit(MESSAGES, 4096);
    const bound = (P / 1000) * 0.01 + (256 / 1000) * 0.02;
    expect(tight).toEqual({
      ok: false,
      reason: `cost budget: the next call could cost up to $${bound.toFixed(4)} (${P} prompt, 256 reply tokens); llm.max_cost_usd = $0.035, $0.0300 used`,
    });
    // Without prices the cap cannot be measured, so only the token budget bounds the call.
    expect(meter({ maxCostUsd: 0.035 }, used(1000)).admit(MESSAGES, 4096)).toEqual({ ok: true, maxTokens: 4096 });
  });
});
