/** What a policy decided, from the local rules or from OPA; the pr step acts on it. */
export type PolicyDecision = 'allow' | 'review' | 'deny';

export interface PolicyReason {
  /** Stable, documented code: reaches the user, the audit trail and the metrics. */
  code: string;
  message: string;
}

export interface PolicyOutcome {
  decision: PolicyDecision;
  reasons: PolicyReason[];
  /** Open the PR as a draft (a human has to look before it can be merged). */
  draft: boolean;
  labels: string[];
}
