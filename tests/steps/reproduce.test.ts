// The reproduce step's decisions, and the test step's handling of a kept reproduction: the steps run
// as the engine runs them, with a sandbox that replays cargo's test output and a scripted model, so
// each rule shows without compiling anything. (tests/e2e/run-reproduce.test.ts runs real cargo.)
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import type { EngineEvent } from '../../src/engine/types.js';
import { buildPlan } from '../../src/plan/planner.js';
import type { PlanStep } from '../../src/plan/types.js';
import { createExec } from '../../src/ports/exec.js';
import { TransientError, type ChatRequest, type ExecResult, type Llm, type Sandbox, type SandboxSpec } from '../../src/ports/types.js';
import { whyNotReproduce } from '../../src/steps/reproduce.js';
import { createRegistry } from '../../src/steps/registry.js';
import { initialState, type Ctx, type StepPorts, type TaskState, type VerifyOutcome } from '../../src/steps/types.js';
import { rust } from '../../src/toolchains/rust/index.js';
import { createGit } from '../../src/ports/git.js';
import { cleanup, git, makeRepo, makeTempDir } from '../support/fixture-repo.js';

afterAll(async () => {
  await cleanup();
});

const REQUEST = {
  repo: 'https://github.com/acme/calc.git',
  title: 'Fix add: it subtracts',
  description: 'add(2, 3) returns -1 instead of 5.',
  risk: 'medium' as const,
  noPr: false,
  keepWorkspace: false,
};

function planWith(generate: Record<string, unknown>, llm: Record<string, unknown> = {}) {
  return buildPlan({
    request: REQUEST,
    config: autodevSchema.parse({ generate, llm }),
    forge: { owner: 'acme', repo: 'calc' },
    repo: {
      files: ['Cargo.toml', 'src/lib.rs'],
      manifests: { 'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\n' },
      branch: 'main',
    },
    host: { programs: { git: true, rg: true, cargo: true, bwrap: true }, autoSandbox: 'bwrap', installed: {} },
  });
}

function cargoTest(exitCode: number, binary: string, stdout: string, stderr = ''): ExecResult {
  return {
    command: ['cargo'],
    exitCode,
    signal: null,
    stdout,
    stderr: `${stderr}     Running ${binary}\n`,
    timedOut: false,
    cancelled: false,
    truncated: false,
    durationMs: 5,
  };
}

const LIB = 'unittests src/lib.rs (target/debug/deps/calc-0123456789abcdef)';
const REPRO_BIN = 'tests/repro_add.rs (target/debug/deps/repro_add-0123456789abcdef)';
const PASSED_MUL =
  'running 1 test\ntest tests::multiplies ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n';
const REPRO_FAILED = `running 1 test
test add_returns_the_sum ... FAILED

failures:

---- add_returns_the_sum stdout ----
thread 'add_returns_the_sum' panicked at tests/repro_add.rs:5:5:
assertion \`left == right\` failed
  left: -1
 right: 5

failures:
    add_returns_the_sum

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out
`;
const REPRO_PASSED =
  'running 1 test\ntest add_returns_the_sum ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n';
const COMPILE_ERROR: ExecResult = {
  command: ['cargo'],
  exitCode: 101,
  signal: null,
  stdout: '',
  stderr:
    'error[E0432]: unresolved import `calc::sum`\n --> tests/repro_add.rs:1:5\n  |\n1 | use calc::sum;\n  |     ^^^^^^^^^ no `sum` in the root\n\nerror: could not compile `calc` (test "repro_add") due to 1 previous error\n',
  timedOut: false,
  cancelled: false,
  truncated: false,
  durationMs: 5,
};

const BASE_TEST = (): VerifyOutcome => {
  const parsed = rust.parse('cargo-test', cargoTest(0, LIB, PASSED_MUL));
  return { ok: true, exitCode: 0, summary: parsed.tests!.summary, diagnostics: parsed.diagnostics, tests: parsed.tests, durationMs: 5 };
};

