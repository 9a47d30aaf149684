import { describe, expect, it } from '@jest/globals';
import { buildPolicyInput, type PolicyInputParts } from '../../src/policy/input.js';
import { evaluateLocalPolicy, LOCAL_RULES } from '../../src/policy/local.js';

const CODE_DIFF = [
  'diff --git a/src/lib.rs b/src/lib.rs',
  '--- a/src/lib.rs',
  '+++ b/src/lib.rs',
  '@@ -1,3 +1,4 @@',
  ' pub fn add(a: i32, b: i32) -> i32 {',
  '-    a + b',
  '+    // saturating, so overflow is not a panic',
  '+    a.saturating_add(b)',
  ' }',
  '',
].join('\n');

const MIGRATION_DIFF = [
  'diff --git a/db/migrations/0002_users.sql b/db/migrations/0002_users.sql',
  'new file mode 100644',
  '--- /dev/null',
  '+++ b/db/migrations/0002_users.sql',
  '@@ -0,0 +1 @@',
  '+ALTER TABLE users ADD COLUMN email TEXT;',
  '',
].join('\n');

function input(overrides: Partial<PolicyInputParts> = {}) {
  return buildPolicyInput({
    task: { title: 'Use saturating add', risk: 'low' },
    diff: CODE_DIFF,
    build: { ran: true, passed: true },
    test: { ran: true, passed: true },
    lint: { ran: true, passed: true, newWarnings: 0 },
    secrets: [],
    ...overrides,
  });
}

describe('policy input', () => {
  it('counts the change and finds no SQL in ordinary code', () => {
    const i = input();
    expect(i.change).toEqual({ files: ['src/lib.rs'], additions: 2, deletions: 1, touchesSql: false, sqlFiles: [] });
    expect(i.task).toEqual({ title: 'Use saturating add', risk: 'low' });
  });

  it('treats .sql files, migrations folders and upper-case DDL in added lines as SQL', () => {
    expect(input({ diff: MIGRATION_DIFF }).change.sqlFiles).toEqual(['db/migrations/0002_users.sql']);
    const rustMigration = [
      'diff --git a/src/store.rs b/src/store.rs',
      '--- a/src/store.rs',
      '+++ b/src/store.rs',
      '@@ -1 +1,2 @@',
      ' use sqlx::query;',
      '+const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY)";',
      '',
    ].join('\n');
    expect(input({ diff: rustMigration }).change).toMatchObject({ touchesSql: true, sqlFiles: ['src/store.rs'] });
    const prose = CODE_DIFF.replace('// saturating, so overflow is not a panic', '// we may drop table support later');
    expect(input({ diff: prose }).change.touchesSql).toBe(false);
  });

  it('says a step without an outcome did not run', () => {
    const i = buildPolicyInput({ task: { title: 't', risk: 'low' }, diff: CODE_DIFF });
    expect(i.verification.build).toEqual({ ran: false, passed: true });
    expect(i.verification.test).toEqual({ ran: false, passed: true, failures: [] });
    expect(evaluateLocalPolicy(i).decision).toBe('allow');
  });
});

