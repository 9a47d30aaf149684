export { buildPolicyInput } from './input.js';
export { evaluateLocalPolicy } from './local.js';
export { fromOpaDecision } from './opa.js';
export type { PolicyOutcome } from './types.js';
