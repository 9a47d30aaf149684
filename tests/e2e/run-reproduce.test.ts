// Reproduce first (generate.reproduce), end to end: the built CLI, the scripted model, real git and a
// real cargo in bubblewrap, on a crate whose bug no test catches. The model's reproduction test is run
// on the base and kept only if it runs and fails there; the fix must make it pass; it reaches the
// commit only with keep_reproduction.
import { describe, expect, it } from '@jest/globals';
import { CALC_FILES, FIXED_REPLY, STILL_WRONG_REPLY } from '../support/calc-crate.js';
import { makeRunDir, runCli, taskEnv } from '../support/cli.js';
import type { OpenAiServer } from '../support/openai-server.js';
import type { GitHubServer } from '../support/github-server.js';
import { e2eSuite, git, makeBareRepo, parseJson, runArgs, type RunJson } from './harness.js';

const RUN_TIMEOUT = 240_000;
const { cache, startServers } = e2eSuite();

// The calc crate without its `adds` test: nothing on the base fails, so the task names no failing test.
const UNTESTED_FILES: Record<string, string> = {
  ...CALC_FILES,
  'src/lib.rs': CALC_FILES['src/lib.rs'].replace(/ {4}#\[test\]\n {4}fn adds\(\) \{\n[^}]*\}\n\n/, ''),
};
const TASK = { title: 'Fix add: it subtracts', description: 'add(2, 3) returns -1 instead of the sum 5.' };
const REPRO_FILE = 'tests/repro_add.rs';
const REPRO_TEST = 'tests/repro_add.rs::add_returns_the_sum';

function reproReply(file: string, body: string): string {
  return `I will show the bug with a test.\n\n## Test file\n${file}\n\n## Test\n\`\`\`rust\n${body}\`\`\`\n`;
}
/** Fails on the base: add(2, 3) is -1 there. */
const REPRO_FAILS = reproReply(REPRO_FILE, 'use calc::add;\n\n#[test]\nfn add_returns_the_sum() {\n    assert_eq!(add(2, 3), 5);\n}\n');
/** Passes on the base: it tests mul, which works. */
const REPRO_PASSES = reproReply(
  'tests/repro_mul.rs',
  'use calc::mul;\n\n#[test]\nfn mul_multiplies() {\n    assert_eq!(mul(3, 4), 12);\n}\n',
);
/** Does not compile: there is no `calc::sum`. */
const REPRO_BROKEN = reproReply('tests/repro_sum.rs', 'use calc::sum;\n\n#[test]\nfn sum_adds() {\n    assert_eq!(sum(2, 3), 5);\n}\n');

type ReproJson = RunJson & {
  reproduction: {
    file: string;
    tests: string[];
    kept: boolean;
    base: { outcome: string; failure: string };
    head: { outcome: string; passed: string[]; failed: string[]; notRun: string[] };
  } | null;
  evidence: { fixed: string[]; failOnBase: string[]; gone: string[] } | null;
};

async function run(replies: string[], extra: Record<string, string>) {
  const bare = await makeBareRepo(UNTESTED_FILES);
  const { llm, github } = await startServers({ replies: replies.map((content) => ({ content })) });
  const runDir = await makeRunDir();
  const env = taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_GENERATE_REPRODUCE: 'auto', ...extra } });
  const outcome = await runCli(runArgs(bare, TASK), { cwd: runDir.cwd, env });
  return { bare, outcome, json: parseJson(outcome) as ReproJson, llm, github };
}

function userPrompt(llm: OpenAiServer, index: number): string {
  const body = llm.chatBodies()[index];
  return (body?.messages ?? [])
    .filter((m) => m.role === 'user')
    .map((m) => m.content)
    .join('\n');
}

function prBody(github: GitHubServer): string {
  const pulls = github.pulls('acme', 'calc');
  expect(pulls).toHaveLength(1);
  return String(pulls[0].body);
}

async function branchFiles(bare: string, branch: string): Promise<string[]> {
  return (await git(bare, ['ls-tree', '-r', '--name-only', branch])).split('\n').filter(Boolean);
}

