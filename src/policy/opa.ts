// OPA answers allow/review with reason codes; the pr step wants the same outcome as the local
// rules. Known codes bring the local rules' labels and draft flag, so a Rego policy that mirrors
// the local one behaves the same on GitHub.

import type { OpaDecision } from '../ports/types.js';
import { DEFAULT_LOCAL_POLICY, LOCAL_RULES, outcomeOf, type LocalPolicyConfig } from './local.js';
import type { PolicyDecision, PolicyOutcome } from './types.js';

/** Map OPA's decision to `{decision, reasons, draft, labels}`, through the local rules' one mapping. */
export function fromOpaDecision(
  opa: OpaDecision,
  config: Partial<Pick<LocalPolicyConfig, 'reviewLabel' | 'dbaLabel'>> = {},
): PolicyOutcome {
  const c: LocalPolicyConfig = {
    ...DEFAULT_LOCAL_POLICY,
    ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
  };
  const reasons = (opa.reasons ?? []).map((r) => ({ code: String(r.code ?? 'opa'), message: String(r.message ?? '') }));
  // A reason is data; OPA's own allow/review flags decide, whatever codes it used.
  const fired = reasons.map((reason) => {
    const rule = LOCAL_RULES.find((r) => r.code === reason.code);
    return { draft: rule?.draft ?? false, label: rule ? rule.label(c) : null, reason };
  });
  const decision: PolicyDecision = !opa.allow ? 'deny' : opa.review ? 'review' : 'allow';
  const fallback =
    decision === 'deny' && reasons.length === 0
      ? [{ draft: false, label: null, reason: { code: 'opa_denied', message: 'OPA denied the change without a reason.' } }]
      : [];
  return outcomeOf(decision, [...fired, ...fallback], c.reviewLabel);
}
