// select: the `candidates` strategy's judge. Each candidate of the round is applied in its own copy
// of the task's workspace (a candidate's files never reach the task's clone unless it wins), then
// built, tested and linted there by the plan's own apply/build/test/lint steps and their tools, in
// the sandbox, a few candidates at a time (generate.parallel). The candidates are ranked
// (src/generate/candidate-rank.ts) and the best one that meets the bar becomes the change: the
// normal apply → build → test → lint then run it again in the task's clone, so the tree pushed is
// the tree verified there and its test evidence is gathered as for any change.
//
// When none meets the bar: a repair round goes to the best one or two failed candidates while the
// repair budget lasts; after it, the task abstains: the best candidate goes to a draft pull request
// labelled for a human (generate.on_no_winner = "draft"), or no pull request is opened ("none").
import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { StepResult } from '../engine/types.js';
import { rankCandidates, type CandidateFacts } from '../generate/candidate-rank.js';
import { inputsOf, type PlanStep, type SelectInputs } from '../plan/types.js';
import { privateCopy } from '../ports/sandbox/index.js';
import { newFailures } from '../toolchains/compare.js';
import { toolchainById } from '../toolchains/registry.js';
import { applyTool } from './apply.js';
import type { CandidateRecord, Ctx, StepPorts, StepTool, TaskState } from './types.js';
import { targetTests, verifyTool } from './verify.js';

export const selectTool: StepTool = {
  name: 'select',
  async run(ctx): Promise<StepResult> {
    const inputs = inputsOf<SelectInputs>(ctx.step);
    const state = ctx.state;
    const fresh = state.candidates.filter((c) => c.status === 'pending' && !c.verified);
    await eachAtMost(inputs.parallel, fresh, (c) => verifyCandidate(ctx, c));
    if (ctx.signal.aborted) return { status: 'failed', summary: 'cancelled' };

    const pool = state.candidates.filter((c) => c.status !== 'malformed');
    if (pool.length === 0) return { status: 'failed', summary: 'no candidate to choose from (every reply was unusable)' };
    const ranked = rankCandidates(pool.map(factsOf));
    for (const r of ranked) {
      const record = pool.find((c) => c.id === r.id)!;
      Object.assign(record, { rank: r.rank, votes: r.votes, diffLines: r.diffLines });
      record.why = r.why;
    }
    const best = pool.find((c) => c.id === ranked[0].id)!;
    const table = ranked.map((r) => `${r.id}#${r.rank}`).join(' ');
    if (best.meetsBar) {
      for (const c of pool) c.status = c === best ? 'chosen' : 'dropped';
      best.why = `chosen: ${best.why}`;
      for (const c of pool) if (c !== best) c.why = `dropped: ${c.why}`;
      announce(ctx, pool);
      state.generation = best.generation;
      return {
        status: 'ok',
        summary: `${best.id} chosen of ${state.candidates.length} candidate(s) (${best.model}, ${best.format}): ${best.why.replace(/^chosen: /, '')}`,
        data: { chosen: best.id, ranking: table },
      };
    }

    // None meets the bar. A repair round, while the budget lasts, for the best failed candidates.
    const diagnosis = `no candidate meets the bar (of ${state.candidates.length}): the best, ${best.id}, ${best.failure ?? 'does not meet it'}`;
    const roundsLeft = ctx.plan.repair ? ctx.round < ctx.plan.repair.budget : false;
    if (roundsLeft) {
      const toRepair = ranked
        .map((r) => pool.find((c) => c.id === r.id)!)
        .filter((c) => c.apply === 'ok')
        .slice(0, inputs.repairCandidates);
      for (const c of toRepair) c.repairNext = true;
      return {
        status: 'failed',
        summary: `${diagnosis}; repairing ${toRepair.map((c) => c.id).join(', ') || 'from scratch'}`,
        feedback: best.feedback ?? best.failure ?? diagnosis,
        data: { ranking: table },
      };
    }
    if (best.apply !== 'ok') {
      for (const c of pool) c.status = 'dropped';
      announce(ctx, pool);
      return { status: 'failed', summary: `${diagnosis}; none applies, so there is nothing to show` };
    }
    for (const c of pool) {
      c.status = c === best ? 'abstained' : 'dropped';
      c.why = `${c === best ? 'best, but short of the bar' : 'dropped'}: ${c.why}`;
    }
    announce(ctx, pool);
    if (inputs.onNoWinner === 'draft') {
      state.abstain = { label: inputs.label, diagnosis };
      state.generation = best.generation;
      return {
        status: 'ok',
        summary: `${diagnosis}; it goes to a draft pull request labelled ${inputs.label} (generate.on_no_winner = "draft")`,
        data: { abstained: best.id, ranking: table },
      };
    }
    return {
      status: 'failed',
      summary: `${diagnosis}; no pull request (generate.on_no_winner = "none")`,
      endsAs: 'unproven',
      data: { abstained: best.id, ranking: table },
    };
  },
};

/** Tells the metrics each candidate's fate (once: a candidate's fate is settled in the round that settles it). */
function announce(ctx: Ctx, pool: CandidateRecord[]): void {
  for (const c of pool) {
    if (c.status === 'pending') continue;
    ctx.emit({
      type: 'candidate',
      candidate: c.id,
      model: c.model,
      format: c.requestedFormat,
      outcome: c.status === 'chosen' ? 'chosen' : c.status === 'abstained' ? 'abstained' : 'dropped',
      applied: c.apply === 'ok',
    });
  }
}

