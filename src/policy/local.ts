// The seed system's policy, as a table of rules and a pure function over the policy input. Each
// rule that fires adds a reason with a stable code; any deny wins, then any review, else allow.

import type { RiskTier } from '../plan/types.js';
import { GUARD_CODES, type GuardCode } from '../guards/index.js';
import type { PolicyInput } from './input.js';
import type { PolicyDecision, PolicyOutcome, PolicyReason } from './types.js';

export type LocalReasonCode =
  | 'build_failed'
  | 'tests_failed'
  | 'lint_warnings'
  | 'secrets_found'
  | 'high_risk_review'
  | 'sql_needs_dba'
  | 'new_dependency'
  | 'dependency_source_changed'
  | 'dependency_downgraded'
  | GuardCode;

export interface LocalPolicyConfig {
  /** Risk tiers that need human review: draft PR, review label, never merged by the tool. */
  reviewRisks: RiskTier[];
  /** New lint warnings tolerated over the baseline. */
  maxNewLintWarnings: number;
  /** SQL changes (see input.ts) need a DBA's approval. */
  sqlNeedsDba: boolean;
  reviewLabel: string;
  dbaLabel: string;
  /** A change may switch a dependency to another source (git, path, registry): `policy.allow_dependency_source_change`. */
  allowDependencySourceChange: boolean;
  /** Codes of rules switched off for this repository. */
  disabled: string[];
}

export const DEFAULT_LOCAL_POLICY: LocalPolicyConfig = {
  reviewRisks: ['high'],
  maxNewLintWarnings: 0,
  sqlNeedsDba: true,
  reviewLabel: 'needs-review',
  dbaLabel: 'needs-dba',
  allowDependencySourceChange: false,
  disabled: [],
};

export interface PolicyRule {
  code: LocalReasonCode;
  effect: Exclude<PolicyDecision, 'allow'>;
  /** The effect when it depends on the input (the guards' actions); default `effect`. */
  effectFor?: (input: PolicyInput) => Exclude<PolicyDecision, 'allow'>;
  /** Whether the PR is opened as a draft when this rule fires. */
  draft: boolean;
  label: (config: LocalPolicyConfig) => string | null;
  when: (input: PolicyInput, config: LocalPolicyConfig) => boolean;
  message: (input: PolicyInput, config: LocalPolicyConfig) => string;
}