const REPRO = (file = 'tests/repro_add.rs'): string =>
  `## Test file\n${file}\n\n## Test\n\`\`\`rust\nuse calc::add;\n\n#[test]\nfn add_returns_the_sum() {\n    assert_eq!(add(2, 3), 5);\n}\n\`\`\`\n`;

/** Plays back one scripted result per sandboxed command; records what it ran and whether the reproduction was there. */
function replaySandbox(results: ExecResult[], repoDir: string, file = 'tests/repro_add.rs') {
  const specs: SandboxSpec[] = [];
  const present: boolean[] = [];
  const sandbox: Sandbox = {
    kind: 'none',
    argv: (spec) => spec.command,
    check: async () => null,
    async run(spec) {
      specs.push(spec);
      present.push(existsSync(path.join(repoDir, file)));
      const next = results.shift();
      if (!next) throw new Error(`no scripted result for ${spec.command.join(' ')}`);
      return next;
    },
  };
  return { sandbox, specs, present };
}

function scriptedLlm(replies: (string | Error)[]) {
  const requests: ChatRequest[] = [];
  const llm: Llm = {
    async chat(request) {
      requests.push(request);
      const next = replies.shift();
      if (next === undefined) throw new Error('no scripted reply');
      if (next instanceof Error) throw next;
      return { content: next, promptTokens: 100, completionTokens: 50 };
    },
  };
  return { llm, requests };
}

let workspace: string;
let repoDir: string;
beforeEach(async () => {
  workspace = await makeTempDir('autodev-reproduce-');
  repoDir = path.join(workspace, 'repo');
  await mkdir(path.join(repoDir, 'src'), { recursive: true });
  await writeFile(path.join(repoDir, 'src/lib.rs'), 'pub fn add(a: i32, b: i32) -> i32 { a - b }\n');
});

function context(options: {
  step: PlanStep;
  state: TaskState;
  sandbox: Sandbox;
  llm?: Llm;
  mode?: 'baseline' | 'change';
  request?: typeof REQUEST;
}): { ctx: Ctx; events: EngineEvent[] } {
  const events: EngineEvent[] = [];
  const ports = {
    credentials: { llmApiKey: null, githubToken: null },
    exec: createExec(),
    git: { showFile: async () => null },
    sandbox: options.sandbox,
    llm: async () => options.llm,
    cacheDir: path.join(workspace, 'cache'),
    workspaceDir: workspace,
  } as unknown as StepPorts;
  const ctx: Ctx = {
    taskId: 't',
    request: options.request ?? REQUEST,
    plan: planWith({}),
    step: options.step,
    mode: options.mode ?? 'change',
    attempt: 1,
    round: 0,
    feedback: null,
    signal: new AbortController().signal,
    emit: (event) => events.push({ ...event, taskId: 't' } as EngineEvent),
    ports,
    state: options.state,
  };
  return { ctx, events };
}

async function reproduce(replies: (string | Error)[], results: ExecResult[], generate: Record<string, unknown> = {}, llmConfig = {}) {
  const plan = planWith(generate, llmConfig);
  const step = plan.steps.find((s) => s.id === 'reproduce')!;
  const state = initialState(repoDir);
  state.baseline.test = BASE_TEST();
  const { sandbox, specs, present } = replaySandbox(results, repoDir);
  const { llm, requests } = scriptedLlm(replies);
  const { ctx, events } = context({ step, state, sandbox, llm });
  const result = await createRegistry().get('reproduce')!.run(ctx);
  return { result, state, specs, present, requests, events, step };
}

const userText = (request: ChatRequest): string =>
  request.messages
    .filter((m) => m.role === 'user')
    .map((m) => m.content)
    .join('\n');

