// The eval's budgets: what is left of --max-tokens / --max-cost is shared among the runs going at
// once (each run then checks its share before every model call), and nothing starts once it is spent.
import { describe, expect, it } from '@jest/globals';
import { remainingBudget } from '../../src/eval/run.js';

describe('remainingBudget', () => {
  it('gives each run going at once its share of what is left', () => {
    const share = remainingBudget({ maxTokens: 10_000, maxCostUsd: 1 }, { tokens: 4_000, cost: 0.4 }, 3);
    expect(share).toMatchObject({ tokens: 2_000, exhausted: null });
    expect(share.costUsd).toBeCloseTo(0.2, 10);
  });

  it('stops starting runs once tokens or cost are spent, naming the flag', () => {
    expect(remainingBudget({ maxTokens: 10_000, maxCostUsd: null }, { tokens: 10_000, cost: 0 }, 1).exhausted).toBe(
      '--max-tokens 10000 reached',
    );
    expect(remainingBudget({ maxTokens: null, maxCostUsd: 0.5 }, { tokens: 0, cost: 0.5 }, 1).exhausted).toBe('--max-cost 0.5 reached');
  });

  it('is unbounded without the flags', () => {
    expect(remainingBudget({ maxTokens: null, maxCostUsd: null }, { tokens: 1e9, cost: 1e9 }, 4)).toEqual({
      tokens: null,
      costUsd: null,
      exhausted: null,
    });
  });
});
