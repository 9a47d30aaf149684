// codegen: the plan's strategy asks the model for a change, in the plan's edit format, within the
// task's budget (src/generate/). The step only gathers what the strategy is given and keeps the result.
import type { StepResult } from '../engine/types.js';
import { budgetMeter } from '../generate/budget.js';
import { editFormat } from '../generate/formats/index.js';
import { strategyNamed } from '../generate/strategies/index.js';
import { newAgentState, type AgentSession, type AgentWorkspace } from '../generate/agent/types.js';
import type { AgentInputs, CodegenInputs } from '../plan/types.js';
import { openAgentWorkspace } from './agent-workspace.js';
import type { Ctx, StepTool } from './types.js';

export const codegenTool: StepTool = {
  name: 'codegen',
  async run(ctx): Promise<StepResult> {
    const settings = ctx.step.inputs as CodegenInputs;
    const strategy = strategyNamed(settings.strategy);
    const format = editFormat(settings.format);
    const budget = budgetMeter(settings, ctx.state.usage, (call) => ctx.emit({ type: 'llm.usage', ...call }));
    const agent = settings.agent ? await agentSession(ctx, settings.agent) : undefined;
    const outcome = await strategy.generate({
      task: { title: ctx.request.title, description: ctx.request.description },
      context: ctx.state.context,
      baseline: { failingTests: ctx.state.baseline.test?.tests?.failed.map((f) => f.name) ?? [] },
      repair: ctx.feedback ? { feedback: ctx.feedback, previousPatch: ctx.state.generation?.patch ?? null } : null,
      settings,
      format,
      llm: await ctx.ports.llm(),
      budget,
      signal: ctx.signal,
      warn: (message) => ctx.emit({ type: 'log', level: 'warn', message }),
      agent,
    });
    if (outcome.status === 'stopped') {
      // A repair round the budget cannot pay for is not made: the task ends with the failure it was
      // to repair, and why no round followed.
      if (outcome.budget && ctx.feedback) {
        return { status: 'failed', summary: `${lastFailure(ctx.feedback)}; no repair round: ${outcome.reason}` };
      }
      return { status: 'failed', summary: outcome.reason };
    }
    const [generation] = outcome.candidates;
    ctx.state.generation = generation;
    ctx.state.generations += 1;
    const subject = generation.commitMessage.split('\n')[0];
    const agentState = ctx.state.agent;
    const by = agentState && !agentState.fellBack ? ` after ${agentState.turns} agent turn(s)` : '';
    return {
      status: 'ok',
      summary: `patch received: "${subject}"${by} (${ctx.state.usage.totalTokens} tokens so far)`,
      // The format the model actually wrote, which may not be the one it was asked for.
      data: {
        subject,
        format: generation.format ?? settings.format,
        patchLines: generation.patch.split('\n').length,
        ...(agentState ? { turns: agentState.turns, toolCalls: agentState.toolCalls } : {}),
      },
    };
  },
};

/** The agent's workspace and the conversation kept in the task state, its calls reported as events. */
async function agentSession(ctx: Ctx, inputs: AgentInputs): Promise<AgentSession> {
  ctx.state.agent ??= newAgentState();
  const state = ctx.state.agent;
  const round = ctx.round;
  return {
    workspace: state.fellBack ? unusedWorkspace() : await openAgentWorkspace(ctx, inputs),
    state,
    commands: inputs.commands,
    round,
    onTurn: (turn) => ctx.emit({ type: 'agent.turn', round, turn }),
    onToolCall: (entry) => ctx.emit({ type: 'agent.tool', ...entry }),
  };
}

/** After a fallback to the single strategy no tool is called: no scratch copy is made for it. */
function unusedWorkspace(): AgentWorkspace {
  const none = () => Promise.reject(new Error('the agent fell back to the single strategy'));
  return { listFiles: none, readFile: none, search: none, run: none, edit: none, diff: none };
}

/** The start of a round's feedback on one line, short enough for a summary (the whole is in the log). */
function lastFailure(feedback: string): string {
  const line = feedback.trim().replace(/\s+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