describe('the reproduce step', () => {
  it('keeps a test that runs and fails on the base, running only its file, and leaves the work tree as it was', async () => {
    const { result, state, specs, present, requests, step } = await reproduce([REPRO()], [cargoTest(101, REPRO_BIN, REPRO_FAILED)]);
    expect(result.status).toBe('ok');
    expect(result.summary).toBe('tests/repro_add.rs reproduces the task: tests/repro_add.rs::add_returns_the_sum fails on the base');
    expect(state.reproduction).toEqual({
      file: 'tests/repro_add.rs',
      content: 'use calc::add;\n\n#[test]\nfn add_returns_the_sum() {\n    assert_eq!(add(2, 3), 5);\n}\n',
      tests: ['tests/repro_add.rs::add_returns_the_sum'],
      baseFailure: expect.stringContaining('add_returns_the_sum: thread'),
      kept: false,
    });
    // Narrowed to the one test binary, with the file in place while it ran, and gone after.
    expect(specs.map((s) => s.command)).toEqual([[...step.command!, '--test', 'repro_add']]);
    expect(specs[0].network).toBe(false);
    expect(present).toEqual([true]);
    expect(existsSync(path.join(repoDir, 'tests/repro_add.rs'))).toBe(false);
    // The model was given the toolchain's test idiom and the task; the call was counted.
    expect(requests).toHaveLength(1);
    expect(userText(requests[0])).toContain('tests/<name>.rs');
    expect(userText(requests[0])).toContain('add(2, 3) returns -1');
    expect(state.usage).toMatchObject({ calls: 1, totalTokens: 150 });
  });

  it('marks the reproduction kept when the plan says keep_reproduction', async () => {
    const { state } = await reproduce([REPRO()], [cargoTest(101, REPRO_BIN, REPRO_FAILED)], { keep_reproduction: true });
    expect(state.reproduction?.kept).toBe(true);
  });

  it('sends a test that does not compile back with the error, then keeps the next one', async () => {
    const { result, requests, events, state } = await reproduce(
      [REPRO(), REPRO()],
      [COMPILE_ERROR, cargoTest(101, REPRO_BIN, REPRO_FAILED)],
    );
    expect(result.status).toBe('ok');
    expect(state.reproduction?.tests).toEqual(['tests/repro_add.rs::add_returns_the_sum']);
    expect(requests).toHaveLength(2);
    expect(userText(requests[1])).toContain('# Your previous test was not kept');
    expect(userText(requests[1])).toContain('unresolved import `calc::sum`');
    expect(events.some((e) => e.type === 'log' && e.message === 'reproduce: try 1 of 2 not kept: the test does not compile')).toBe(true);
  });

  it('goes on without a reproduction after the tries when every test passes on the base, and says so', async () => {
    const { result, state, requests, specs } = await reproduce(
      [REPRO(), REPRO()],
      [cargoTest(0, REPRO_BIN, REPRO_PASSED), cargoTest(0, REPRO_BIN, REPRO_PASSED)],
    );
    expect(result.status).toBe('ok');
    expect(result.summary).toMatch(/^no reproduction: it passes on the base \(tests\/repro_add\.rs::add_returns_the_sum\)/);
    expect(state.reproduction).toBeNull();
    expect(requests).toHaveLength(2);
    expect(specs).toHaveLength(2);
    expect(userText(requests[1])).toContain('it must fail on the current code');
    expect(state.notes).toEqual([
      expect.stringMatching(/^No reproduction test: it passes on the base .*\(after 2 tries\); going on without one\.$/),
    ]);
  });

  it('counts a malformed reply, a path outside the tests and an existing file as tries, without running them', async () => {
    await mkdir(path.join(repoDir, 'tests'), { recursive: true });
    await writeFile(path.join(repoDir, 'tests/old.rs'), '#[test]\nfn old() {}\n');
    const { result, specs, requests, state } = await reproduce(
      ['Sure! Here is a test.', REPRO('src/repro.rs'), REPRO('tests/old.rs')],
      [],
      {
        reproduce_tries: 3,
      },
    );
    expect(specs).toHaveLength(0);
    expect(requests).toHaveLength(3);
    expect(userText(requests[1])).toContain('no "## Test file" heading');
    expect(userText(requests[2])).toContain('src/repro.rs is not where Rust tests go');
    expect(result.summary).toContain('tests/old.rs already exists');
    expect(state.reproduction).toBeNull();
  });

  it('makes no call the token budget cannot pay for, and goes on without one', async () => {
    const { result, requests, state } = await reproduce([REPRO()], [], {}, { max_total_tokens: 300 });
    expect(requests).toHaveLength(0);
    expect(result.summary).toMatch(/^no reproduction: token budget: the next call could use up to/);
    expect(state.notes[0]).toMatch(/after 1 try/);
  });

  it('lets a transient model failure through, for the engine to retry the step', async () => {
    await expect(reproduce([new TransientError('429 Too Many Requests')], [])).rejects.toThrow('429');
  });

  it('goes on without one when the endpoint refuses the request', async () => {
    const { result, state } = await reproduce([new Error('404 model not found')], []);
    expect(result.summary).toBe('no reproduction: the model refused the request: 404 model not found; going on without one');
    expect(state.reproduction).toBeNull();
  });
});