function list(items: string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** Failing tests the change introduced; pre-existing failures on the base are not held against it. */
export function newTestFailures(input: PolicyInput): string[] {
  const baseline = new Set(input.verification.baselineFailures);
  return input.verification.test.failures.filter((f) => !baseline.has(f));
}

function testsFailed(input: PolicyInput): boolean {
  const test = input.verification.test;
  if (!test.ran || test.passed) return false;
  // Unnamed failures cannot be told apart from the baseline's, so they count.
  return test.failures.length === 0 || newTestFailures(input).length > 0;
}

export const LOCAL_RULES: PolicyRule[] = [
  {
    code: 'build_failed',
    effect: 'deny',
    draft: false,
    label: () => null,
    when: (i) => i.verification.build.ran && !i.verification.build.passed,
    message: () => 'The build failed: a change that does not build is never proposed.',
  },
  {
    code: 'tests_failed',
    effect: 'deny',
    draft: false,
    label: () => null,
    when: testsFailed,
    message: (i) => {
      const fresh = newTestFailures(i);
      return fresh.length > 0 ? `Tests must pass; failing: ${list(fresh)}.` : 'Tests must pass; the test run failed.';
    },
  },
  {
    code: 'lint_warnings',
    effect: 'deny',
    draft: false,
    label: () => null,
    when: (i, c) => {
      const lint = i.verification.lint;
      if (lint.newWarnings > c.maxNewLintWarnings) return true;
      return lint.ran && !lint.passed && !i.verification.baselineFailures.includes('lint');
    },
    message: (i, c) => {
      const n = i.verification.lint.newWarnings;
      if (n > c.maxNewLintWarnings) {
        return `The change adds ${n} lint warning${n === 1 ? '' : 's'} (allowed: ${c.maxNewLintWarnings}).`;
      }
      return 'The linter failed on the change but not on the base.';
    },
  },
  {
    code: 'secrets_found',
    effect: 'deny',
    draft: false,
    label: () => null,
    when: (i) => i.verification.secrets.findings.length > 0,
    message: (i) => {
      const f = i.verification.secrets.findings;
      const where = f.map((x) => `${x.rule} at ${x.file}:${x.line}`);
      return `${f.length} possible secret${f.length === 1 ? '' : 's'} in the added lines: ${list(where)}.`;
    },
  },
  {
    code: 'high_risk_review',
    effect: 'review',
    draft: true,
    label: (c) => c.reviewLabel,
    when: (i, c) => c.reviewRisks.includes(i.task.risk),
    message: (i) => `Risk "${i.task.risk}" needs human review: the PR is opened as a draft and is never merged by autodev.`,
  },
  {
    code: 'sql_needs_dba',
    effect: 'review',
    draft: false,
    label: (c) => c.dbaLabel,
    when: (i, c) => c.sqlNeedsDba && i.change.touchesSql,
    message: (i) => `SQL changes need DBA approval (${list(i.change.sqlFiles)}).`,
  },
  {
    code: 'new_dependency',
    effect: 'review',
    draft: true,
    label: (c) => c.reviewLabel,
    when: (i) => (i.dependencies?.added.length ?? 0) > 0,
    message: (i) => {
      const added = i.dependencies!.added.map(
        (d) =>
          `${d.name}${(d.version ?? d.requirement) ? ` ${d.version ?? d.requirement}` : ''} (${d.direct ? (d.kind ?? 'direct') : 'transitive'})`,
      );
      return `The change adds ${added.length} dependenc${added.length === 1 ? 'y' : 'ies'}: ${list(added)}; a human reviews what it pulls in.`;
    },
  },
  {
    code: 'dependency_source_changed',
    effect: 'deny',
    draft: false,
    label: () => null,
    when: (i, c) => !c.allowDependencySourceChange && (i.dependencies?.sources.length ?? 0) > 0,
    message: (i) => {
      const moved = i.dependencies!.sources.map(
        (s) => `${s.name} (${s.from?.kind ?? '?'} → ${s.to?.kind ?? '?'}${s.to?.location ? ` ${s.to.location}` : ''})`,
      );
      return `The change fetches ${list(moved)} from another source; set policy.allow_dependency_source_change to allow it.`;
    },
  },
  {
    code: 'dependency_downgraded',
    effect: 'review',
    draft: true,
    label: (c) => c.reviewLabel,
    when: (i) => (i.dependencies?.changed ?? []).some((d) => d.change === 'downgraded'),
    message: (i) => {
      const down = i.dependencies!.changed.filter((d) => d.change === 'downgraded').map((d) => `${d.name} ${d.from} → ${d.to}`);
      return `The change downgrades ${list(down)}.`;
    },
  },
  ...GUARD_CODES.map(guardRule),
];

const GUARD_TITLES: Record<GuardCode, string> = {
  test_deleted: 'The change deletes tests',
  test_skipped: 'The change skips or ignores tests',
  assertion_weakened: 'The change removes or loosens assertions',
  lint_relaxed: 'The change relaxes lint or type checks',
  ci_changed: 'The change edits the CI configuration',
  lockfile_changed: 'The change edits a lockfile',
  registry_changed: 'The change edits where packages come from',
};

/**
 * One rule per guard code: it fires on that code's findings unless `policy.guards` switched it off,
 * and reviews (draft, review label) or denies as configured.
 */
function guardRule(code: GuardCode): PolicyRule {
  const findings = (i: PolicyInput) => i.guards.findings.filter((f) => f.code === code);
  return {
    code,
    effect: 'review',
    effectFor: (i) => (i.guards.actions[code] === 'deny' ? 'deny' : 'review'),
    draft: true,
    label: (c) => c.reviewLabel,
    when: (i) => i.guards.actions[code] !== 'off' && findings(i).length > 0,
    message: (i) => {
      const where = findings(i).map((f) => `${f.file}${f.line !== null ? `:${f.line}` : ''} (${f.message})`);
      return `${GUARD_TITLES[code]}: ${list(where, 10)}.`;
    },
  };
}

function withDefaults(config: Partial<LocalPolicyConfig> = {}): LocalPolicyConfig {
  const defined = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_LOCAL_POLICY, ...defined };
}

/** A rule that fired: what it asks for and why. */
interface FiredRule {
  draft: boolean;
  label: string | null;
  reason: PolicyReason;
}

/**
 * The one mapping from a decision and the rules that fired to the outcome the pr step acts on, for
 * the local rules and OPA alike. Denied: no pull request is opened, so no draft and no labels (a
 * review rule that fired beside the denial must not read as "opened as a draft"). Review: the
 * labels of the rules that fired, the review label when none has one; a draft when a rule asks for
 * it or none says more (the high-risk case: a human must act). Allow: no draft.
 */
export function outcomeOf(decision: PolicyDecision, fired: FiredRule[], reviewLabel: string): PolicyOutcome {
  const reasons = fired.map((f) => f.reason);
  if (decision === 'deny') return { decision, reasons, draft: false, labels: [] };
  const named = [...new Set(fired.map((f) => f.label).filter((l): l is string => l !== null && l !== ''))];
  if (decision === 'allow') return { decision, reasons, draft: false, labels: named };
  const labels = named.length > 0 || reviewLabel === '' ? named : [reviewLabel];
  return { decision, reasons, draft: fired.some((f) => f.draft) || !fired.some((f) => f.label !== null), labels };
}

/** The local policy: a pure function of the input and the (partial) config. */
export function evaluateLocalPolicy(input: PolicyInput, config: Partial<LocalPolicyConfig> = {}): PolicyOutcome {
  const c = withDefaults(config);
  const fired = LOCAL_RULES.filter((rule) => !c.disabled.includes(rule.code) && rule.when(input, c)).map((rule) => ({
    effect: rule.effectFor?.(input) ?? rule.effect,
    draft: rule.draft,
    label: rule.label(c),
    reason: { code: rule.code, message: rule.message(input, c) },
  }));
  // Any deny wins, then any review.
  const decision: PolicyDecision = fired.some((f) => f.effect === 'deny') ? 'deny' : fired.length > 0 ? 'review' : 'allow';
  return outcomeOf(decision, fired, c.reviewLabel);
}
