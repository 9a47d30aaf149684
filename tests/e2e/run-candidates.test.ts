// `autodev run --candidates 3` end to end: the built bin against the scripted OpenAI server, a real
// git remote and real cargo builds in bubblewrap. Three candidates: one that does not compile, one
// that fixes `add` and breaks `mul`'s test, one correct; each is verified in its own copy of the
// workspace and the correct one wins whichever request gets which reply. With no candidate good
// enough the task abstains: a draft PR labelled needs-human, or no PR.
import { describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BROKEN_REPLY, CALC_TASK, FIXED_REPLY, STILL_WRONG_REPLY, reply } from '../support/calc-crate.js';
import { makeRunDir, runCli, taskEnv } from '../support/cli.js';
import { e2eSuite, git, makeBareRepo, parseJson, refs, runArgs, type RunJson } from './harness.js';

const RUN_TIMEOUT = 240_000;
const { cache, startServers } = e2eSuite();

/** Fixes `add` and breaks `mul`: `adds` passes, `multiplies` (green on the base) fails. */
const BREAKS_MUL_REPLY = reply(
  'Fix add to return the sum',
  `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,9 +3,9 @@
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
 
 /// Multiplies two numbers.
 pub fn mul(a: i32, b: i32) -> i32 {
-    a * b
+    a * b + 1
 }
`,
);

interface CandidateJson {
  id: string;
  status: string;
  apply: string;
  build: string;
  test: string;
  lint: string;
  newFailures: number | null;
  model: string;
  format: string | null;
  temperature: number;
  tokens: { prompt: number; completion: number };
  why: string;
  rank: number | null;
}
type Json = RunJson & { candidates: CandidateJson[]; abstain: { label: string | null; diagnosis: string } | null };

