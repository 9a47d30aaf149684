// The build and lint verdicts on a change, judged against the base: only errors and diagnostics the
// change adds are its fault. The step runs as the engine runs it (baseline, then the change) with a
// sandbox that replays cargo's JSON output, so each rule is shown without compiling anything.
// (The test verdict runs real cargo in verify.test.ts.)
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { autodevSchema } from '../../src/config/schema.js';
import type { EngineEvent, StepResult } from '../../src/engine/types.js';
import { buildPlan } from '../../src/plan/planner.js';
import type { PlanStep } from '../../src/plan/types.js';
import { createExec } from '../../src/ports/exec.js';
import type { ExecResult, Sandbox, SandboxSpec } from '../../src/ports/types.js';
import { createRegistry } from '../../src/steps/registry.js';
import { initialState, type Ctx, type StepPorts, type TaskState } from '../../src/steps/types.js';
import { cleanup, makeTempDir } from '../support/fixture-repo.js';

afterAll(async () => {
  await cleanup();
});

const REQUEST = {
  repo: 'https://github.com/acme/calc.git',
  title: 'Fix add',
  description: 'add subtracts',
  risk: 'medium' as const,
  noPr: false,
  keepWorkspace: false,
};
const config = autodevSchema.parse({});
const PLAN = buildPlan({
  request: REQUEST,
  config,
  forge: { owner: 'acme', repo: 'calc' },
  repo: {
    files: ['Cargo.toml', 'src/lib.rs'],
    manifests: { 'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\n' },
    branch: 'main',
  },
  host: { programs: { git: true, rg: true, cargo: true, bwrap: true }, autoSandbox: 'bwrap', installed: {} },
});
const planned = (id: string): PlanStep => PLAN.steps.find((s) => s.id === id)!;

interface Diag {
  level: 'error' | 'warning';
  code: string | null;
  message: string;
  file: string;
  line: number;
}

/** One line of `cargo build|clippy --message-format=json`. */
function cargoLine(d: Diag): string {
  const spans = [{ file_name: d.file, line_start: d.line, column_start: 5, is_primary: true }];
  const head = `${d.level}${d.code ? `[${d.code}]` : ''}: ${d.message}`;
  return JSON.stringify({
    reason: 'compiler-message',
    message: {
      level: d.level,
      message: d.message,
      code: d.code ? { code: d.code } : null,
      spans,
      rendered: `${head}\n --> ${d.file}:${d.line}:5\n`,
    },
  });
}

function run(exitCode: number, diagnostics: Diag[], stderr = ''): ExecResult {
  const stdout = [...diagnostics.map(cargoLine), JSON.stringify({ reason: 'build-finished', success: exitCode === 0 })].join('\n');
  return { command: ['cargo'], exitCode, signal: null, stdout, stderr, timedOut: false, cancelled: false, truncated: false, durationMs: 5 };
}

/** Plays back one scripted result per sandboxed command, and records what it was asked to run. */
function replaySandbox(results: ExecResult[]): Sandbox & { specs: SandboxSpec[] } {
  const specs: SandboxSpec[] = [];
  return {
    kind: 'none',
    specs,
    argv: (spec) => spec.command,
    check: async () => null,
    async run(spec) {
      specs.push(spec);
      const next = results.shift();
      if (!next) throw new Error(`no scripted result for ${spec.command.join(' ')}`);
      return next;
    },
  };
}

let workspace: string;
beforeEach(async () => {
  workspace = await makeTempDir('autodev-verdicts-');
});

/** The change's diff: two lines inserted at the top of src/lib.rs, so what was on line n is on n + 2. */
const DIFF = `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,3 +1,5 @@
+//! Small arithmetic helpers.
+
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
     a - b
`;

/** Runs `id` on the base, then on the change, as the engine does; returns the change's verdict. */
async function judge(
  id: 'build' | 'lint',
  base: ExecResult,
  change: ExecResult,
): Promise<{ result: StepResult; state: TaskState; baseline: StepResult }> {
  const sandbox = replaySandbox([base, change]);
  const state = initialState(`${workspace}/repo`);
  const ports = {
    config,
    credentials: { llmApiKey: null, githubToken: null },
    exec: createExec(),
    sandbox,
    cacheDir: `${workspace}/cache`,
    workspaceDir: workspace,
  } as unknown as StepPorts;
  const events: EngineEvent[] = [];
  const step = planned(id);
  const tool = createRegistry().get(id)!;
  const ctx = (mode: 'baseline' | 'change'): Ctx => ({
    taskId: 't',
    request: REQUEST,
    plan: PLAN,
    step,
    mode,
    attempt: 1,
    round: 0,
    feedback: null,
    signal: new AbortController().signal,
    emit: (event) => events.push({ ...event, taskId: 't' } as EngineEvent),
    ports,
    state,
  });
  const baseline = await tool.run(ctx('baseline'));
  expect(baseline.status).toBe('ok');
  state.change = { branch: 'autodev/x', commit: 'c0ffee', diff: DIFF, files: ['src/lib.rs'] };
  const result = await tool.run(ctx('change'));
  expect(sandbox.specs.map((s) => s.command)).toEqual([step.command, step.command]);
  return { result, state, baseline };
}

