// codegen: the plan's strategy asks the model for a change, in the plan's edit format, within the
// task's budget (src/generate/). The step only gathers what the strategy is given and keeps the result.
import type { StepResult } from '../engine/types.js';
import { budgetMeter } from '../generate/budget.js';
import { editFormat } from '../generate/formats/index.js';
import { strategyNamed } from '../generate/strategies/index.js';
import { newAgentState, type AgentSession, type AgentWorkspace } from '../generate/agent/types.js';
import type { AgentInputs, CodegenInputs } from '../plan/types.js';
import type { CandidateOrigin, Generation, StrategyInput, StrategyOutcome } from '../generate/types.js';
import { openAgentWorkspace } from './agent-workspace.js';
import type { CandidateRecord, Ctx, StepTool } from './types.js';

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
      reproduction: ctx.state.reproduction,
      repair: ctx.feedback ? { feedback: ctx.feedback, previousPatch: ctx.state.generation?.patch ?? null } : null,
      repairs: ctx.feedback ? candidatesToRepair(ctx.state.candidates) : null,
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
    if (settings.strategy === 'candidates') return keepCandidates(ctx, outcome);
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

/** The failed candidates the select step picked for this repair round, each with its own failure. */
function candidatesToRepair(candidates: CandidateRecord[]): NonNullable<StrategyInput['repairs']> {
  return candidates
    .filter((c) => c.repairNext)
    .map((c) => ({
      id: c.id,
      model: c.model,
      format: c.requestedFormat,
      temperature: c.temperature,
      feedback: c.feedback ?? c.failure ?? 'it did not meet the bar',
      previousPatch: c.generation.patch,
    }));
}

/** The round's candidates go on the blackboard for the select step, which verifies and ranks them. */
function keepCandidates(ctx: Ctx, outcome: Extract<StrategyOutcome, { status: 'generated' }>): StepResult {
  const state = ctx.state;
  for (const c of state.candidates) delete c.repairNext;
  const add = (generation: Generation, origin: CandidateOrigin, status: CandidateRecord['status'], why: string): CandidateRecord => {
    const record: CandidateRecord = {
      id: `c${state.candidates.length + 1}`,
      round: ctx.round,
      model: origin.model,
      requestedFormat: origin.requestedFormat,
      format: status === 'malformed' ? null : (generation.format ?? origin.requestedFormat),
      temperature: origin.temperature,
      tokens: { prompt: origin.promptTokens, completion: origin.completionTokens },
      repairs: origin.repairs ?? null,
      status,
      applyStrategy: null,
      apply: 'not run',
      build: 'not run',
      test: 'not run',
      lint: 'not run',
      newFailures: null,
      reproductionPasses: null,
      targetTestsPass: null,
      newLint: null,
      meetsBar: false,
      rank: null,
      votes: 0,
      diffLines: 0,
      why,
      failure: status === 'malformed' ? why : null,
      feedback: null,
      generation,
    };
    state.candidates.push(record);
    return record;
  };
  for (const generation of outcome.candidates) add(generation, generation.origin!, 'pending', 'not verified yet');
  for (const drop of outcome.dropped ?? []) {
    const record = add({ rationale: '', commitMessage: '', patch: '' }, drop.origin, 'malformed', drop.reason);
    ctx.emit({
      type: 'candidate',
      candidate: record.id,
      model: record.model,
      format: record.requestedFormat,
      outcome: 'malformed',
      applied: false,
    });
  }
  for (const note of outcome.notes ?? []) state.notes.push(note);
  state.generations += 1;
  const formats = [...new Set(outcome.candidates.map((g) => g.format ?? g.origin!.requestedFormat))].join(', ');
  const dropped = outcome.dropped?.length ? `, ${outcome.dropped.length} unusable` : '';
  return {
    status: 'ok',
    summary: `${outcome.candidates.length} candidate(s) received (${formats})${dropped} (${state.usage.totalTokens} tokens so far)`,
    data: { candidates: outcome.candidates.length, dropped: outcome.dropped?.length ?? 0, notes: outcome.notes ?? [] },
  };
}

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
