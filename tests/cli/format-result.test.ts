// The summary `autodev run` prints on stdout: one name for the pull request, the sandbox project code
// ran in, what the base was like, and why a pushed change has no pull request.
import { describe, expect, it } from '@jest/globals';
import { formatResult } from '../../src/cli/run-task.js';
import type { Plan, PlanStep } from '../../src/plan/types.js';
import type { TaskResult } from '../../src/task/run-task.js';

function step(tool: PlanStep['tool'], extra: Partial<PlanStep> = {}): PlanStep {
  return { id: tool, tool, title: tool, sandbox: null, network: false, timeoutSecs: 60, retries: 0, inputs: {}, ...extra };
}

function plan(last: PlanStep, sandbox: Plan['sandbox'] = 'bwrap'): Plan {
  return {
    toolchain: 'rust',
    toolchainReason: 'found Cargo.toml',
    base: 'main',
    branch: 'autodev/fix-add-1234abcd',
    sandbox,
    repair: { from: 'codegen', budget: 2 },
    steps: [step('clone'), step('codegen'), step('build', { sandbox }), step('test', { sandbox }), step('policy'), last],
    notes: [],
  };
}

function result(extra: Partial<TaskResult> = {}): TaskResult {
  const ran = (id: string, tool = id) => ({
    id,
    tool,
    mode: 'change' as const,
    round: 1,
    status: 'ok' as const,
    attempts: 1,
    durationMs: 10,
    summary: 'ok',
  });
  return {
    task: {
      id: '202612031200-abcdef',
      key: '1234abcd',
      repo: '/srv/calc.git',
      title: 'Fix add',
      description: '',
      risk: 'medium',
      pr: true,
      base: 'main',
    } as TaskResult['task'],
    status: 'pr_created',
    reason: null,
    exitCode: 0,
    plan: plan(step('pr', { inputs: { repository: 'acme/calc' } })),
    steps: [ran('clone'), ran('codegen'), ran('build'), ran('test'), ran('policy'), ran('pr')],
    change: { branch: 'autodev/fix-add-1234abcd', commit: 'ba9c1812deadbeef', files: ['src/lib.rs'], diff: '' },
    pushed: { remote: '/srv/calc.git', branch: 'autodev/fix-add-1234abcd' },
    pr: { url: 'http://127.0.0.1:4000/acme/calc/pull/1', number: 1, draft: false, updated: false },
    policy: { engine: 'local', decision: 'allow', reasons: [] },
    secrets: null,
    dependencies: null,
    usage: { promptTokens: 900, completionTokens: 172, totalTokens: 1072, calls: 2, costUsd: null },
    baseline: { failingTests: ['lib::tests::adds'], build: 'base: ok', test: 'base: 1 test failing (lib::tests::adds)', lint: null },
    verification: { build: 'ok: build ok', test: 'ok: 2 passed, 0 failed (fixes 1 test(s) failing on the base: lib::tests::adds)' },
    workspace: null,
    notes: [],
    ...extra,
  } as TaskResult;
}

describe('formatResult', () => {
  it('names the pull request one way, the sandbox used, and the failing tests of the base', () => {
    expect(formatResult(result())).toBe(
      [
        'pull request ready: Fix add',
        '  pull request: http://127.0.0.1:4000/acme/calc/pull/1',
        '  branch:       autodev/fix-add-1234abcd (ba9c1812), 1 file(s): src/lib.rs',
        '  sandbox:      bwrap (bubblewrap)',
        '  base:         1 test failing before the change: lib::tests::adds',
        '  build         ok: build ok',
        '  test          ok: 2 passed, 0 failed (fixes 1 test(s) failing on the base: lib::tests::adds)',
        '  usage:        2 LLM call(s), 1072 tokens',
        '',
      ].join('\n'),
    );
    expect(formatResult(result())).not.toMatch(/\bPR\b|merge request/);
  });

  it('says no pull request was opened for a pushed change, and why', () => {
    const noGitHub = result({
      status: 'verified',
      pr: null,
      plan: plan(step('push', { inputs: { noPullRequest: '/srv/calc.git is not a GitHub repository' } })),
    });
    const text = formatResult(noGitHub);
    expect(text).toContain('  pull request: none opened (/srv/calc.git is not a GitHub repository)\n');
    expect(text).toContain('  pushed:       autodev/fix-add-1234abcd to /srv/calc.git\n');
  });

  it('warns of a run without isolation, and names no sandbox when nothing was built', () => {
    expect(formatResult(result({ plan: plan(step('pr'), 'none') }))).toContain(
      '  sandbox:      none (no isolation: project code ran directly on this machine)\n',
    );
    const early = formatResult(
      result({ status: 'failed', reason: 'OPENAI_API_KEY is not set', pr: null, pushed: null, change: null, steps: [] }),
    );
    expect(early).not.toContain('sandbox:');
    expect(early).toContain('  reason:       OPENAI_API_KEY is not set\n');
  });
});

describe('formatResult with reproduce first', () => {
  it('shows the reproduction before and after, or why there is none', () => {
    const kept = formatResult(
      result({
        reproduction: {
          file: 'tests/repro_add.rs',
          tests: ['tests/repro_add.rs::sums'],
          kept: false,
          base: { outcome: 'failed', failure: 'sums: left: -1' },
          head: { outcome: 'passed', passed: ['tests/repro_add.rs::sums'], failed: [], notRun: [] },
        },
      }),
    );
    expect(kept).toContain(
      '  reproduction: tests/repro_add.rs (not committed): failed on the base (sums: left: -1); with the change: passed\n',
    );
    const none = formatResult(
      result({
        reproduction: null,
        verification: { reproduce: 'ok: no reproduction: it passes on the base (x); going on without one', test: 'ok: fine' },
      }),
    );
    expect(none).toContain('  reproduce     ok: no reproduction: it passes on the base (x); going on without one\n');
  });
});
