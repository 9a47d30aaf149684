// Candidate metrics come from `candidate` events only: each candidate counted by model, the format
// it was asked for and its outcome, and those that did not apply counted as apply failures.
import { describe, expect, it } from '@jest/globals';
import type { EngineEvent } from '../../src/engine/types.js';
import { createMetrics } from '../../src/observe/metrics.js';

function candidate(
  id: string,
  model: string,
  format: string,
  outcome: 'chosen' | 'dropped' | 'malformed' | 'abstained',
  applied: boolean,
): EngineEvent {
  return { type: 'candidate', taskId: 't1', candidate: id, model, format, outcome, applied };
}

describe('candidate metrics', () => {
  it('counts candidates per model, format and outcome, and apply failures per model and format', async () => {
    const metrics = createMetrics();
    metrics.subscriber(candidate('c1', 'gpt-4o', 'apply-patch', 'chosen', true));
    metrics.subscriber(candidate('c2', 'gpt-4o', 'apply-patch', 'dropped', false));
    metrics.subscriber(candidate('c3', 'qwen3', 'search-replace', 'malformed', false));
    metrics.subscriber(candidate('c4', 'gpt-4o', 'apply-patch', 'dropped', true));
    const text = await metrics.text();
    expect(text).toContain('autodev_candidates_total{model="gpt-4o",format="apply-patch",outcome="chosen"} 1');
    expect(text).toContain('autodev_candidates_total{model="gpt-4o",format="apply-patch",outcome="dropped"} 2');
    expect(text).toContain('autodev_candidates_total{model="qwen3",format="search-replace",outcome="malformed"} 1');
    expect(text).toContain('autodev_candidate_apply_failures_total{model="gpt-4o",format="apply-patch"} 1');
    expect(text).toContain('autodev_candidate_apply_failures_total{model="qwen3",format="search-replace"} 1');
  });
});
