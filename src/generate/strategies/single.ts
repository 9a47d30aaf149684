// `single`: ask once for one candidate. A malformed reply is asked again with the parse error, up to
// the plan's calls per attempt; every call, re-asks included, is bounded against the task's budget
// before it is made and counted after.
import { TransientError, type ChatReply, type ChatRequest, type Llm } from '../../ports/types.js';
import { AutodevError, ExternalError } from '../../util/errors.js';
import { buildMessages } from '../prompt.js';
import { ReplyFormatError, type Strategy, type StrategyInput, type StrategyOutcome } from '../types.js';

export const singleStrategy: Strategy = {
  name: 'single',
  async generate(input: StrategyInput): Promise<StrategyOutcome> {
    const { settings, budget } = input;
    let formatError: string | null = null;
    for (let call = 0; call < settings.callsPerAttempt; call++) {
      const over = budget.exhausted();
      if (over) return { status: 'stopped', reason: over, budget: true };
      const messages = buildMessages({ ...input, formatError });
      // Bounded before it is made: a call that could cross the budget gets a lower max_tokens, or is not made.
      const admitted = budget.admit(messages, settings.maxTokens);
      if (!admitted.ok) return { status: 'stopped', reason: admitted.reason, budget: true };
      const reply = await ask(input.llm, {
        messages,
        model: settings.model,
        temperature: settings.temperature,
        maxTokens: admitted.maxTokens,
        signal: input.signal,
      });
      budget.record(reply.promptTokens, reply.completionTokens, admitted);
      try {
        return { status: 'generated', candidates: [input.format.parse(reply.content)] };
      } catch (error) {
        if (!(error instanceof ReplyFormatError)) throw error;
        formatError = error.message;
        input.warn(`the model's reply was malformed (${error.message}); asking again`);
      }
    }
    return { status: 'stopped', reason: `the model's replies were malformed ${settings.callsPerAttempt} times: ${formatError}` };
  },
};

/** One model call; a refused request (4xx) becomes an ExternalError (the service failing the task). */
export async function ask(llm: Llm, request: ChatRequest & { signal: AbortSignal }): Promise<ChatReply> {
  try {
    return await llm.chat(request);
  } catch (error) {
    // The port reports a refused request (bad key, unknown model, any 4xx) as a plain Error: that
    // is the service failing the task (exit 1, recorded as failed), not a bug in autodev (exit 70).
    if (error instanceof TransientError || error instanceof AutodevError || !(error instanceof Error) || request.signal.aborted)
      throw error;
    throw new ExternalError(error.message);
  }
}
