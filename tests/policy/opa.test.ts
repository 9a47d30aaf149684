import { describe, expect, it } from '@jest/globals';
import { fromOpaDecision } from '../../src/policy/opa.js';

describe('OPA decision mapping', () => {
  it('allow without review is allow', () => {
    expect(fromOpaDecision({ allow: true, review: false, reasons: [] })).toEqual({
      decision: 'allow',
      reasons: [],
      draft: false,
      labels: [],
    });
  });

  it('not allowed is deny, with OPA reasons passed through and no labels', () => {
    const reasons = [
      { code: 'secrets_found', message: '1 possible secret' },
      { code: 'custom_rule', message: 'Friday deploy freeze' },
    ];
    expect(fromOpaDecision({ allow: false, review: true, reasons })).toEqual({ decision: 'deny', reasons, draft: false, labels: [] });
  });

  it('a deny without reasons still says why', () => {
    expect(fromOpaDecision({ allow: false, review: false, reasons: [] }).reasons).toEqual([
      { code: 'opa_denied', message: 'OPA denied the change without a reason.' },
    ]);
  });

  it("review with known codes takes the local rules' draft flag and labels", () => {
    expect(fromOpaDecision({ allow: true, review: true, reasons: [{ code: 'high_risk_review', message: 'high' }] })).toMatchObject({
      decision: 'review',
      draft: true,
      labels: ['needs-review'],
    });
    expect(fromOpaDecision({ allow: true, review: true, reasons: [{ code: 'sql_needs_dba', message: 'sql' }] })).toMatchObject({
      decision: 'review',
      draft: false,
      labels: ['needs-dba'],
    });
  });

  it('review with unknown or no codes is a labelled draft, so a human has to act', () => {
    expect(
      fromOpaDecision(
        { allow: true, review: true, reasons: [{ code: 'big_change', message: '900 lines' }] },
        { reviewLabel: 'autodev/review' },
      ),
    ).toEqual({
      decision: 'review',
      reasons: [{ code: 'big_change', message: '900 lines' }],
      draft: true,
      labels: ['autodev/review'],
    });
  });
});
