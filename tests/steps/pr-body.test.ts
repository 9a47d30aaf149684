// The pull request's body is written from what the tool ran, never from what the model says: the
// verification table, the evidence that the change does the task, what already failed on the base,
// the dependency changes, the secrets scan and the policy decision (where a high risk shows).
import { describe, expect, it } from '@jest/globals';
import type { DependencyFinding } from '../../src/depcheck/types.js';
import type { TaskRequest } from '../../src/config/request.js';
import type { Plan, PlanStep } from '../../src/plan/types.js';
import { prBody } from '../../src/steps/pr-body.js';
import { initialState, type TaskState, type VerifyOutcome } from '../../src/steps/types.js';

const REQUEST: TaskRequest = {
  repo: 'acme/calc',
  title: 'Fix add: it subtracts',
  description: 'The function `add` returns a - b.',
  risk: 'medium',
  noPr: false,
  keepWorkspace: false,
  issue: { owner: 'acme', repo: 'calc', number: 42 },
};

function step(tool: PlanStep['tool']): PlanStep {
  return { id: tool, tool, title: tool, sandbox: null, network: false, timeoutSecs: 60, retries: 0, inputs: {} };
}

const PLAN: Plan = {
  toolchain: 'rust',
  toolchainReason: 'Cargo.toml',
  base: 'main',
  branch: 'autodev/fix-add-1234abcd',
  sandbox: 'bwrap',
  repair: { from: 'codegen', budget: 2 },
  steps: (['clone', 'search', 'codegen', 'apply', 'build', 'test', 'lint', 'secrets', 'policy', 'pr'] as const).map(step),
  notes: [],
};

function outcome(summary: string, extra: Partial<VerifyOutcome> = {}): VerifyOutcome {
  return { ok: true, exitCode: 0, summary, diagnostics: [], tests: null, durationMs: 10, ...extra };
}

function failure(name: string) {
  return { name, output: 'assertion failed' };
}

function finding(extra: Partial<DependencyFinding>): DependencyFinding {
  return {
    type: 'added',
    ecosystem: 'cargo',
    name: 'serde',
    direct: true,
    manifest: 'Cargo.toml',
    member: 'calc',
    kind: 'normal',
    target: null,
    from: null,
    to: '^1.0',
    detail: '',
    ...extra,
  };
}

/** A task that got through every check: fixed one test, one other still failing as on the base. */
function verifiedState(): TaskState {
  const state = initialState('/tmp/ws/repo');
  state.baseBranch = 'main';
  state.baseCommit = '0123456789abcdef0123';
  state.generation = { rationale: 'The operator was wrong.', commitMessage: 'Fix add', patch: '--- a/src/lib.rs\n' };
  state.generations = 2;
  state.usage = { promptTokens: 1200, completionTokens: 300, totalTokens: 1500, costUsd: 0.0123, calls: 3 };
  state.apply = { applied: true, files: ['src/lib.rs'], strategy: 'git-apply', hunks: [], error: null } as TaskState['apply'];
  state.baseline.test = outcome('1 passed, 2 failed', {
    ok: false,
    exitCode: 101,
    tests: { passed: ['tests::mul'], failed: [failure('tests::adds'), failure('tests::flaky_io')], ignored: 0, summary: '' },
  });
  state.verify.build = outcome('ok');
  state.verify.test = outcome('2 passed, 1 failed', {
    tests: { passed: ['tests::mul', 'tests::adds'], failed: [failure('tests::flaky_io')], ignored: 0, summary: '' },
    evidence: { fixed: ['tests::adds'], failOnBase: ['tests::adds_negative'], gone: ['tests::old_name'] },
  });
  state.verify.lint = outcome('1 warning(s), 0 error(s)');
  state.secrets = { engine: 'builtin', findings: [], warnings: [] };
  state.policy = { engine: 'local', decision: 'allow', reasons: [], draft: false, labels: [] };
  return state;
}

function body(state: TaskState, request: TaskRequest = REQUEST): string {
  return prBody({ taskId: 'task-1', request, plan: PLAN, state });
}

