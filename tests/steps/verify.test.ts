// The test step's verdict on a change: "verified" needs evidence that the change does the task.
// Real git repositories, real cargo, real bubblewrap: the base is run, the change is committed on a
// branch the way the apply step does it, and the test step judges it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultConfig } from '../../src/config/schema.js';
import type { EngineEvent, StepResult } from '../../src/engine/types.js';
import type { PlanStep } from '../../src/plan/types.js';
import { createExec } from '../../src/ports/exec.js';
import { createGit } from '../../src/ports/git.js';
import { createSandbox } from '../../src/ports/sandbox/index.js';
import { initialState, type Ctx, type StepPorts, type TaskState } from '../../src/steps/types.js';
import { verifyTool } from '../../src/steps/verify.js';
import { sandboxBinds } from '../../src/plan/toolchains.js';
import { rust } from '../../src/toolchains/rust/index.js';
import { CALC_FILES } from '../support/calc-crate.js';
import { cleanup, git, makeRepo, makeTempDir } from '../support/fixture-repo.js';

const TIMEOUT = 240_000;
const LIB = CALC_FILES['src/lib.rs'];
/** The calc crate with no test of `add`: nothing fails on its base. */
const UNTESTED_LIB = LIB.replace(/    #\[test\]\n    fn adds\(\) \{\n.*\n    \}\n\n/, '');
const UNTESTED = { ...CALC_FILES, 'src/lib.rs': UNTESTED_LIB };
const FIXED = (lib: string): string => lib.replace('    a - b\n', '    a + b\n');

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await makeTempDir('autodev-verify-cache-');
  expect(UNTESTED_LIB).not.toContain('fn adds');
});
afterAll(async () => {
  await cleanup();
});

const STEP: PlanStep = {
  id: 'test',
  tool: 'test',
  title: 'Test',
  command: ['cargo', 'test', '--offline', '--no-fail-fast'],
  sandbox: 'bwrap',
  network: false,
  timeoutSecs: 300,
  retries: 0,
  baseline: true,
  repairable: true,
  // As the planner writes them (src/plan/planner.ts): the toolchain's caches, environment and installations.
  inputs: {
    format: 'cargo-test',
    toolchain: 'rust',
    caches: rust.sandbox.caches,
    env: rust.sandbox.env,
    offlineEnv: rust.sandbox.offlineEnv,
    binds: sandboxBinds(),
  },
};

function context(state: TaskState, mode: 'baseline' | 'change', events: EngineEvent[]): Ctx {
  const exec = createExec();
  const ports = {
    config: defaultConfig(),
    credentials: { llmApiKey: null, githubToken: null },
    exec,
    git: createGit(),
    sandbox: createSandbox('bwrap', { exec, image: '' }),
    cacheDir,
    workspaceDir: path.dirname(state.repoDir),
  } as unknown as StepPorts;
  return {
    taskId: 't',
    request: {
      repo: 'acme/calc',
      title: 'Fix add',
      description: 'add returns a wrong result',
      risk: 'medium',
      noPr: false,
      keepWorkspace: false,
    },
    plan: {
      toolchain: 'rust',
      toolchainReason: '',
      base: 'main',
      branch: 'autodev/x',
      sandbox: 'bwrap',
      repair: null,
      steps: [STEP],
      notes: [],
    },
    step: STEP,
    mode,
    attempt: 1,
    round: 0,
    feedback: null,
    signal: new AbortController().signal,
    emit: (event) => events.push({ ...event, taskId: 't' } as EngineEvent),
    ports,
    state,
  };
}

interface Judged {
  result: StepResult;
  state: TaskState;
  repo: string;
  events: EngineEvent[];
}

/** Runs the base, commits `change` on a branch (null deletes a file) and judges the change's test run. */
async function judge(base: Record<string, string>, change: Record<string, string | null>): Promise<Judged> {
  const repo = await makeRepo(base);
  const state = initialState(repo);
  state.baseBranch = 'main';
  state.baseCommit = await git(repo, ['rev-parse', 'HEAD']);
  const events: EngineEvent[] = [];
  const baseline = await verifyTool.run(context(state, 'baseline', events));
  expect(baseline.status).toBe('ok');
  await git(repo, ['checkout', '-q', '-b', 'autodev/x']);
  for (const [file, text] of Object.entries(change)) {
    if (text === null) await git(repo, ['rm', '-q', file]);
    else {
      await mkdir(path.dirname(path.join(repo, file)), { recursive: true });
      await writeFile(path.join(repo, file), text);
    }
  }
  await git(repo, ['add', '-A']);
  await git(repo, ['commit', '-q', '-m', 'change']);
  const commit = await git(repo, ['rev-parse', 'HEAD']);
  const diff = await git(repo, ['diff', `${state.baseCommit}..${commit}`]);
  state.change = { branch: 'autodev/x', commit, diff, files: Object.keys(change) };
  const result = await verifyTool.run(context(state, 'change', events));
  return { result, state, repo, events };
}

