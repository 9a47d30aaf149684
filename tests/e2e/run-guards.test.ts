// Test-integrity guards end to end: on a crate where `add` and `mul` are both wrong, a reply that fixes
// `add` and deletes the failing `multiplies` test instead of fixing `mul` is verified (a test shows
// the fix of `add`) but never opened as a ready PR: by default a draft, labelled for review, listing
// the finding; with `policy.guards = "deny"` and the real OPA server running the shipped Rego policy,
// denied (exit 3) with no PR. `--sarif` writes the lint and secrets results.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_FILES } from '../support/calc-crate.js';
import { makeRunDir, runCli, taskEnv } from '../support/cli.js';
import { startRealOpa } from '../support/go-tools.js';
import { replyFor } from '../real/fixtures.js';
import { e2eSuite, git, makeBareRepo, parseJson, runArgs } from './harness.js';

const RUN_TIMEOUT = 180_000;
const TASK = { title: 'Fix add', description: 'add in src/lib.rs returns a wrong result.' };
const BROKEN = { ...CALC_FILES, 'src/lib.rs': CALC_FILES['src/lib.rs'].replace('    a * b\n', '    a + b\n') };
const REGO = path.resolve(import.meta.dirname, '../../policy/autodev.rego');

const { cache, startServers } = e2eSuite();

async function deletesFailingTest(): Promise<string> {
  const lib = BROKEN['src/lib.rs']
    .replace('    a - b\n', '    a + b\n')
    .replace(/\n    #\[test\]\n    fn multiplies\(\) \{\n.*\n    \}\n/, '\n');
  return replyFor('Fix add', BROKEN, { 'src/lib.rs': lib }, 'Fixed add in src/lib.rs; all tests pass now.');
}

interface GuardJson {
  verdicts: { name: string; verdict: string }[] | null;
}

describe('autodev run: a change that deletes a failing test', () => {
  it(
    'is opened as a draft labelled for review, the finding listed and the rationale flagged; --sarif writes the checks',
    async () => {
      const bare = await makeBareRepo(BROKEN);
      const { llm, github } = await startServers({ always: await deletesFailingTest() });
      const runDir = await makeRunDir();
      const sarif = path.join(runDir.cwd, 'autodev.sarif');

      const outcome = await runCli(runArgs(bare, TASK, '--sarif', sarif), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github }),
      });
      const json = parseJson(outcome) as ReturnType<typeof parseJson> & GuardJson;

      expect({ code: outcome.code, stderr: outcome.code ? outcome.stderr : '' }).toEqual({ code: 0, stderr: '' });
      expect(json.status).toBe('pr_created');
      expect(json.policy?.decision).toBe('review');
      expect(json.policy?.reasons.map((r) => r.code)).toEqual(['test_deleted', 'assertion_weakened']);
      expect(json.verdicts).toEqual([
        { name: 'lib::tests::adds', verdict: 'fixed', base: 'failed', head: 'passed' },
        { name: 'lib::tests::multiplies', verdict: 'gone', base: 'failed', head: null },
      ]);
      const [pull] = github.pulls('acme', 'calc');
      expect(pull.draft).toBe(true);
      expect(pull.labels).toContain('needs-review');
      expect(pull.body).toContain('### Test-integrity and scope findings (for review)');
      expect(pull.body).toMatch(/^- `test_deleted` src\/lib\.rs:\d+: test removed/m);
      expect(pull.body).toContain('- the rationale says all tests pass, but 1 test(s) fail, are flaky or no longer run (see the table)');
      const log = JSON.parse(await readFile(sarif, 'utf8')) as { version: string; runs: { tool: { driver: { name: string } } }[] };
      expect(log.version).toBe('2.1.0');
      expect(log.runs.map((r) => r.tool.driver.name)).toEqual(['autodev lint (rust)', 'autodev secrets (builtin)']);
    },
    RUN_TIMEOUT,
  );

  it(
    'is denied (exit 3, no PR, nothing pushed) with policy.guards = "deny" by the real OPA server and the shipped Rego policy',
    async () => {
      const opa = await startRealOpa([REGO]);
      try {
        const bare = await makeBareRepo(BROKEN);
        const { llm, github } = await startServers({ always: await deletesFailingTest() });
        const runDir = await makeRunDir();
        const env = taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_OPA_URL: opa.url, AUTODEV_POLICY_GUARDS: 'deny' } });

        const outcome = await runCli(runArgs(bare, TASK), { cwd: runDir.cwd, env });
        const json = parseJson(outcome);

        expect(outcome.code).toBe(3);
        expect(json.status).toBe('denied');
        expect(json.policy).toMatchObject({ engine: 'opa', decision: 'deny' });
        expect(json.policy?.reasons.map((r) => r.code).sort()).toEqual(['assertion_weakened', 'test_deleted']);
        expect(json.pr).toBeNull();
        expect(github.pulls('acme', 'calc')).toEqual([]);
        expect(await git(bare, ['branch', '--format=%(refname:short)'])).toBe('main');
      } finally {
        await opa.close();
      }
    },
    RUN_TIMEOUT,
  );
});
