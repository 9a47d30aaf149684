// The figures of an eval: the counts behind each percentage, the trust figure, quantiles, and the renderings.
import { describe, expect, it } from '@jest/globals';
import { computeFigures, renderMarkdown, renderPlot, renderText } from '../../src/eval/figures.js';
import type { EvalCategory, EvalOutcome } from '../../src/eval/results.js';
import { evalVariants } from '../../src/eval/run.js';

function outcome(task: string, model: string, category: EvalCategory, extra: Partial<EvalOutcome> = {}): EvalOutcome {
  return {
    v: 1,
    task,
    model,
    category,
    status: category === 'resolved' || category === 'wrong' ? 'verified' : 'failed',
    claimed: category === 'resolved' || category === 'wrong',
    resolved: category === 'resolved',
    reason: null,
    grade: null,
    rounds: 1,
    applyFailures: 0,
    usage: { promptTokens: 100, completionTokens: 10, calls: 1, costUsd: 0.01 },
    wallMs: 1000,
    finishedAt: '2026-12-03T00:00:00.000Z',
    ...extra,
  };
}

const outcomes = [
  outcome('t1', 'a', 'resolved', { wallMs: 1000 }),
  outcome('t2', 'a', 'wrong', { wallMs: 2000, applyFailures: 2, rounds: 2 }),
  outcome('t3', 'a', 'abstained', { wallMs: 3000, rounds: 0 }),
  outcome('t4', 'a', 'failed', { wallMs: 10_000 }),
  outcome('t1', 'b', 'resolved', { usage: { promptTokens: 50, completionTokens: 5, calls: 1, costUsd: null } }),
];

describe('computeFigures', () => {
  it('counts per model: resolved, verified-but-wrong, abstained, apply failures, claim precision, tokens, cost, time quantiles', () => {
    const { models } = computeFigures(outcomes, ['a', 'b'], ['t1', 't2', 't3', 't4']);
    expect(models[0]).toEqual({
      model: 'a',
      tasks: 4,
      resolved: 1,
      wrong: 1,
      abstained: 1,
      failed: 1,
      errors: 0,
      applyFailures: 1,
      resolvedPct: 25,
      wrongPct: 25,
      abstainedPct: 25,
      applyFailurePct: 25,
      claimPrecisionPct: 50,
      meanRounds: 1,
      promptTokens: 400,
      completionTokens: 40,
      costUsd: 0.04,
      wallMsMedian: 2000,
      wallMsP90: 10_000,
    });
    // An unknown price makes the total unknown, not zero.
    expect(models[1]).toMatchObject({ tasks: 1, resolvedPct: 100, costUsd: null, claimPrecisionPct: 100 });
  });

  it('lists each task with each model’s outcome, "-" in the text where a model did not run it', () => {
    const figures = computeFigures(outcomes, ['a', 'b'], ['t1', 't2']);
    expect(figures.tasks).toEqual([
      { task: 't1', outcomes: { a: 'resolved', b: 'resolved' } },
      { task: 't2', outcomes: { a: 'wrong' } },
    ]);
    const text = renderText(figures);
    expect(text).toMatch(/^model +tasks +resolved +verified but wrong/m);
    expect(text).toMatch(/^a +4 +25\.0% +25\.0%/m);
    expect(text).toMatch(/^t2 +wrong +-$/m);
    const md = renderMarkdown(figures);
    expect(md).toContain('| a | 4 | 25.0% | 25.0% | 25.0% | 25.0% | 1.00 | 400 | 40 | $0.0400 | 2.0s | 10.0s |');
    expect(md).toContain('| t2 | wrong | - |');
  });

  it('plots resolved % against cost per task, or tokens when a cost is unknown', () => {
    const both = renderPlot(computeFigures(outcomes, ['a', 'b'], ['t1']));
    expect(both).toMatch(/^<svg /);
    expect(both).toContain('tokens per task (cost unknown)');
    expect(both).toContain('a (25%, wrong 25%)');
    const priced = renderPlot(computeFigures(outcomes, ['a'], ['t1']));
    expect(priced).toContain('cost per task (USD)');
    expect(priced.match(/<circle /g)).toHaveLength(1);
  });
});

describe('strategies side by side', () => {
  it('runs every model with every strategy, and puts a column per model@strategy in the figures', () => {
    expect(evalVariants(['m1', 'm2'], ['single', 'agent']).map((v) => v.label)).toEqual(['m1@single', 'm1@agent', 'm2@single', 'm2@agent']);
    // Without --strategies the labels stay the model names (earlier results keep their keys).
    expect(evalVariants(['m1'])).toEqual([{ model: 'm1', strategy: undefined, label: 'm1' }]);
    const runs = [
      outcome('t1', 'm', 'failed', { strategy: 'single' }),
      outcome('t1', 'm', 'resolved', { strategy: 'agent' }),
      outcome('t2', 'm', 'wrong', { strategy: 'single' }),
      outcome('t2', 'm', 'abstained', { strategy: 'agent' }),
      outcome('t1', 'm', 'resolved'),
    ];
    const figures = computeFigures(runs, ['m@single', 'm@agent'], ['t1', 't2']);
    expect(figures.models.map((f) => [f.model, f.tasks, f.resolved])).toEqual([
      ['m@single', 2, 0],
      ['m@agent', 2, 1],
    ]);
    expect(figures.tasks).toEqual([
      { task: 't1', outcomes: { 'm@single': 'failed', 'm@agent': 'resolved' } },
      { task: 't2', outcomes: { 'm@single': 'wrong', 'm@agent': 'abstained' } },
    ]);
    expect(renderText(figures)).toMatch(/task\s+m@single\s+m@agent/);
  });
});
