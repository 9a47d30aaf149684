// The guards' findings in the policy: one reason per code, review (draft, review label) by default,
// deny or off by `policy.guards`, for the whole table or per code.
import { describe, expect, it } from '@jest/globals';
import type { GuardFinding } from '../../src/guards/index.js';
import { buildPolicyInput } from '../../src/policy/input.js';
import { evaluateLocalPolicy } from '../../src/policy/local.js';
import { fromOpaDecision } from '../../src/policy/opa.js';

const FINDINGS: GuardFinding[] = [
  { code: 'test_deleted', file: 'src/lib.rs', line: 14, message: 'test removed (#[test] at old line 14)' },
  { code: 'test_deleted', file: 'tests/a.rs', line: null, message: 'test file tests/a.rs deleted' },
  { code: 'lockfile_changed', file: 'Cargo.lock', line: null, message: 'lockfile Cargo.lock changed' },
];

function input(guardActions?: Parameters<typeof buildPolicyInput>[0]['guardActions'], guards = FINDINGS) {
  return buildPolicyInput({
    task: { title: 't', risk: 'low' },
    diff: '',
    build: { ran: true, passed: true },
    test: { ran: true, passed: true },
    guards,
    ...(guardActions ? { guardActions } : {}),
  });
}

describe('policy: guards', () => {
  it('by default each code is a review: a draft with the review label, every finding in its message', () => {
    const outcome = evaluateLocalPolicy(input());
    expect(outcome.decision).toBe('review');
    expect(outcome.draft).toBe(true);
    expect(outcome.labels).toEqual(['needs-review']);
    expect(outcome.reasons.map((r) => r.code)).toEqual(['test_deleted', 'lockfile_changed']);
    expect(outcome.reasons[0].message).toBe(
      'The change deletes tests: src/lib.rs:14 (test removed (#[test] at old line 14)), tests/a.rs (test file tests/a.rs deleted).',
    );
  });

  it('"deny" denies; a table denies some codes and switches others off', () => {
    expect(evaluateLocalPolicy(input('deny')).decision).toBe('deny');
    const mixed = evaluateLocalPolicy(input({ test_deleted: 'deny', lockfile_changed: 'off' }));
    expect(mixed.decision).toBe('deny');
    expect(mixed.reasons.map((r) => r.code)).toEqual(['test_deleted']);
    const off = evaluateLocalPolicy(input('off'));
    expect(off).toEqual({ decision: 'allow', reasons: [], draft: false, labels: [] });
  });

  it("the input carries every code's action, so OPA decides on the same setting", () => {
    expect(input({ ci_changed: 'deny' }).guards.actions).toEqual({
      test_deleted: 'review',
      test_skipped: 'review',
      assertion_weakened: 'review',
      lint_relaxed: 'review',
      ci_changed: 'deny',
      lockfile_changed: 'review',
      registry_changed: 'review',
    });
  });

  it('an OPA review naming a guard code gets the same draft and label as the local rule', () => {
    const outcome = fromOpaDecision({ allow: true, review: true, reasons: [{ code: 'test_skipped', message: 'x' }] });
    expect(outcome).toMatchObject({ decision: 'review', draft: true, labels: ['needs-review'] });
  });
});