describe('local policy rules', () => {
  it('allows a low-risk change that builds, passes tests and lint, with no secrets', () => {
    expect(evaluateLocalPolicy(input())).toEqual({ decision: 'allow', reasons: [], draft: false, labels: [] });
  });

  it('build_failed: deny', () => {
    const out = evaluateLocalPolicy(input({ build: { ran: true, passed: false } }));
    expect(out.decision).toBe('deny');
    expect(out.reasons.map((r) => r.code)).toEqual(['build_failed']);
  });

  it('tests_failed: deny, naming the new failures; pre-existing failures alone do not deny', () => {
    const out = evaluateLocalPolicy(
      input({ test: { ran: true, passed: false, failures: ['math::adds', 'io::reads'] }, baselineFailures: ['io::reads'] }),
    );
    expect(out).toMatchObject({ decision: 'deny', reasons: [{ code: 'tests_failed', message: 'Tests must pass; failing: math::adds.' }] });
    const onlyOld = evaluateLocalPolicy(
      input({ test: { ran: true, passed: false, failures: ['io::reads'] }, baselineFailures: ['io::reads'] }),
    );
    expect(onlyOld.decision).toBe('allow');
    const unnamed = evaluateLocalPolicy(input({ test: { ran: true, passed: false } }));
    expect(unnamed.reasons.map((r) => r.code)).toEqual(['tests_failed']);
  });

  it('lint_warnings: deny on any new warning, or a lint failure the base did not have', () => {
    const warned = evaluateLocalPolicy(input({ lint: { ran: true, passed: true, newWarnings: 2 } }));
    expect(warned).toMatchObject({
      decision: 'deny',
      reasons: [{ code: 'lint_warnings', message: 'The change adds 2 lint warnings (allowed: 0).' }],
    });
    expect(evaluateLocalPolicy(input({ lint: { ran: true, passed: true, newWarnings: 2 } }), { maxNewLintWarnings: 2 }).decision).toBe(
      'allow',
    );
    expect(evaluateLocalPolicy(input({ lint: { ran: true, passed: false, newWarnings: 0 } })).reasons.map((r) => r.code)).toEqual([
      'lint_warnings',
    ]);
    expect(evaluateLocalPolicy(input({ lint: { ran: true, passed: false, newWarnings: 0 }, baselineFailures: ['lint'] })).decision).toBe(
      'allow',
    );
  });

  it('secrets_found: deny, saying where but not what', () => {
    const out = evaluateLocalPolicy(
      input({ secrets: [{ rule: 'github-token', description: 'GitHub token', file: 'src/a.ts', line: 4, redacted: 'ghp_****' }] }),
    );
    expect(out).toEqual({
      decision: 'deny',
      reasons: [{ code: 'secrets_found', message: '1 possible secret in the added lines: github-token at src/a.ts:4.' }],
      draft: false,
      labels: [],
    });
  });

  it('high_risk_review: review, as a draft labelled needs-review', () => {
    const out = evaluateLocalPolicy(input({ task: { title: 'Rewrite auth', risk: 'high' } }));
    expect(out).toMatchObject({ decision: 'review', draft: true, labels: ['needs-review'], reasons: [{ code: 'high_risk_review' }] });
    expect(evaluateLocalPolicy(input({ task: { title: 'x', risk: 'medium' } })).decision).toBe('allow');
    expect(evaluateLocalPolicy(input({ task: { title: 'x', risk: 'medium' } }), { reviewRisks: ['medium', 'high'] }).decision).toBe(
      'review',
    );
  });

  it('sql_needs_dba: review with the needs-dba label, not a draft', () => {
    const out = evaluateLocalPolicy(input({ diff: MIGRATION_DIFF }));
    expect(out).toEqual({
      decision: 'review',
      reasons: [{ code: 'sql_needs_dba', message: 'SQL changes need DBA approval (db/migrations/0002_users.sql).' }],
      draft: false,
      labels: ['needs-dba'],
    });
    expect(evaluateLocalPolicy(input({ diff: MIGRATION_DIFF }), { sqlNeedsDba: false }).decision).toBe('allow');
  });

  it('deny wins over review, and every fired rule gives its reason, in table order', () => {
    const out = evaluateLocalPolicy(
      input({
        task: { title: 'x', risk: 'high' },
        diff: MIGRATION_DIFF,
        build: { ran: true, passed: false },
        test: { ran: true, passed: false },
        lint: { ran: true, passed: true, newWarnings: 1 },
        secrets: [{ rule: 'jwt', description: 'JWT', file: 'a', line: 1, redacted: 'eyJ****' }],
      }),
    );
    expect(out.decision).toBe('deny');
    expect(out.reasons.map((r) => r.code)).toEqual([
      'build_failed',
      'tests_failed',
      'lint_warnings',
      'secrets_found',
      'high_risk_review',
      'sql_needs_dba',
    ]);
    // Denied: no pull request, so no draft and no labels, whatever review rules fired beside (as OPA's mapping says).
    expect(out.labels).toEqual([]);
    expect(out.draft).toBe(false);
  });

  it('a disabled rule does not fire, and labels are configurable', () => {
    const i = input({ task: { title: 'x', risk: 'high' }, diff: MIGRATION_DIFF });
    const out = evaluateLocalPolicy(i, { disabled: ['high_risk_review'], dbaLabel: 'dba-approval' });
    expect(out).toMatchObject({ decision: 'review', draft: false, labels: ['dba-approval'] });
  });

  it('has one table row per documented code', () => {
    expect(LOCAL_RULES.map((r) => `${r.code}:${r.effect}`)).toEqual([
      'build_failed:deny',
      'tests_failed:deny',
      'lint_warnings:deny',
      'secrets_found:deny',
      'high_risk_review:review',
      'sql_needs_dba:review',
      'new_dependency:review',
      'dependency_source_changed:deny',
      'dependency_downgraded:review',
      // The guards' codes: review unless policy.guards denies (tests/policy/guards.test.ts).
      'test_deleted:review',
      'test_skipped:review',
      'assertion_weakened:review',
      'lint_relaxed:review',
      'ci_changed:review',
      'lockfile_changed:review',
      'registry_changed:review',
    ]);
  });
});