describe('whether a reproduction is asked for', () => {
  const failing = (): VerifyOutcome => ({
    ...BASE_TEST(),
    ok: false,
    tests: { passed: [], failed: [{ name: 'lib::tests::adds', output: 'boom' }], ignored: 0, summary: '1 failed' },
  });

  it('auto: not when the task names a test failing on the base; always: even then', () => {
    const named = { request: { ...REQUEST, description: 'the test `adds` fails' } };
    expect(whyNotReproduce({ mode: 'auto' }, rust, failing(), named)).toBe(
      'the task names test(s) failing on the base (lib::tests::adds): no reproduction needed',
    );
    expect(whyNotReproduce({ mode: 'always' }, rust, failing(), named)).toBeNull();
    // A failing test the task does not name is no reason to skip.
    expect(whyNotReproduce({ mode: 'auto' }, rust, failing(), { request: REQUEST })).toBeNull();
  });

  it('not when the base tests do not run, or no toolchain can run them', () => {
    const broken: VerifyOutcome = { ...BASE_TEST(), ok: false, tests: null, couldNotRun: 'test could not run: 2 compile error(s)' };
    expect(whyNotReproduce({ mode: 'always' }, rust, broken, { request: REQUEST })).toMatch(
      /^the base's tests do not run \(test could not run/,
    );
    expect(whyNotReproduce({ mode: 'always' }, null, BASE_TEST(), { request: REQUEST })).toBe('no toolchain: no test can be run');
  });

  it('is skipped by the step with the reason, without a model call', async () => {
    const plan = planWith({});
    const state = initialState(repoDir);
    state.baseline.test = failing();
    const { sandbox, specs } = replaySandbox([], repoDir);
    const { llm, requests } = scriptedLlm([]);
    const { ctx } = context({
      step: plan.steps.find((s) => s.id === 'reproduce')!,
      state,
      sandbox,
      llm,
      request: { ...REQUEST, description: 'adds fails' },
    });
    const result = await createRegistry().get('reproduce')!.run(ctx);
    expect(result).toEqual({
      status: 'skipped',
      summary: 'the task names test(s) failing on the base (lib::tests::adds): no reproduction needed',
    });
    expect(requests).toHaveLength(0);
    expect(specs).toHaveLength(0);
  });
});