describe('the pull request body', () => {
  it("states the task, links the issue, and quotes the rationale as the model's", () => {
    const text = body(verifiedState());
    expect(text).toMatch(
      /^## Task\n\n\*\*Fix add: it subtracts\*\*\n\nThe function `add` returns a - b.\n\nFixes #42\n\n## Rationale \(the model's words, not checked by autodev\)\n\n> The operator was wrong.\n\n## Verification/,
    );
    const { issue: _issue, ...noIssue } = REQUEST;
    expect(body(verifiedState(), noIssue)).not.toContain('Fixes #');
  });

  it('has one verification row per check that ran, with its result', () => {
    const text = body(verifiedState());
    expect(text).toContain(
      [
        '| check | result |',
        '| --- | --- |',
        '| build | ✅ ok |',
        '| test | ✅ 2 passed, 1 failed |',
        '| lint | ✅ 1 warning(s), 0 error(s) |',
        '| secrets | ✅ no secrets found (builtin) |',
        '| policy | ✅ allow (local) |',
      ].join('\n'),
    );
    const noBuild = verifiedState();
    delete noBuild.verify.build;
    expect(body(noBuild)).not.toContain('| build |');
  });

  it('marks a build or test that fails on the base too, and escapes pipes and newlines in a cell', () => {
    const state = verifiedState();
    state.verify.build = outcome('build fails on the base too | bench needs\nnightly', { ok: false, exitCode: 101, failsOnBaseToo: true });
    expect(body(state)).toContain('| build | ⚠️ build fails on the base too \\| bench needs nightly |');
  });

  it('lists the evidence: tests fixed, tests added that fail on the base, and tests gone (not evidence)', () => {
    expect(body(verifiedState())).toContain(
      [
        '### Evidence',
        '',
        '- `tests::adds` failed on the base and passes with this change',
        '- `tests::adds_negative` (added or changed here) fails on the base and passes with this change',
        '- `tests::old_name` ran on the base and no longer runs (not evidence)',
      ].join('\n'),
    );
  });

  it('names the tests already failing on the base that the change did not fix, and no such section when none', () => {
    const text = body(verifiedState());
    // tests::adds failed on the base too, but the change fixed it: it is evidence, not a known failure.
    const section = text.split('### Already failing on the base (not caused by this change)\n\n')[1]?.split('\n\n')[0];
    expect(section).toBe('- `tests::flaky_io`');
    const clean = verifiedState();
    clean.baseline.test = outcome('2 passed, 0 failed', {
      tests: { passed: ['tests::mul', 'tests::adds'], failed: [], ignored: 0, summary: '' },
    });
    expect(body(clean)).not.toMatch(/already failing on the base/i);
  });

  it('shows the policy decision and its reason codes: a high-risk task waits for review', () => {
    const state = verifiedState();
    state.policy = {
      engine: 'local',
      decision: 'review',
      reasons: [
        { code: 'high_risk_review', message: 'high risk needs human review' },
        { code: 'new_dependency', message: 'serde is new' },
      ],
      draft: true,
      labels: ['needs-review'],
    };
    expect(body(state, { ...REQUEST, risk: 'high' })).toContain('| policy | 👀 review (local): high_risk_review, new_dependency |');
    state.policy = { ...state.policy, engine: 'opa' };
    expect(body(state)).toContain('| policy | 👀 review (opa): high_risk_review, new_dependency |');
  });

  it('summarizes dependency changes in the table and lists each one below it', () => {
    const state = verifiedState();
    state.dependencies = {
      manifests: ['Cargo.toml', 'Cargo.lock'],
      findings: [
        finding({ locked: { from: null, to: '1.0.210' } }),
        finding({ type: 'upgraded', name: 'rand', from: '0.8.4', to: '0.8.5', kind: 'dev' }),
        finding({
          type: 'added',
          name: 'itoa',
          direct: false,
          kind: null,
          manifest: null,
          member: null,
          to: null,
          source: { kind: 'registry', location: 'crates.io' },
        }),
      ],
      warnings: [],
    };
    const text = body(state);
    expect(text).toMatch(
      /^\| dependencies \| 👀 2 added \(serde 1\.0\.210 normal, itoa registry transitive\), 0 removed.*rand 0\.8\.4 → 0\.8\.5/m,
    );
    expect(text).toContain(
      [
        '### Dependency changes',
        '',
        '| change | dependency | kind | where | from | to |',
        '| --- | --- | --- | --- | --- | --- |',
        '| added | `serde` | normal | calc |  | ^1.0 (locked 1.0.210) |',
        '| upgraded | `rand` | dev | calc | 0.8.4 | 0.8.5 |',
        '| added | `itoa` | transitive |  |  | registry crates.io |',
      ].join('\n'),
    );
    state.dependencies = { manifests: ['Cargo.toml'], findings: [], warnings: [] };
    expect(body(state)).toContain('| dependencies | ✅ no dependency changes |');
    expect(body(state)).not.toContain('### Dependency changes');
  });

  it('flags claims of the rationale that the diff and the test results contradict', () => {
    const state = verifiedState();
    state.change = { branch: 'b', commit: 'c', diff: '', files: ['src/lib.rs'] };
    state.verify.test!.verdicts = [
      { name: 'tests::adds', verdict: 'fixed', base: 'failed', head: 'passed' },
      { name: 'tests::flaky_io', verdict: 'still_failing', base: 'failed', head: 'failed' },
    ];
    state.generation!.rationale =
      'Fixed the operator in src/lib.rs and updated src/ops.rs. Now flaky_io passes, and adds too. All tests pass.';
    const text = body(state);
    expect(text).toContain(
      [
        '**⚠️ Claims contradicted by the diff or the test results:**',
        '',
        '- the rationale says it edits `src/ops.rs`, which the change does not touch',
        '- the rationale says `flaky_io` passes or is fixed, but `tests::flaky_io` still fails',
        '- the rationale says all tests pass, but 1 test(s) fail, are flaky or no longer run (see the table)',
      ].join('\n'),
    );
    state.generation!.rationale = 'Fixed the operator in src/lib.rs; `adds` passes now. I did not change Cargo.toml.';
    expect(body(state)).not.toContain('Claims contradicted');
  });

  it('tabulates fixed, regressed and flaky tests and summarizes the rest', () => {
    const state = verifiedState();
    state.verify.test!.verdicts = [
      { name: 'tests::adds', verdict: 'fixed', base: 'failed', head: 'passed' },
      { name: 'tests::io', verdict: 'flaky', base: 'passed', head: null },
      { name: 'tests::new_one', verdict: 'new', base: null, head: 'passed' },
      { name: 'tests::flaky_io', verdict: 'still_failing', base: 'failed', head: 'failed' },
      { name: 'tests::mul', verdict: 'passed', base: 'passed', head: 'passed' },
    ];
    expect(body(state)).toContain(
      [
        '### Tests, base against this change',
        '',
        '| test | base | this change | verdict |',
        '| --- | --- | --- | --- |',
        '| `tests::adds` | ❌ failed | ✅ passed | fixed |',
        '| `tests::io` | ✅ passed | did not run | flaky (flipped on a re-run: not blamed, not counted) |',
        '',
        'Besides: 1 new (not on the base): `tests::new_one`; 1 still failing as on the base: `tests::flaky_io`; 1 passing on both.',
      ].join('\n'),
    );
  });

  it('lists the commands with exit codes and durations, and each guard finding', () => {
    const state = verifiedState();
    const plan: Plan = {
      ...PLAN,
      steps: PLAN.steps.map((s) => (s.id === 'test' ? { ...s, command: ['cargo', 'test'], sandbox: 'bwrap' } : s)),
    };
    state.verify.test!.durationMs = 2345;
    state.guards = [{ code: 'test_deleted', file: 'src/lib.rs', line: 14, message: 'test removed (#[test] at old line 14)' }];
    const text = prBody({ taskId: 'task-1', request: REQUEST, plan, state });
    expect(text).toContain('| test | `cargo test` | off | 101, 0.0s | 0, 2.3s |');
    expect(text).toContain('Sandbox: bwrap; network off for build, test and lint.');
    expect(text).toContain(
      '### Test-integrity and scope findings (for review)\n\n- `test_deleted` src/lib.rs:14: test removed (#[test] at old line 14)',
    );
  });

  it('says where it ran and what it cost: toolchain, sandbox, base commit, patch layer, repair rounds, model usage, steps', () => {
    const text = body(verifiedState());
    expect(text).toContain('- toolchain: rust; sandbox: bwrap; base: `main` at `0123456789ab`');
    expect(text).toContain('- patch applied with: git-apply; repair rounds: 1');
    expect(text).toContain('- LLM usage: 3 call(s), 1200 prompt + 300 completion tokens, $0.0123');
    expect(text).toContain('- steps: clone → search → codegen → apply → build → test → lint → secrets → policy → pr');
    expect(text).toMatch(/<sub>Opened by autodev, task `task-1`\..*<\/sub>\n$/);
    const unpriced = verifiedState();
    unpriced.usage.costUsd = null;
    expect(body(unpriced)).toContain('- LLM usage: 3 call(s), 1200 prompt + 300 completion tokens\n');
  });
});