const MISMATCH: Diag = { level: 'error', code: 'E0308', message: 'mismatched types', file: 'src/lib.rs', line: 5 };
const NIGHTLY: Diag = {
  level: 'error',
  code: 'E0554',
  message: '`#![feature]` may not be used on the stable release channel',
  file: 'benches/speed.rs',
  line: 1,
};
const NEEDLESS_RETURN: Diag = {
  level: 'warning',
  code: 'clippy::needless_return',
  message: 'unneeded `return` statement',
  file: 'src/lib.rs',
  line: 3,
};
const SHADOW: Diag = {
  level: 'warning',
  code: 'clippy::shadow_unrelated',
  message: '`a` shadows a previous, unrelated binding',
  file: 'src/lib.rs',
  line: 6,
};

describe('the build verdict', () => {
  it('passes a change that builds', async () => {
    const { result, baseline } = await judge(
      'build',
      run(0, []),
      run(0, [{ ...NEEDLESS_RETURN, code: null, message: 'unused variable: `x`' }]),
    );
    expect(baseline.summary).toBe('base: ok');
    expect(result).toMatchObject({ status: 'ok', summary: 'build ok (1 warning(s))' });
  });

  it('fails a change that breaks a building base, naming the first error, with the compiler error as feedback', async () => {
    const { result } = await judge('build', run(0, []), run(101, [MISMATCH]));
    expect(result.status).toBe('failed');
    expect(result.summary).toBe('build failed: 1 error(s): error[E0308]: mismatched types (src/lib.rs:5)');
    expect(result.feedback).toContain('mismatched types');
    expect(result.feedback).toContain('src/lib.rs:5');
  });

  it('does not blame a change for a base that fails to build the same way (the error moved with the diff)', async () => {
    const { result, state } = await judge('build', run(101, [NIGHTLY, MISMATCH]), run(101, [NIGHTLY, { ...MISMATCH, line: 7 }]));
    expect(result.status).toBe('ok');
    expect(result.summary).toBe('build fails on the base too (failed: 2 error(s)); the change adds no error');
    expect(result.data).toMatchObject({ baseFails: true });
    expect(state.verify.build?.failsOnBaseToo).toBe(true);
  });

  it('on a base that fails to build, blames only the error the change adds', async () => {
    const { result } = await judge('build', run(101, [NIGHTLY]), run(101, [NIGHTLY, MISMATCH]));
    expect(result.status).toBe('failed');
    expect(result.summary).toBe('build failed: the change adds 1 error(s)');
    expect(result.feedback).toContain('mismatched types');
    expect(result.feedback).not.toContain('stable release channel');
  });

  it("does not take a base failure for a licence: the same error on a line the change wrote is the change's", async () => {
    // The base's E0308 is on line 5 (line 7 after the change); this one is on line 1, which the change added.
    const { result } = await judge(
      'build',
      run(101, [MISMATCH]),
      run(101, [
        { ...MISMATCH, line: 7 },
        { ...MISMATCH, line: 1 },
      ]),
    );
    expect(result.status).toBe('failed');
    expect(result.summary).toBe('build failed: the change adds 1 error(s)');
  });
});

describe('the lint verdict', () => {
  it('does not blame the change for a warning already on the base (moved by the diff)', async () => {
    const { result, state } = await judge('lint', run(0, [NEEDLESS_RETURN]), run(0, [{ ...NEEDLESS_RETURN, line: 5 }]));
    expect(result).toMatchObject({ status: 'ok', summary: 'lint clean for the change (1 already on the base, not blamed)' });
    expect(state.verify.lint?.added).toBe(0);
  });

  it('blames a warning the change adds, names the lint, and feeds back only that one', async () => {
    const { result, state } = await judge('lint', run(0, [NEEDLESS_RETURN]), run(0, [{ ...NEEDLESS_RETURN, line: 5 }, SHADOW]));
    expect(result.status).toBe('failed');
    expect(result.summary).toBe('lint: the change adds 1 diagnostic(s): clippy::shadow_unrelated');
    expect(result.data?.added).toEqual([{ code: 'clippy::shadow_unrelated', message: SHADOW.message, file: 'src/lib.rs', line: 6 }]);
    expect(result.feedback).toContain('shadows a previous, unrelated binding');
    expect(result.feedback).not.toContain('unneeded `return`');
    expect(state.verify.lint?.added).toBe(1);
  });

  it('when clippy could not finish on the base, still judges only what the change adds, and says so', async () => {
    const { result, baseline } = await judge('lint', run(101, [NIGHTLY]), run(101, [NIGHTLY]));
    expect(baseline.summary).toBe('base: 0 warning(s), 1 error(s) (lint could not run: 1 compile error(s))');
    expect(result).toMatchObject({
      status: 'ok',
      summary:
        'lint clean for the change (1 already on the base, not blamed) (on the base: lint could not run: 1 compile error(s); only what the change adds counts)',
    });
  });

  it('fails a lint that exits non-zero with nothing parsed on a clean base, with the end of its output as feedback', async () => {
    const { result } = await judge('lint', run(0, []), run(2, [], 'clippy-driver was killed by signal 11\nsomething else went wrong'));
    expect(result.status).toBe('failed');
    expect(result.summary).toBe('lint failed: 0 warning(s), 0 error(s) (exit 2)');
    expect(result.feedback).toContain('lint failed (exit 2). Last lines of its output:');
    expect(result.feedback).toContain('something else went wrong');
  });
});
