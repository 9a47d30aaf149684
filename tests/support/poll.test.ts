// The one poller every wait in the tests goes through: what it returns, when it gives up, and what it says then.
import { describe, expect, it } from '@jest/globals';
import { caught } from './caught.js';
import { until } from './poll.js';

describe('until', () => {
  it('resolves with the first answer that is not undefined, null or false (0 and "" are answers)', async () => {
    const answers: unknown[] = [undefined, null, false, 0];
    expect(await until('a number', () => answers.shift(), 5_000, 1)).toBe(0);
    expect(await until('a string', async () => '', 5_000, 1)).toBe('');
    expect(answers).toEqual([]);
  });

  it('gives up after the timeout, naming what it waited for, computed when it gives up', async () => {
    let seen = 0;
    const error = await caught(
      until(
        () => `the answer (seen ${seen})`,
        () => ((seen += 1), false),
        30,
        5,
      ),
    );
    expect(error.message).toMatch(/^timed out after 30 ms waiting for the answer \(seen \d+\)$/);
    expect(seen).toBeGreaterThan(1);
  });

  it('ends the wait with the error a check throws', async () => {
    const error = await caught(until('never', () => Promise.reject(new Error('the process exited first')), 5_000, 1));
    expect(error.message).toBe('the process exited first');
  });
});