describe('autodev run: reproduce first', () => {
  it('--plan-only --json shows the reproduce step between search and codegen, with its settings; never leaves it out', async () => {
    const bare = await makeBareRepo(UNTESTED_FILES);
    const plans: { id: string; tool: string; command?: string[]; inputs: Record<string, unknown> }[][] = [];
    for (const reproduce of ['auto', 'never']) {
      const runDir = await makeRunDir();
      const env = taskEnv(runDir, { cache, extra: { AUTODEV_GENERATE_REPRODUCE: reproduce, AUTODEV_GENERATE_REPRODUCE_TRIES: '3' } });
      const outcome = await runCli([...runArgs(bare, TASK), '--plan-only'], { cwd: runDir.cwd, env });
      expect(outcome.code).toBe(0);
      plans.push((JSON.parse(outcome.stdout) as { plan: { steps: (typeof plans)[number] } }).plan.steps);
    }
    const ids = plans[0].map((s) => s.id);
    expect(ids.slice(ids.indexOf('search'), ids.indexOf('search') + 3)).toEqual(['search', 'reproduce', 'codegen']);
    const step = plans[0].find((s) => s.id === 'reproduce')!;
    expect(step.command).toEqual(plans[0].find((s) => s.id === 'test')!.command);
    expect(step.inputs).toMatchObject({ mode: 'auto', keep: false, tries: 3, model: 'test-model', format: 'cargo-test' });
    expect(plans[1].map((s) => s.id)).not.toContain('reproduce');
  });

  it(
    'keeps a reproduction that fails on the base, sends a fix that leaves it failing back, and shows before/after; not committed by default',
    async () => {
      const { bare, outcome, json, llm, github } = await run([REPRO_FAILS, STILL_WRONG_REPLY, FIXED_REPLY], {});

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      const steps = json.steps.filter((s) => s.mode === 'change').map((s) => `${s.id}:${s.round}:${s.status}`);
      expect(steps).toContain('reproduce:0:ok');
      expect(steps.indexOf('reproduce:0:ok')).toBeLessThan(steps.indexOf('codegen:0:ok'));
      // a + b + 1 builds and breaks no test of the base: only the reproduction shows it is wrong.
      const firstTest = json.steps.find((s) => s.id === 'test' && s.mode === 'change' && s.round === 0)!;
      expect(firstTest.status).toBe('failed');
      expect(firstTest.summary).toContain(`the reproduction test ${REPRO_FILE} does not pass`);
      expect(steps).toContain('test:1:ok');

      expect(json.reproduction).toEqual({
        file: REPRO_FILE,
        tests: [REPRO_TEST],
        kept: false,
        base: { outcome: 'failed', failure: expect.stringContaining('add_returns_the_sum') },
        head: { outcome: 'passed', passed: [REPRO_TEST], failed: [], notRun: [] },
      });
      expect(json.evidence?.fixed).toContain(REPRO_TEST);

      // The model: asked for the test first, then shown it with the change request, then told it still fails.
      expect(llm.chatBodies()).toHaveLength(3);
      expect(userPrompt(llm, 0)).toContain('How tests are written here (Rust)');
      expect(userPrompt(llm, 1)).toContain(`# Reproduction test: ${REPRO_FILE}`);
      expect(userPrompt(llm, 1)).toContain('assert_eq!(add(2, 3), 5);');
      expect(userPrompt(llm, 2)).toContain(`The reproduction test ${REPRO_FILE} was written before the fix`);

      // Not part of the change: not in the commit, the diff or the branch on the remote.
      expect(json.change!.files).toEqual(['src/lib.rs']);
      expect(json.change!.diff).not.toContain('repro_add');
      expect(await branchFiles(bare, json.change!.branch)).not.toContain(REPRO_FILE);

      const body = prBody(github);
      expect(body).toContain('### Reproduction');
      expect(body).toContain(`\`${REPRO_FILE}\``);
      expect(body).toMatch(/- before \(base\): fails: .*add_returns_the_sum/);
      expect(body).toContain('- after (this change): passes with this change');
      expect(body).toContain('not part of this change');
    },
    RUN_TIMEOUT,
  );

  it(
    'with keep_reproduction = true, commits the reproduction with the fix',
    async () => {
      const { bare, outcome, json, github } = await run([REPRO_FAILS, FIXED_REPLY], { AUTODEV_GENERATE_KEEP_REPRODUCTION: 'true' });

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      expect(json.reproduction).toMatchObject({ file: REPRO_FILE, kept: true, head: { outcome: 'passed' } });
      expect([...json.change!.files].sort()).toEqual(['src/lib.rs', REPRO_FILE]);
      expect(json.change!.diff).toContain(`+++ b/${REPRO_FILE}`);
      expect(await branchFiles(bare, json.change!.branch)).toContain(REPRO_FILE);
      expect(await git(bare, ['show', `${json.change!.branch}:${REPRO_FILE}`])).toContain('assert_eq!(add(2, 3), 5);');
      expect(prBody(github)).toContain('committed with this change');
    },
    RUN_TIMEOUT,
  );

  it(
    'rejects a reproduction that does not compile and one that passes on the base, then goes on without one and says so',
    async () => {
      // No repair round: the fix alone cannot be shown to do the task, which is not what this test is about.
      const { outcome, json, llm } = await run([REPRO_BROKEN, REPRO_PASSES, FIXED_REPLY], { AUTODEV_MAX_REPAIR_ATTEMPTS: '0' });

      expect(json.reproduction).toBeNull();
      const reproduce = json.steps.find((s) => s.id === 'reproduce')!;
      expect(reproduce.status).toBe('ok');
      expect(reproduce.summary).toMatch(/^no reproduction: it passes on the base .*going on without one$/);
      expect(json.notes.join('\n')).toMatch(/No reproduction test: it passes on the base .*\(after 2 tries\); going on without one\./);
      expect(outcome.stderr).toContain('reproduce: try 1 of 2 not kept: the test does not compile');
      expect(outcome.stderr).toContain('reproduce: try 2 of 2 not kept: it passes on the base');

      // The second request carries the compile error of the first test; codegen is shown no reproduction.
      const second = userPrompt(llm, 1);
      expect(second).toContain('# Your previous test was not kept');
      expect(second).toContain('tests/repro_sum.rs');
      expect(second).toMatch(/does not compile:[\s\S]*sum/);
      expect(llm.chatBodies()).toHaveLength(3);
      expect(userPrompt(llm, 2)).not.toContain('# Reproduction test');

      // Neither try left a file behind: the change is the fix alone.
      expect(json.change!.files).toEqual(['src/lib.rs']);
      // Without a reproduction nothing shows the fix does the task: unproven, as without reproduce.
      expect(json.status).toBe('unproven');
      expect(outcome.code).toBe(1);
    },
    RUN_TIMEOUT,
  );
});
