// The task's token and cost budget over all its model calls (retries and repair rounds included).
// Every strategy counts through one meter, so a strategy that asks for several candidates cannot
// spend more than the task allows.
import type { Usage } from './types.js';
import type { CodegenInputs } from '../plan/types.js';

interface CallUsage {
  promptTokens: number;
  completionTokens: number;
  /** USD, when the plan knows a price. */
  costUsd: number | null;
}

export interface BudgetMeter {
  /** Why no further call may be made, or null while the budget lasts. */
  exhausted(): string | null;
  /** Adds one call's tokens (and their cost) to the task's usage. */
  record(promptTokens: number, completionTokens: number): CallUsage;
}

type Budget = Pick<CodegenInputs, 'maxTotalTokens' | 'maxCostUsd' | 'promptPricePer1k' | 'completionPricePer1k'>;

/**
 * A meter over `usage` (the task's running totals, updated in place so they outlive the step);
 * `onCall` hears of every call (the step turns it into an `llm.usage` event).
 */
export function budgetMeter(budget: Budget, usage: Usage, onCall: (call: CallUsage) => void): BudgetMeter {
  return {
    exhausted() {
      if (usage.totalTokens >= budget.maxTotalTokens) {
        return `token budget exhausted: ${usage.totalTokens} of llm.max_total_tokens = ${budget.maxTotalTokens} used`;
      }
      if (budget.maxCostUsd !== null && usage.costUsd !== null && usage.costUsd >= budget.maxCostUsd) {
        return `cost budget exhausted: $${usage.costUsd.toFixed(4)} of llm.max_cost_usd = $${budget.maxCostUsd}`;
      }
      return null;
    },
    record(promptTokens, completionTokens) {
      usage.promptTokens += promptTokens;
      usage.completionTokens += completionTokens;
      usage.totalTokens += promptTokens + completionTokens;
      usage.calls += 1;
      let costUsd: number | null = null;
      if (budget.promptPricePer1k !== null || budget.completionPricePer1k !== null) {
        costUsd = (promptTokens / 1000) * (budget.promptPricePer1k ?? 0) + (completionTokens / 1000) * (budget.completionPricePer1k ?? 0);
        usage.costUsd = (usage.costUsd ?? 0) + costUsd;
      }
      const call = { promptTokens, completionTokens, costUsd };
      onCall(call);
      return call;
    },
  };
}