describe('the test step with a reproduction', () => {
  async function testChange(result: ExecResult, kept = false) {
    const plan = planWith({});
    const state = initialState(repoDir);
    state.baseline.test = BASE_TEST();
    state.reproduction = {
      file: 'tests/repro_add.rs',
      content: 'use calc::add;\n',
      tests: ['tests/repro_add.rs::add_returns_the_sum'],
      baseFailure: 'add_returns_the_sum: assertion failed',
      kept,
    };
    state.change = { branch: 'autodev/x', commit: 'c0ffee', diff: '', files: ['src/lib.rs'] };
    const { sandbox, present } = replaySandbox([result], repoDir);
    const { ctx } = context({ step: plan.steps.find((s) => s.id === 'test')!, state, sandbox });
    const verdict = await createRegistry().get('test')!.run(ctx);
    return { verdict, state, present };
  }

  const both = (repro: string): ExecResult => ({
    ...cargoTest(repro.includes('FAILED') ? 101 : 0, LIB, PASSED_MUL),
    stdout: `${PASSED_MUL}${repro}`,
    stderr: `     Running ${LIB}\n     Running ${REPRO_BIN}\n`,
  });

  it('runs with the reproduction in place (then removes it) and counts it as evidence when it passes', async () => {
    const { verdict, state, present } = await testChange(both(REPRO_PASSED));
    expect(present).toEqual([true]);
    expect(existsSync(path.join(repoDir, 'tests/repro_add.rs'))).toBe(false);
    expect(verdict.status).toBe('ok');
    expect(state.verify.test?.evidence?.fixed).toEqual(['tests/repro_add.rs::add_returns_the_sum']);
    expect(state.reproduction?.head).toEqual({ passed: ['tests/repro_add.rs::add_returns_the_sum'], failed: [], notRun: [] });
  });

  it('sends a change that leaves the reproduction failing back to the model, with its failure', async () => {
    const { verdict, state } = await testChange(both(REPRO_FAILED));
    expect(verdict.status).toBe('failed');
    expect(verdict.endsAs).toBeUndefined();
    expect(verdict.summary).toBe(
      'the reproduction test tests/repro_add.rs does not pass: tests/repro_add.rs::add_returns_the_sum still fail',
    );
    expect(verdict.feedback).toContain('The reproduction test tests/repro_add.rs was written before the fix');
    expect(verdict.feedback).toContain('left: -1');
    expect(state.reproduction?.head?.failed).toEqual(['tests/repro_add.rs::add_returns_the_sum']);
  });

  it('does not write a kept reproduction: it is in the change already', async () => {
    const { present } = await testChange(both(REPRO_PASSED), true);
    expect(present).toEqual([false]);
  });
});

describe('apply with a reproduction (real git)', () => {
  const PATCH = (file: string, line: string) => `--- /dev/null\n+++ b/${file}\n@@ -0,0 +1 @@\n+${line}\n`;
  const REPRO_STATE = { file: 'tests/repro_add.rs', content: 'use calc::add;\n', tests: ['tests/repro_add.rs::t'], baseFailure: 't: boom' };

  async function apply(patch: string, kept: boolean) {
    const repo = await makeRepo({ 'Cargo.toml': '[package]\nname = "calc"\n', 'src/lib.rs': 'pub fn add() {}\n' });
    const plan = planWith({});
    const state = initialState(repo);
    state.baseCommit = (await git(repo, ['rev-parse', 'HEAD'])).trim();
    state.reproduction = { ...REPRO_STATE, kept };
    state.generation = { rationale: 'r', commitMessage: 'Add notes', patch };
    const { ctx } = context({ step: plan.steps.find((s) => s.id === 'apply')!, state, sandbox: replaySandbox([], repo).sandbox });
    (ctx.ports as { git: unknown }).git = createGit();
    const result = await createRegistry().get('apply')!.run(ctx);
    return { result, state, repo };
  }

  it('commits a kept reproduction with the change, and a reproduction not kept never', async () => {
    const kept = await apply(PATCH('NOTES.md', 'notes'), true);
    expect(kept.result.status).toBe('ok');
    expect([...kept.state.change!.files].sort()).toEqual(['NOTES.md', 'tests/repro_add.rs']);
    expect(await git(kept.repo, ['show', `${kept.state.change!.commit}:tests/repro_add.rs`])).toContain('use calc::add;');

    const notKept = await apply(PATCH('NOTES.md', 'notes'), false);
    expect(notKept.state.change!.files).toEqual(['NOTES.md']);
    expect(notKept.state.change!.diff).not.toContain('repro_add');
  });

  it('sends a patch that writes the reproduction test back to the model', async () => {
    const { result, state } = await apply(PATCH('tests/repro_add.rs', '// fixed by editing the test'), false);
    expect(result.status).toBe('failed');
    expect(result.summary).toBe('the patch edits the reproduction test tests/repro_add.rs');
    expect(result.feedback).toContain('Leave it exactly as it is');
    expect(state.change).toBeNull();
  });
});
