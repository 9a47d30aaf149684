import { describe, expect, it } from '@jest/globals';
import type { EngineEvent } from '../../src/engine/types.js';
import { combineSubscribers, makeSubscriber } from '../../src/observe/types.js';
import { scripter } from './helpers.js';

describe('combineSubscribers', () => {
  it('gives every event to every subscriber even when one throws, and closes all before reporting a failure', async () => {
    const seen: string[] = [];
    const closed: string[] = [];
    const good = makeSubscriber(
      (e: EngineEvent) => seen.push(e.type),
      async () => {
        closed.push('good');
      },
    );
    const bad = makeSubscriber(
      () => {
        throw new Error('boom');
      },
      async () => {
        closed.push('bad');
        throw new Error('close failed');
      },
    );
    const all = combineSubscribers([bad, good]);
    const s = scripter();
    expect(() => all(s.status('planning'))).not.toThrow();
    all(s.started('clone'));
    expect(seen).toEqual(['task.status', 'step.started']);
    await expect(all.close()).rejects.toThrow('close failed');
    expect(closed.sort()).toEqual(['bad', 'good']);
  });
});
