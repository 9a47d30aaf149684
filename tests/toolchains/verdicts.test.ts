// Per-test verdicts, base against head: every kind, the order a reviewer reads them in, flaky tests
// set apart whatever their last result, doc tests matched without their moving line.
import { describe, expect, it } from '@jest/globals';
import { testVerdicts } from '../../src/toolchains/compare.js';

const fail = (name: string, output = 'boom') => ({ name, output });

describe('testVerdicts', () => {
  it('gives every test one verdict, what the change did first', () => {
    const base = { passed: ['a::keeps', 'a::breaks', 'a::wobbles', 'a::removed'], failed: [fail('a::fixes'), fail('a::stays')] };
    const head = { passed: ['a::keeps', 'a::fixes', 'a::added'], failed: [fail('a::breaks'), fail('a::stays'), fail('a::wobbles')] };
    expect(testVerdicts(base, head, ['a::wobbles'])).toEqual([
      { name: 'a::fixes', verdict: 'fixed', base: 'failed', head: 'passed' },
      { name: 'a::breaks', verdict: 'regressed', base: 'passed', head: 'failed' },
      { name: 'a::wobbles', verdict: 'flaky', base: 'passed', head: 'failed' },
      { name: 'a::added', verdict: 'new', base: null, head: 'passed' },
      { name: 'a::stays', verdict: 'still_failing', base: 'failed', head: 'failed' },
      { name: 'a::removed', verdict: 'gone', base: 'passed', head: null },
      { name: 'a::keeps', verdict: 'passed', base: 'passed', head: 'passed' },
    ]);
  });

  it('a flaky test set aside from the head run is still listed, as flaky', () => {
    expect(testVerdicts({ passed: ['t'], failed: [] }, { passed: [], failed: [] }, ['t'])).toEqual([
      { name: 't', verdict: 'flaky', base: 'passed', head: null },
    ]);
  });

  it('matches doc tests without their line, named as the head names them', () => {
    const verdicts = testVerdicts(
      { passed: [], failed: [fail('src/lib.rs - add (line 3)')] },
      { passed: ['src/lib.rs - add (line 5)'], failed: [] },
    );
    expect(verdicts).toEqual([{ name: 'src/lib.rs - add (line 5)', verdict: 'fixed', base: 'failed', head: 'passed' }]);
  });
});
