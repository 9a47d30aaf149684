// policy: the local rules, or OPA when opa_url is set, decide on one input document.
import { policyDependencies } from '../depcheck/index.js';
import { checkGuards, type GuardFinding, type GuardsSetting } from '../guards/index.js';
import { TOOLCHAINS } from '../toolchains/registry.js';
import { buildPolicyInput, evaluateLocalPolicy, fromOpaDecision, type PolicyOutcome } from '../policy/index.js';
import { inputsOf, type PolicyInputs } from '../plan/types.js';
import type { StepTool, TaskState } from './types.js';

export const policyTool: StepTool = {
  name: 'policy',
  async run(ctx) {
    const { state } = ctx;
    if (!state.change) return { status: 'failed', summary: 'no change to check' };
    const inputs = inputsOf<PolicyInputs>(ctx.step);
    state.guards = guardFindings(state.change.diff);
    const input = policyInput(state, ctx.request.title, ctx.request.risk, inputs.guards);
    let outcome: PolicyOutcome;
    let engine: 'local' | 'opa' = 'local';
    if (ctx.ports.opa) {
      engine = 'opa';
      const opa = await ctx.ports.opa();
      outcome = fromOpaDecision(await opa.evaluate(input, ctx.signal));
    } else {
      outcome = evaluateLocalPolicy(input, {
        allowDependencySourceChange: inputs.engine === 'local' && inputs.allowDependencySourceChange,
      });
    }
    state.policy = { engine, ...outcome };
    const codes = outcome.reasons.map((r) => r.code);
    const data = { engine, decision: outcome.decision, reasons: outcome.reasons, draft: outcome.draft, labels: outcome.labels };
    if (outcome.decision === 'deny') {
      return {
        status: 'denied',
        summary: `denied by ${engine} policy: ${outcome.reasons.map((r) => `${r.code} (${r.message})`).join('; ')}`,
        data,
      };
    }
    const review = outcome.decision === 'review' ? `; needs review: ${codes.join(', ')} (draft PR)` : '';
    return { status: 'ok', summary: `allowed by ${engine} policy${review}`, data, advance: 'verified' };
  },
};

/** The guards over the change's diff, with every registered toolchain's test files and lockfiles. */
export function guardFindings(diff: string): GuardFinding[] {
  return checkGuards(diff, {
    isTestFile: (file) => TOOLCHAINS.some((t) => t.isTestFile(file)),
    lockfiles: TOOLCHAINS.flatMap((t) => t.context.lockfiles),
  });
}

export function policyInput(state: TaskState, title: string, risk: 'low' | 'medium' | 'high', guards: GuardsSetting = 'review') {
  const { verify, baseline } = state;
  const baselineFailures = [
    ...(baseline.test?.tests?.failed.map((f) => f.name) ?? []),
    ...(['build', 'test', 'lint'] as const).filter((k) => baseline[k] && !baseline[k]!.ok && !baseline[k]!.tests?.failed.length),
  ];
  return buildPolicyInput({
    task: { title, risk },
    diff: state.change?.diff ?? '',
    build: verify.build ? { ran: true, passed: verify.build.ok || Boolean(verify.build.failsOnBaseToo) } : undefined,
    test: verify.test ? { ran: true, passed: verify.test.ok, failures: verify.test.tests?.failed.map((f) => f.name) ?? [] } : undefined,
    lint: verify.lint ? { ran: true, passed: true, newWarnings: verify.lint.added ?? 0 } : undefined,
    secrets: state.secrets?.findings ?? [],
    baselineFailures,
    guards: state.guards ?? [],
    guardActions: guards,
    ...(state.dependencies ? { dependencies: policyDependencies(state.dependencies) } : {}),
  });
}
