// The task's token and cost budget over all its model calls (retries and repair rounds included).
// Every strategy counts through one meter, so a strategy that asks for several candidates cannot
// spend more than the task allows.
//
// The budget holds before it is spent: each call is bounded before it is made (its prompt by the
// context estimate, which errs high and needs no tokenizer; its reply by `max_tokens`, which the
// server never exceeds). A call whose bound does not fit what is left gets a lower `max_tokens`
// while a useful reply still fits; otherwise it is not made, and the reason names the setting.
import { estimateTokens } from '../context/estimate.js';
import type { Usage } from './types.js';
import type { CodegenInputs } from '../plan/types.js';

interface CallUsage {
  promptTokens: number;
  completionTokens: number;
  /** USD, when the plan knows a price. */
  costUsd: number | null;
}

/**
 * Whether a call may be made, and with which `max_tokens`. An admitted call holds its bound (prompt
 * and reply tokens, and their cost) until it is recorded or released, so calls admitted one after
 * the other and made at once (candidates) cannot together cross the budget.
 */
export type Admission = { ok: true; maxTokens: number } | { ok: false; reason: string };

/** The tokens and dollars an admitted call may still spend. */
interface Hold {
  tokens: number;
  costUsd: number;
}

export interface BudgetMeter {
  /** Why no further call may be made, or null while the budget lasts. */
  exhausted(): string | null;
  /**
   * Bounds a call of `messages` asking for up to `maxTokens` before it is made: admitted as asked,
   * admitted with a lower `max_tokens` that fits what is left, or refused with the reason.
   */
  admit(messages: readonly { content: string }[], maxTokens: number): Admission;
  /**
   * Adds one call's tokens (and their cost) to the task's usage, as the API reported them, and lets
   * go of its admission's hold (of every hold when none is named: a caller making one call at a time).
   */
  record(promptTokens: number, completionTokens: number, admission?: Admission): CallUsage;
  /** Lets go of an admitted call's hold when the call is not made after all (or failed). */
  release(admission: Admission): void;
}

type Budget = Pick<CodegenInputs, 'maxTotalTokens' | 'maxCostUsd' | 'promptPricePer1k' | 'completionPricePer1k'>;

/**
 * The fewest reply tokens worth asking for: below this a rationale, a commit message and an edit
 * no longer fit, so the call would be paid for and wasted. A plan asking for less keeps its own.
 */
export const MIN_REPLY_TOKENS = 256;

/** Tokens the chat format adds per message (role, separators) and to prime the reply; OpenAI's are 3-4 and 3. */
const PER_MESSAGE_TOKENS = 4;
const REPLY_PRIMING_TOKENS = 3;

/** An upper bound of the prompt tokens a server will count for `messages`. */
export function promptBound(messages: readonly { content: string }[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) total += PER_MESSAGE_TOKENS + estimateTokens(message.content);
  return total;
}

/**
 * A meter over `usage` (the task's running totals, updated in place so they outlive the step);
 * `onCall` hears of every call (the step turns it into an `llm.usage` event).
 */
export function budgetMeter(budget: Budget, usage: Usage, onCall: (call: CallUsage) => void): BudgetMeter {
  const priced = budget.promptPricePer1k !== null || budget.completionPricePer1k !== null;
  const promptPrice = (budget.promptPricePer1k ?? 0) / 1000;
  const completionPrice = (budget.completionPricePer1k ?? 0) / 1000;
  // By admission: the admission itself is the key, so its shape stays what callers compare.
  const holds = new Map<Admission, Hold>();
  const held = (): Hold => {
    let tokens = 0;
    let costUsd = 0;
    for (const hold of holds.values()) {
      tokens += hold.tokens;
      costUsd += hold.costUsd;
    }
    return { tokens, costUsd };
  };
  const letGo = (admission: Admission | undefined): void => {
    if (!admission) holds.clear();
    else holds.delete(admission);
  };
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
    admit(messages, maxTokens) {
      const prompt = promptBound(messages);
      const floor = Math.min(maxTokens, MIN_REPLY_TOKENS);
      const pending = held();
      const byTokens = budget.maxTotalTokens - usage.totalTokens - pending.tokens - prompt;
      if (byTokens < floor) {
        const inFlight = pending.tokens ? ` (${pending.tokens} more held by calls under way)` : '';
        return {
          ok: false,
          reason:
            `token budget: the next call could use up to ${prompt + floor} tokens (${prompt} prompt, ${floor} reply); ` +
            `llm.max_total_tokens = ${budget.maxTotalTokens}, ${usage.totalTokens} used${inFlight}`,
        };
      }
      let reply = Math.min(maxTokens, byTokens);
      if (priced && budget.maxCostUsd !== null) {
        const spent = (usage.costUsd ?? 0) + pending.costUsd;
        const left = budget.maxCostUsd - spent - prompt * promptPrice;
        // Whole tokens only, and a hair under the cap so rounding never lets a call cross it.
        const byCost = completionPrice > 0 ? Math.floor((left * (1 - 1e-9)) / completionPrice) : left >= 0 ? Infinity : -1;
        if (byCost < floor) {
          const bound = prompt * promptPrice + floor * completionPrice;
          return {
            ok: false,
            reason:
              `cost budget: the next call could cost up to $${bound.toFixed(4)} (${prompt} prompt, ${floor} reply tokens); ` +
              `llm.max_cost_usd = $${budget.maxCostUsd}, $${spent.toFixed(4)} used`,
          };
        }
        reply = Math.min(reply, byCost);
      }
      const hold: Hold = { tokens: prompt + reply, costUsd: priced ? prompt * promptPrice + reply * completionPrice : 0 };
      const admission: Admission = { ok: true, maxTokens: reply };
      holds.set(admission, hold);
      return admission;
    },
    release(admission) {
      letGo(admission);
    },
    record(promptTokens, completionTokens, admission) {
      letGo(admission);
      usage.promptTokens += promptTokens;
      usage.completionTokens += completionTokens;
      usage.totalTokens += promptTokens + completionTokens;
      usage.calls += 1;
      let costUsd: number | null = null;
      if (priced) {
        costUsd = (promptTokens / 1000) * (budget.promptPricePer1k ?? 0) + (completionTokens / 1000) * (budget.completionPricePer1k ?? 0);
        usage.costUsd = (usage.costUsd ?? 0) + costUsd;
      }
      const call = { promptTokens, completionTokens, costUsd };
      onCall(call);
      return call;
    },
  };
}
