export { buildPolicyInput, hasDdl, isSqlPath, sqlFilesOf, type CheckOutcome, type LintOutcome, type PolicyInput, type PolicyInputParts, type TestOutcome } from './input.js';
export { DEFAULT_LOCAL_POLICY, evaluateLocalPolicy, LOCAL_RULES, newTestFailures, type LocalPolicyConfig, type LocalReasonCode, type PolicyRule } from './local.js';
export { fromOpaDecision } from './opa.js';
export type { PolicyDecision, PolicyOutcome, PolicyReason } from './types.js';
