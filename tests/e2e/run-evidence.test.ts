// `autodev run` end to end on what "verified" means: the change must be shown to do the task. A
// reply that deletes the failing test is not verified; one that only changes how the test fails gets
// a repair round; a test the change adds counts when it fails on the base and passes with the fix.
import { describe, expect, it } from '@jest/globals';
import { CALC_FILES, FIXED_REPLY, STILL_WRONG_REPLY } from '../support/calc-crate.js';
import type { OpenAiServer } from '../support/openai-server.js';
import { replyFor } from '../real/fixtures.js';
import { e2eSuite, git, makeBareRepo, parseJson, runArgs } from './harness.js';
import { hashDir } from '../support/tree.js';
import { makeRunDir, runCli, taskEnv } from '../support/cli.js';

const RUN_TIMEOUT = 180_000;
const LIB = CALC_FILES['src/lib.rs'];
// A task text that names no test: the judging must not lean on the task naming the failing test.
const TASK = { title: 'Fix add', description: 'add in src/lib.rs returns a wrong result.' };

const { cache, startServers } = e2eSuite();

function prompt(llm: OpenAiServer, index: number): string {
  return (llm.chatBodies()[index]?.messages ?? []).map((m) => m.content).join('\n');
}

interface EvidenceJson {
  evidence: { fixed: string[]; failOnBase: string[]; gone: string[] } | null;
}

describe('autodev run: verified means shown to do the task', () => {
  it(
    'a reply deleting the failing test module and leaving the bug ends unproven (exit 1), with no PR and nothing pushed',
    async () => {
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      const deletesTests = await replyFor('Fix the failing test', CALC_FILES, { 'src/lib.rs': LIB.slice(0, LIB.indexOf('#[cfg(test)]')) });
      const { llm, github } = await startServers({ always: deletesTests });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, TASK), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_MAX_REPAIR_ATTEMPTS: '1' } }),
      });
      const json = parseJson(outcome) as ReturnType<typeof parseJson> & EvidenceJson;

      expect(outcome.code).toBe(1);
      expect(json.exitCode).toBe(1);
      expect(json.status).toBe('unproven');
      expect(json.reason).toMatch(/^no evidence the change does the task: .*gone .*lib::tests::adds.* \(after 1 repair round\)$/);
      expect(json.verification.test).not.toMatch(/fixes/);
      expect(json.evidence).toEqual({ fixed: [], failOnBase: [], gone: ['lib::tests::adds', 'lib::tests::multiplies'] });
      expect(json.pr).toBeNull();
      expect(json.pushed).toBeNull();
      expect(json.steps.some((s) => s.id === 'pr' || s.id === 'policy')).toBe(false);
      // The repair round told the model that removing the failing test is no fix.
      expect(llm.chatBodies()).toHaveLength(2);
      expect(prompt(llm, 1)).toMatch(/Removing or skipping a failing test does not fix it/);
      expect(github.pulls('acme', 'calc')).toEqual([]);
      expect(github.requests).toEqual([]);
      expect(await git(bare, ['branch', '--format=%(refname:short)'])).toBe('main');
      expect(await hashDir(bare)).toBe(hashBefore);
      // The human summary says it plainly too.
      const human = await runCli(
        runArgs(bare, TASK).filter((a) => a !== '--json'),
        {
          cwd: runDir.cwd,
          env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_MAX_REPAIR_ATTEMPTS: '0' } }),
        },
      );
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/^unproven \(no test shows the change does the task; no pull request\): Fix add/);
    },
    RUN_TIMEOUT,
  );

  it(
    'a first reply that only changes how the failing test fails gets a repair round with the new failure; the fix is verified',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({ replies: [{ content: STILL_WRONG_REPLY }, { content: FIXED_REPLY }] });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
      const json = parseJson(outcome) as ReturnType<typeof parseJson> & EvidenceJson;

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      expect(json.usage.calls).toBe(2);
      const tests = json.steps.filter((s) => s.id === 'test' && s.mode === 'change');
      expect(tests.map((s) => `${s.round}:${s.status}`)).toEqual(['0:failed', '1:ok']);
      expect(tests[0].summary).toMatch(/still fail, with a different failure now: lib::tests::adds/);
      // The model sees the test still failing, with the output the change produced (2 + 2 + 1).
      expect(prompt(llm, 1)).toMatch(/still fail/);
      expect(prompt(llm, 1)).toMatch(/left: 5/);
      expect(json.evidence).toEqual({ fixed: ['lib::tests::adds'], failOnBase: [], gone: [] });
      expect(github.pulls('acme', 'calc')[0].body).toMatch(/`lib::tests::adds` failed on the base and passes with this change/);
    },
    RUN_TIMEOUT,
  );

  it(
    'on a base with no failing test, a test the change adds that fails on the base and passes with the fix is the evidence',
    async () => {
      const untested = LIB.replace(/    #\[test\]\n    fn adds\(\) \{\n.*\n    \}\n\n/, '');
      const base = { ...CALC_FILES, 'src/lib.rs': untested };
      const bare = await makeBareRepo(base);
      const withTest = (lib: string, test: string) =>
        lib.replace('    #[test]\n    fn multiplies', `    #[test]\n${test}\n\n    #[test]\n    fn multiplies`);
      // First a test that passes on the base too (and no fix): no evidence. Then the fix with a test of it.
      const passingTest = await replyFor('Test mul', base, {
        'src/lib.rs': withTest(untested, '    fn multiplies_by_one() {\n        assert_eq!(mul(7, 1), 7);\n    }'),
      });
      const fixWithTest = await replyFor('Fix add', base, {
        'src/lib.rs': withTest(
          untested.replace('    a - b\n', '    a + b\n'),
          '    fn adds_two_numbers() {\n        assert_eq!(add(2, 3), 5);\n    }',
        ),
      });
      const { llm, github } = await startServers({ replies: [{ content: passingTest }, { content: fixWithTest }] });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
      const json = parseJson(outcome) as ReturnType<typeof parseJson> & EvidenceJson;

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      expect(json.baseline.failingTests).toEqual([]);
      const tests = json.steps.filter((s) => s.id === 'test' && s.mode === 'change');
      expect(tests.map((s) => `${s.round}:${s.status}`)).toEqual(['0:failed', '1:ok']);
      expect(tests[0].summary).toMatch(/^no evidence the change does the task/);
      expect(prompt(llm, 1)).toMatch(/add a test that fails without your change and passes with it/);
      expect(json.evidence).toEqual({ fixed: [], failOnBase: ['lib::tests::adds_two_numbers'], gone: [] });
      expect(tests[1].summary).toMatch(/the change adds or changes fail on the base and pass with it: lib::tests::adds_two_numbers/);
      const body = github.pulls('acme', 'calc')[0].body ?? '';
      expect(body).toMatch(/`lib::tests::adds_two_numbers` \(added or changed here\) fails on the base and passes with this change/);
      // The branch holds the change as the model wrote it (the run against the base left no trace).
      expect(await git(bare, ['show', `${json.change!.branch}:src/lib.rs`])).toContain('fn adds_two_numbers');
      expect(await git(bare, ['show', `${json.change!.branch}:src/lib.rs`])).toContain('    a + b\n');
    },
    RUN_TIMEOUT,
  );
});