describe('autodev run --candidates', () => {
  it('refuses a --candidates that is not a whole number from 1 to 16, naming the flag (exit 2)', async () => {
    const runDir = await makeRunDir();
    for (const bad of ['0', 'three', '17']) {
      const outcome = await runCli(['run', '--repo', runDir.cwd, '--title', 't', '--candidates', bad], {
        cwd: runDir.cwd,
        env: taskEnv(runDir),
      });
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain(`--candidates ${bad}: not a whole number from 1 to 16`);
      expect(outcome.stderr).not.toMatch(/\n\s+at /);
    }
  });

  for (const order of [
    [BROKEN_REPLY, BREAKS_MUL_REPLY, FIXED_REPLY],
    [FIXED_REPLY, BROKEN_REPLY, BREAKS_MUL_REPLY],
  ]) {
    it(
      `chooses the correct candidate of three (the correct reply scripted ${order.indexOf(FIXED_REPLY) === 0 ? 'first' : 'last'})`,
      async () => {
        const bare = await makeBareRepo();
        const { llm, github } = await startServers({ replies: order.map((content) => ({ content })) });
        const runDir = await makeRunDir();
        const outcome = await runCli(runArgs(bare, CALC_TASK, '--candidates', '3'), {
          cwd: runDir.cwd,
          env: taskEnv(runDir, { cache, llm, github }),
        });
        const json = parseJson(outcome) as Json;

        expect(json.status).toBe('pr_created');
        expect(outcome.code).toBe(0);
        expect(llm.chatBodies()).toHaveLength(3);
        // The select step ran between codegen and apply, and the winner went through the normal steps.
        const changeSteps = json.steps.filter((s) => s.mode === 'change').map((s) => s.id);
        expect(changeSteps.slice(changeSteps.indexOf('codegen'), changeSteps.indexOf('codegen') + 3)).toEqual([
          'codegen',
          'select',
          'apply',
        ]);
        expect(json.candidates).toHaveLength(3);
        const chosen = json.candidates.filter((c) => c.status === 'chosen');
        expect(chosen).toHaveLength(1);
        expect(chosen[0]).toMatchObject({ apply: 'ok', build: 'ok', test: 'ok', newFailures: 0, rank: 1, model: 'test-model' });
        expect(chosen[0].why).toMatch(/^chosen: ahead of c\d: fewer tests newly failing \(0 vs 1\)$/);
        const dropped = json.candidates.filter((c) => c.status === 'dropped');
        expect(dropped.map((c) => [c.build, c.test, c.newFailures]).sort()).toEqual([
          ['failed', 'not run', null],
          ['ok', 'failed', 1],
        ]);
        for (const c of json.candidates) {
          expect(c.tokens.prompt).toBeGreaterThan(0);
          expect(c.format).toBe('udiff');
        }
        // Only the winner reached the branch.
        const lib = await git(bare, ['show', `${json.change!.branch}:src/lib.rs`]);
        expect(lib).toContain('    a + b\n');
        expect(lib).toContain('    a * b\n');
        expect(lib).not.toContain('i64');
        const [pull] = github.pulls('acme', 'calc');
        expect(pull.draft).toBe(false);
        expect(pull.body).toContain('### Candidates');
        expect(pull.body).toContain('3 candidate change(s) were tried (test-model)');
        expect(pull.body).toMatch(/This is c\d \(test-model, udiff, temperature 0\.[26]\): chosen: ahead of/);
      },
      RUN_TIMEOUT,
    );
  }

  it(
    'abstains when no candidate meets the bar: a draft PR labelled needs-human, the task unproven',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({
        replies: [BROKEN_REPLY, BREAKS_MUL_REPLY, STILL_WRONG_REPLY].map((content) => ({ content })),
      });
      const runDir = await makeRunDir();
      const outcome = await runCli(runArgs(bare, CALC_TASK, '--candidates', '3'), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_MAX_REPAIR_ATTEMPTS: '0' } }),
      });
      const json = parseJson(outcome) as Json;

      expect(json.status).toBe('unproven');
      expect(outcome.code).toBe(1);
      expect(json.abstain).toEqual({
        label: 'needs-human',
        diagnosis: expect.stringMatching(/^no candidate meets the bar \(of 3\): the best, c\d, test: /),
      });
      expect(json.reason).toBe(json.abstain!.diagnosis);
      // The best is the one that breaks nothing (it leaves `adds` failing, as on the base).
      const best = json.candidates.find((c) => c.status === 'abstained')!;
      expect(best).toMatchObject({ build: 'ok', test: 'failed', newFailures: 0, rank: 1 });
      const pulls = github.pulls('acme', 'calc');
      expect(pulls).toHaveLength(1);
      expect(pulls[0].draft).toBe(true);
      expect(pulls[0].labels).toContain('needs-human');
      expect(pulls[0].body).toContain('## Needs a human');
      expect(await git(bare, ['show', `${json.change!.branch}:src/lib.rs`])).toContain('a + b + 1');
    },
    RUN_TIMEOUT,
  );

  it(
    'with generate.on_no_winner = "none" opens no PR and pushes nothing',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({
        replies: [BROKEN_REPLY, BREAKS_MUL_REPLY, STILL_WRONG_REPLY].map((content) => ({ content })),
      });
      const runDir = await makeRunDir();
      const config = path.join(runDir.cwd, 'abstain.toml');
      await writeFile(config, '[autodev]\nmax_repair_attempts = 0\n\n[autodev.generate]\ncandidates = 3\non_no_winner = "none"\n');
      const outcome = await runCli(runArgs(bare, CALC_TASK, '--config', config), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github }),
      });
      const json = parseJson(outcome) as Json;

      expect(json.status).toBe('unproven');
      expect(outcome.code).toBe(1);
      expect(json.abstain).toEqual({
        label: null,
        diagnosis: expect.stringMatching(/^no candidate meets the bar \(of 3\).*no pull request \(generate\.on_no_winner = "none"\)$/),
      });
      expect(json.pr).toBeNull();
      expect(json.pushed).toBeNull();
      expect(github.pulls('acme', 'calc')).toEqual([]);
      expect(Object.keys(await refs(bare))).toEqual(['refs/heads/main']);
    },
    RUN_TIMEOUT,
  );
});