function data(result: StepResult): { fixedTests?: string[]; failOnBase?: string[]; gone?: string[] } {
  return result.data as { fixedTests?: string[]; failOnBase?: string[]; gone?: string[] };
}

describe('test step: evidence that the change does the task', () => {
  it(
    'a fix that makes the failing test pass is evidence',
    async () => {
      const { result } = await judge(CALC_FILES, { 'src/lib.rs': FIXED(LIB) });
      expect(result.status).toBe('ok');
      expect(result.endsAs).toBeUndefined();
      expect(result.summary).toMatch(/fixes 1 test\(s\) failing on the base: lib::tests::adds/);
      expect(data(result)).toMatchObject({ fixedTests: ['lib::tests::adds'], failOnBase: [], gone: [] });
    },
    TIMEOUT,
  );

  it(
    'deleting the failing test module and leaving the bug is no evidence: the tests are gone, the task ends unproven',
    async () => {
      const lib = LIB.slice(0, LIB.indexOf('#[cfg(test)]'));
      const { result } = await judge(CALC_FILES, { 'src/lib.rs': lib });
      expect(result.status).toBe('failed');
      expect(result.endsAs).toBe('unproven');
      expect(result.summary).toMatch(/^no evidence the change does the task/);
      expect(result.summary).toMatch(/gone .*lib::tests::adds/);
      expect(result.summary).not.toMatch(/fixes/);
      expect(data(result)).toMatchObject({ fixedTests: [], gone: ['lib::tests::adds', 'lib::tests::multiplies'] });
      expect(result.feedback).toMatch(/do not run with it \(deleted, renamed, ignored or skipped\): lib::tests::adds\./);
    },
    TIMEOUT,
  );

  it(
    'ignoring the failing test is no evidence either: it is gone',
    async () => {
      const { result } = await judge(CALC_FILES, {
        'src/lib.rs': LIB.replace('    #[test]\n    fn adds', '    #[test]\n    #[ignore]\n    fn adds'),
      });
      expect(result.status).toBe('failed');
      expect(result.endsAs).toBe('unproven');
      expect(data(result).gone).toEqual(['lib::tests::adds']);
    },
    TIMEOUT,
  );

  it(
    'rewriting the failing assertion to match the bug is no evidence: with the change test code the base passes too',
    async () => {
      const { result, repo, state } = await judge(CALC_FILES, {
        'src/lib.rs': LIB.replace('assert_eq!(add(2, 2), 4)', 'assert_eq!(add(2, 2), 0)'),
      });
      expect(result.status).toBe('failed');
      expect(result.endsAs).toBe('unproven');
      expect(data(result).fixedTests).toEqual([]);
      // The work tree is back on the change's commit, clean, after the run against the base.
      expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(state.change!.commit);
      expect(await git(repo, ['status', '--porcelain'])).toBe('');
      expect(await git(repo, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('autodev/x');
    },
    TIMEOUT,
  );

  it(
    'a failing test that still fails with a different failure goes back for repair, with the new failure',
    async () => {
      const { result } = await judge(CALC_FILES, { 'src/lib.rs': LIB.replace('    a - b\n', '    a + b + 1\n') });
      expect(result.status).toBe('failed');
      expect(result.endsAs).toBe('unproven');
      expect(result.summary).toMatch(/still fail, with a different failure now: lib::tests::adds/);
      expect(result.feedback).toMatch(/left: 5/);
    },
    TIMEOUT,
  );

  it(
    'a test the change adds that fails on the base and passes with the fix is evidence; the base code is untouched after',
    async () => {
      const lib = FIXED(UNTESTED_LIB).replace(
        '    #[test]\n    fn multiplies',
        '    #[test]\n    fn adds_two_numbers() {\n        assert_eq!(add(2, 3), 5);\n    }\n\n    #[test]\n    fn multiplies',
      );
      const { result, repo, state, events } = await judge(UNTESTED, { 'src/lib.rs': lib });
      expect(result.status).toBe('ok');
      expect(data(result)).toMatchObject({ fixedTests: [], failOnBase: ['lib::tests::adds_two_numbers'], gone: [] });
      expect(result.summary).toMatch(
        /1 test\(s\) the change adds or changes fail on the base and pass with it: lib::tests::adds_two_numbers/,
      );
      expect(events.some((e) => e.type === 'log' && /against the base/.test(e.message))).toBe(true);
      expect(await readFile(path.join(repo, 'src/lib.rs'), 'utf8')).toBe(lib);
      expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(state.change!.commit);
    },
    TIMEOUT,
  );

  it(
    'a test the change adds that passes on the base too is no evidence',
    async () => {
      const lib = UNTESTED_LIB.replace(
        '    #[test]\n    fn multiplies',
        '    #[test]\n    fn multiplies_by_one() {\n        assert_eq!(mul(7, 1), 7);\n    }\n\n    #[test]\n    fn multiplies',
      );
      const { result } = await judge(UNTESTED, { 'src/lib.rs': lib });
      expect(result.status).toBe('failed');
      expect(result.endsAs).toBe('unproven');
      expect(result.summary).toMatch(/no test fails on the base; no test it adds or changes fails on the base/);
    },
    TIMEOUT,
  );

  it(
    'an integration test the change adds counts too, also when it needs what the change adds and cannot compile on the base',
    async () => {
      const lib = FIXED(UNTESTED_LIB).replace(
        '/// Multiplies',
        '/// Adds three numbers.\npub fn add3(a: i32, b: i32, c: i32) -> i32 {\n    add(add(a, b), c)\n}\n\n/// Multiplies',
      );
      const { result } = await judge(UNTESTED, {
        'src/lib.rs': lib,
        'tests/sum.rs':
          'use calc::{add, add3};\n\n#[test]\nfn sums() {\n    assert_eq!(add(1, 1), 2);\n}\n\n#[test]\nfn sums_three() {\n    assert_eq!(add3(1, 2, 3), 6);\n}\n',
      });
      expect(result.status).toBe('ok');
      expect(data(result).failOnBase?.sort()).toEqual(['tests/sum.rs::sums', 'tests/sum.rs::sums_three']);
    },
    TIMEOUT,
  );

  it(
    'a change to no test at all of a base with no failing test (a refactor) is unproven',
    async () => {
      const { result } = await judge(UNTESTED, {
        'src/lib.rs': UNTESTED_LIB.replace('/// Adds two numbers.', '/// Adds two numbers (wrapping).'),
      });
      expect(result.status).toBe('failed');
      expect(result.endsAs).toBe('unproven');
      expect(result.feedback).toMatch(/add a test that fails without your change and passes with it/);
    },
    TIMEOUT,
  );
});

describe('baseline cache key', () => {
  it(
    "asks the tool's version once per run (one sandbox), not once per baseline step; the next run asks again",
    async () => {
      const repo = await makeRepo(CALC_FILES);
      const state = initialState(repo);
      state.baseBranch = 'main';
      state.baseCommit = await git(repo, ['rev-parse', 'HEAD']);
      const ran: string[][] = [];
      /** A run's real bwrap sandbox, recording each command it runs. */
      const recording = (): StepPorts['sandbox'] => {
        const exec = createExec();
        const real = createSandbox('bwrap', { exec, image: '' });
        return { ...real, run: (spec) => (ran.push(spec.command), real.run(spec)) };
      };
      const BUILD: PlanStep = { ...STEP, id: 'build', tool: 'build', command: ['cargo', 'build', '--offline'] };
      const versions = (): number => ran.filter((argv) => argv.includes('--version')).length;

      // Its own cache dir: the file's other tests leave baselines of the same base commit in theirs.
      const ownCache = await makeTempDir('autodev-version-cache-');
      const sandbox = recording();
      for (const step of [BUILD, STEP]) {
        const ctx = context(state, 'baseline', []);
        const result = await verifyTool.run({ ...ctx, step, ports: { ...ctx.ports, sandbox, cacheDir: ownCache } });
        expect(result.status).toBe('ok');
      }
      expect(ran.filter((argv) => argv[1] === 'build' || argv[1] === 'test')).toHaveLength(2);
      expect(versions()).toBe(1);

      // Another run (its own sandbox): the version is asked again, and the results are reused by it.
      const next = recording();
      const ctx = context(state, 'baseline', []);
      const reused = await verifyTool.run({ ...ctx, step: BUILD, ports: { ...ctx.ports, sandbox: next, cacheDir: ownCache } });
      expect(reused.summary).toMatch(/reused from an earlier task/);
      expect(versions()).toBe(2);
    },
    TIMEOUT,
  );
});
