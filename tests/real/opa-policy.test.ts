// The Rego policy the repository ships (policy/autodev.rego) in a real `opa run --server`, against the
// local rules (src/policy/local.ts) on the same inputs: the same decision, reason codes, draft flag
// and labels for every code, guards reviewing and denying alike, denials with review rules beside them. The opa binary is the one .ci/run
// builds (tests/support/go-tools.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { PolicyDependencies } from '../../src/depcheck/types.js';
import { GUARD_CODES, type GuardFinding } from '../../src/guards/index.js';
import { buildPolicyInput, type PolicyInputParts } from '../../src/policy/input.js';
import { evaluateLocalPolicy, LOCAL_RULES } from '../../src/policy/local.js';
import { fromOpaDecision } from '../../src/policy/opa.js';
import { createOpa } from '../../src/ports/opa.js';
import { builtVersion, goTool, startRealOpa, type RealOpa } from '../support/go-tools.js';

const REGO = path.resolve(import.meta.dirname, '../../policy/autodev.rego');

const MIGRATION =
  'diff --git a/db/migrations/1.sql b/db/migrations/1.sql\nnew file mode 100644\n--- /dev/null\n+++ b/db/migrations/1.sql\n@@ -0,0 +1 @@\n+ALTER TABLE users ADD COLUMN email TEXT;\n';

const dep = { ecosystem: 'cargo', direct: true, kind: 'normal', member: 'calc', manifest: 'Cargo.toml' } as const;
const DEPENDENCIES: PolicyDependencies = {
  added: [{ ...dep, name: 'serde', requirement: '^1', version: '1.0.210', source: null }],
  removed: [],
  changed: [{ ...dep, name: 'rand', change: 'downgraded', from: '0.8.5', to: '0.8.4' }],
  sources: [
    {
      ...dep,
      name: 'log',
      from: { kind: 'registry', location: 'crates.io' },
      to: { kind: 'git', location: 'https://example.invalid/log' },
    },
  ],
} as PolicyDependencies;

const finding = (code: GuardFinding['code']): GuardFinding => ({ code, file: 'src/lib.rs', line: 3, message: `${code} here` });

const OK: Partial<PolicyInputParts> = {
  build: { ran: true, passed: true },
  test: { ran: true, passed: true },
  lint: { ran: true, passed: true, newWarnings: 0 },
};

/** One case per way a rule fires (and a clean one), named for the failure message. */
const CASES: [string, Partial<PolicyInputParts>][] = [
  ['clean', OK],
  ['build failed', { ...OK, build: { ran: true, passed: false } }],
  ['tests failed, unnamed', { ...OK, test: { ran: true, passed: false, failures: [] } }],
  ['tests failed, a new failure', { ...OK, test: { ran: true, passed: false, failures: ['a', 'b'] }, baselineFailures: ['a'] }],
  ['tests failed only as on the base', { ...OK, test: { ran: true, passed: false, failures: ['a'] }, baselineFailures: ['a'] }],
  ['new lint warnings', { ...OK, lint: { ran: true, passed: true, newWarnings: 2 } }],
  ['linter failed', { ...OK, lint: { ran: true, passed: false, newWarnings: 0 } }],
  ['linter failed on the base too', { ...OK, lint: { ran: true, passed: false, newWarnings: 0 }, baselineFailures: ['lint'] }],
  ['secrets', { ...OK, secrets: [{ rule: 'github-pat', description: 'x', file: 'a.rs', line: 1, redacted: 'ghp_****' }] }],
  ['high risk', { ...OK, task: { title: 't', risk: 'high' } }],
  ['sql', { ...OK, diff: MIGRATION }],
  ['dependencies', { ...OK, dependencies: DEPENDENCIES }],
  ['dependencies without the source switch', { ...OK, dependencies: { ...DEPENDENCIES, sources: [] } }],
  ['every guard, review', { ...OK, guards: GUARD_CODES.map(finding) }],
  ['every guard, deny', { ...OK, guards: GUARD_CODES.map(finding), guardActions: 'deny' }],
  ['guards by code', { ...OK, guards: GUARD_CODES.map(finding), guardActions: { test_deleted: 'deny', lockfile_changed: 'off' } }],
  ['guards off, high risk', { ...OK, guards: [finding('test_skipped')], guardActions: 'off', task: { title: 't', risk: 'high' } }],
  // Denied while review rules (draft, labels) fire too.
  [
    'denied beside reviews',
    { ...OK, build: { ran: true, passed: false }, task: { title: 't', risk: 'high' }, diff: MIGRATION, dependencies: DEPENDENCIES },
  ],
];

function input(parts: Partial<PolicyInputParts>) {
  return buildPolicyInput({ task: { title: 't', risk: 'low' }, diff: '', ...parts });
}

// Everything the pr step acts on, denials included: both go through one mapping (no draft, no labels when denied).
function comparable(outcome: ReturnType<typeof evaluateLocalPolicy>) {
  return {
    decision: outcome.decision,
    codes: outcome.reasons.map((r) => r.code).sort(),
    draft: outcome.draft,
    labels: [...outcome.labels].sort(),
  };
}

let opa: RealOpa;
beforeAll(async () => {
  opa = await startRealOpa([REGO]);
}, 60_000);
afterAll(async () => {
  await opa?.close();
});

describe('policy/autodev.rego in a real OPA server', () => {
  it('is OPA v1.22.4, the version .ci/run pins', () => {
    expect(builtVersion(goTool('opa'))).toBe('v1.22.4');
  });

  it.each(CASES)('agrees with the local rules: %s', async (_name, parts) => {
    const client = createOpa({ url: opa.url, policyPackage: 'autodev.policy', timeoutMs: 10_000 });
    const doc = input(parts);
    const local = comparable(evaluateLocalPolicy(doc));
    const remote = comparable(fromOpaDecision(await client.evaluate(doc)));
    expect(remote).toEqual(local);
  });

  it('the cases fire every reason code of the local rules, so a rule without its Rego twin fails above', () => {
    const fired = new Set(CASES.flatMap(([, parts]) => evaluateLocalPolicy(input(parts)).reasons.map((r) => r.code)));
    expect([...fired].sort()).toEqual(LOCAL_RULES.map((r) => r.code).sort());
  });
});
