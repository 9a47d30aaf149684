import { describe, expect, it } from '@jest/globals';
import { mergedEvent, statusEvent } from '../../src/engine/lifecycle.js';

describe('the lifecycle outside a run', () => {
  it('moves only a task whose pull request was opened to merged', () => {
    expect(mergedEvent('t1', 'pr_created', '2026-01-01T00:00:00.000Z')).toEqual({
      type: 'task.status',
      taskId: 't1',
      status: 'merged',
      at: '2026-01-01T00:00:00.000Z',
    });
    for (const from of ['failed', 'unproven', 'verified', 'merged', 'cancelled'] as const) expect(mergedEvent('t1', from)).toBeNull();
  });

  it('carries a reason only when there is one', () => {
    expect(statusEvent('t2', 'failed', 'build failed', 'x')).toEqual({
      type: 'task.status',
      taskId: 't2',
      status: 'failed',
      at: 'x',
      reason: 'build failed',
    });
    expect(statusEvent('t2', 'executing', undefined, 'x')).not.toHaveProperty('reason');
  });
});
