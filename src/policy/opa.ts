// OPA answers allow/review with reason codes; the pr step wants the same outcome as the local
// rules. Known codes bring the local rules' labels and draft flag, so a Rego policy that mirrors
// the local one behaves the same on GitHub.

import type { OpaDecision } from '../ports/types.js';
import { DEFAULT_LOCAL_POLICY, LOCAL_RULES, combine, type LocalPolicyConfig } from './local.js';
import type { PolicyDecision, PolicyOutcome } from './types.js';

/** Map OPA's decision to `{decision, reasons, draft, labels}`. */
export function fromOpaDecision(
  opa: OpaDecision,
  config: Partial<Pick<LocalPolicyConfig, 'reviewLabel' | 'dbaLabel'>> = {},
): PolicyOutcome {
  const c: LocalPolicyConfig = {
    ...DEFAULT_LOCAL_POLICY,
    ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
  };
  const reasons = (opa.reasons ?? []).map((r) => ({ code: String(r.code ?? 'opa'), message: String(r.message ?? '') }));
  const fired = reasons.map((reason) => {
    const rule = LOCAL_RULES.find((r) => r.code === reason.code);
    return {
      // A reason is data; OPA's own allow/review flags decide below, whatever codes it used.
      effect: 'allow' as PolicyDecision,
      draft: rule?.draft ?? false,
      label: rule ? rule.label(c) : null,
      reason,
    };
  });
  const outcome = combine(fired);
  const decision: PolicyDecision = !opa.allow ? 'deny' : opa.review ? 'review' : 'allow';
  const labels = decision === 'review' && outcome.labels.length === 0 ? [c.reviewLabel] : outcome.labels;
  // Review without a more specific rule is the high-risk case: a draft, so a human must act.
  const draft = decision === 'review' && (outcome.draft || !fired.some((f) => f.label !== null));
  const fallback =
    decision === 'deny' && reasons.length === 0 ? [{ code: 'opa_denied', message: 'OPA denied the change without a reason.' }] : [];
  return { decision, reasons: [...reasons, ...fallback], draft, labels: decision === 'deny' ? [] : labels };
}
