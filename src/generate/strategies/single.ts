// codegen: ask the model for a patch. A malformed reply is asked again with the parse error; every
// call counts against the task's token (and cost) budget, retries included.
import type { StepResult } from '../../engine/types.js';
import { TransientError } from '../../ports/types.js';
import { AutodevError, ExternalError } from '../../util/errors.js';
import { buildMessages } from '../prompt.js';
import { parseReply, ReplyFormatError } from '../formats/udiff.js';
import type { Ctx, StepTool } from '../../steps/types.js';

const FORMAT_RETRIES = 2;

export const codegenTool: StepTool = {
  name: 'codegen',
  async run(ctx): Promise<StepResult> {
    const llmConfig = ctx.ports.config.llm;
    const llm = await ctx.ports.llm();
    const previousPatch = ctx.feedback ? (ctx.state.generation?.patch ?? null) : null;
    let formatError: string | null = null;
    for (let call = 0; call <= FORMAT_RETRIES; call++) {
      const over = budgetExceeded(ctx);
      if (over) return { status: 'failed', summary: over };
      const messages = buildMessages({
        title: ctx.request.title,
        description: ctx.request.description,
        context: ctx.state.context,
        feedback: ctx.feedback,
        previousPatch,
        formatError,
      });
      let reply: Awaited<ReturnType<typeof llm.chat>>;
      try {
        reply = await llm.chat({
          messages,
          model: llmConfig.model,
          temperature: llmConfig.temperature,
          maxTokens: llmConfig.max_tokens,
          signal: ctx.signal,
        });
      } catch (error) {
        // The port reports a refused request (bad key, unknown model, any 4xx) as a plain Error: that
        // is the service failing the task (exit 1, recorded as failed), not a bug in autodev (exit 70).
        if (error instanceof TransientError || error instanceof AutodevError || !(error instanceof Error) || ctx.signal.aborted) throw error;
        throw new ExternalError(error.message);
      }
      recordUsage(ctx, reply.promptTokens, reply.completionTokens);
      try {
        const generation = parseReply(reply.content);
        ctx.state.generation = generation;
        ctx.state.generations += 1;
        const subject = generation.commitMessage.split('\n')[0];
        return {
          status: 'ok',
          summary: `patch received: "${subject}" (${ctx.state.usage.totalTokens} tokens so far)`,
          data: { subject, patchLines: generation.patch.split('\n').length },
        };
      } catch (error) {
        if (!(error instanceof ReplyFormatError)) throw error;
        formatError = error.message;
        ctx.emit({ type: 'log', level: 'warn', message: `the model's reply was malformed (${error.message}); asking again` });
      }
    }
    return { status: 'failed', summary: `the model's replies were malformed ${FORMAT_RETRIES + 1} times: ${formatError}` };
  },
};

function recordUsage(ctx: Ctx, promptTokens: number, completionTokens: number): void {
  const { config } = ctx.ports;
  const usage = ctx.state.usage;
  usage.promptTokens += promptTokens;
  usage.completionTokens += completionTokens;
  usage.totalTokens += promptTokens + completionTokens;
  usage.calls += 1;
  let cost: number | null = null;
  if (config.llm.prompt_price_per_1k !== undefined || config.llm.completion_price_per_1k !== undefined) {
    cost = (promptTokens / 1000) * (config.llm.prompt_price_per_1k ?? 0) + (completionTokens / 1000) * (config.llm.completion_price_per_1k ?? 0);
    usage.costUsd = (usage.costUsd ?? 0) + cost;
  }
  ctx.emit({ type: 'llm.usage', promptTokens, completionTokens, costUsd: cost });
}

function budgetExceeded(ctx: Ctx): string | null {
  const { llm } = ctx.ports.config;
  const usage = ctx.state.usage;
  if (usage.totalTokens >= llm.max_total_tokens) {
    return `token budget exhausted: ${usage.totalTokens} of llm.max_total_tokens = ${llm.max_total_tokens} used`;
  }
  if (llm.max_cost_usd !== undefined && usage.costUsd !== null && usage.costUsd >= llm.max_cost_usd) {
    return `cost budget exhausted: $${usage.costUsd.toFixed(4)} of llm.max_cost_usd = $${llm.max_cost_usd}`;
  }
  return null;
}
