// `agent`: the model works on a scratch copy of the base through tools (read, search, run in the
// sandbox, edit) and submits; the copy's diff is the candidate, checked by the same steps as any
// patch. An endpoint without tool calls gets one line and the single strategy, or fails the task
// when agent mode was demanded (agent.on_unsupported = "fail", which `--strategy agent` sets).
import { runAgent } from '../agent/loop.js';
import type { Strategy, StrategyInput, StrategyOutcome } from '../types.js';
import { singleStrategy } from './single.js';

export const agentStrategy: Strategy = {
  name: 'agent',
  async generate(input: StrategyInput): Promise<StrategyOutcome> {
    const session = input.agent;
    const limits = input.settings.agent;
    if (!session || !limits) throw new Error("the agent strategy needs an agent session and the plan's agent inputs");
    // Fell back once: the endpoint will not grow tool calls in a repair round.
    if (session.state.fellBack) return singleStrategy.generate(input);
    const outcome = await runAgent(input, session, limits);
    switch (outcome.kind) {
      case 'submitted':
        return { status: 'generated', candidates: [outcome.generation] };
      case 'stopped':
        return { status: 'stopped', reason: outcome.reason, budget: outcome.budget };
      case 'unsupported':
        if (limits.onUnsupported === 'fail') {
          return {
            status: 'stopped',
            reason: `agent mode needs tool calls, which the endpoint does not do (${outcome.reason}); agent.on_unsupported = "fail"`,
          };
        }
        session.state.fellBack = outcome.reason;
        input.warn(`the endpoint does not do tool calls (${outcome.reason}); falling back to the single strategy`);
        return singleStrategy.generate(input);
    }
  },
};