function factsOf(c: CandidateRecord, order: number): CandidateFacts {
  return {
    id: c.id,
    order,
    applies: c.apply === 'ok',
    builds: c.apply === 'ok' && c.build !== 'failed',
    newFailures: c.newFailures,
    reproductionPasses: c.reproductionPasses,
    targetTestsPass: c.targetTestsPass,
    newLint: c.newLint,
    diff: c.diff ?? '',
  };
}

/**
 * Applies, builds, tests and lints one candidate in its own copy of the workspace, with the plan's
 * steps and their tools; records each check. Checks after a failed apply or build are not run;
 * test and lint both run on a candidate that builds, since ranking needs both.
 */
async function verifyCandidate(ctx: Ctx, record: CandidateRecord): Promise<void> {
  const dir = path.join(ctx.ports.workspaceDir, 'candidates', record.id);
  await rm(dir, { recursive: true, force: true });
  const copy = await privateCopy(ctx.ports.exec, ctx.state.repoDir, path.join(dir, 'repo'));
  record.verified = true;
  try {
    if (copy.problem) {
      record.apply = 'failed';
      record.failure = `could not copy the workspace: ${copy.problem}`;
      return;
    }
    const state: TaskState = {
      ...ctx.state,
      repoDir: copy.dir,
      generation: record.generation,
      apply: null,
      change: null,
      verify: {},
      notes: [],
    };
    // The candidate's own work area: its reports and per-task caches land under it, not beside another's.
    const ports: StepPorts = { ...ctx.ports, workspaceDir: dir };
    const run = async (step: PlanStep, tool: StepTool): Promise<StepResult> => {
      try {
        return await tool.run({
          ...ctx,
          step,
          state,
          ports,
          emit: (event) => {
            if (event.type === 'step.output') ctx.emit({ ...event, stepId: ctx.step.id, line: `${record.id} ${step.id}: ${event.line}` });
            else if (event.type === 'log') ctx.emit({ ...event, message: `${record.id}: ${event.message}` });
          },
        });
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        return { status: 'failed', summary: `${step.id}: ${error instanceof Error ? error.message : String(error)}` };
      }
    };
    const fail = (kind: 'apply' | 'build' | 'test' | 'lint', result: StepResult): void => {
      record[kind] = 'failed';
      if (record.failure === null) {
        record.failure = `${kind}: ${result.summary}`;
        record.feedback = result.feedback ?? result.summary;
      }
    };
    const stepOf = (tool: string): PlanStep | undefined => ctx.plan.steps.find((s) => s.tool === tool);

    const applyStep = stepOf('apply');
    if (!applyStep) return;
    const applied = await run(applyStep, applyTool);
    record.applyStrategy = state.apply?.strategy ?? null;
    if (applied.status !== 'ok') return fail('apply', applied);
    record.apply = 'ok';
    record.diff = state.change?.diff ?? '';

    const buildStep = stepOf('build');
    if (buildStep) {
      const built = await run(buildStep, verifyTool);
      if (built.status !== 'ok') return fail('build', built);
      record.build = 'ok';
    }
    const testStep = stepOf('test');
    if (testStep) {
      const tested = await run(testStep, verifyTool);
      if (tested.status === 'ok') record.test = 'ok';
      else fail('test', tested);
      judgeTests(ctx, record, state, testStep);
    }
    const lintStep = stepOf('lint');
    if (lintStep) {
      const linted = await run(lintStep, verifyTool);
      if (linted.status === 'ok') record.lint = 'ok';
      else fail('lint', linted);
      record.newLint = state.verify.lint?.added ?? (linted.status === 'ok' ? 0 : null);
    }
    const checks = [record.apply, record.build, record.test, record.lint];
    record.meetsBar = !checks.includes('failed') && record.reproductionPasses !== false;
    if (record.reproductionPasses === false && record.failure === null) {
      record.failure = 'the reproduction test still fails with it';
      record.feedback = `The reproduction test (${ctx.state.reproduction?.tests.join(', ')}) still fails with your change: make it pass.`;
    }
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** New failures, the reproduction test and the tests the task names, from the candidate's test run. */
function judgeTests(ctx: Ctx, record: CandidateRecord, state: TaskState, testStep: PlanStep): void {
  const outcome = state.verify.test;
  const tests = outcome?.tests;
  const compileErrors = outcome?.diagnostics.some((d) => d.level === 'error') ?? false;
  if (!tests || (compileErrors && tests.passed.length === 0 && tests.failed.length === 0)) {
    record.newFailures = null;
  } else {
    record.newFailures = newFailures(ctx.state.baseline.test?.tests?.failed ?? [], tests.failed).length;
  }
  const passed = new Set(tests?.passed ?? []);
  const reproduction = ctx.state.reproduction;
  record.reproductionPasses = reproduction ? reproduction.tests.length > 0 && reproduction.tests.every((t) => passed.has(t)) : null;
  const toolchain = toolchainById(testStep.inputs.toolchain);
  const targets = targetTests(
    (ctx.state.baseline.test?.tests?.failed ?? []).map((f) => f.name),
    `${ctx.request.title}\n${ctx.request.description}`,
    toolchain?.testLeaf ? (name) => toolchain.testLeaf!(name) : undefined,
  );
  record.targetTestsPass = targets.length ? targets.every((t) => passed.has(t)) : null;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachAtMost<T>(limit: number, items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
