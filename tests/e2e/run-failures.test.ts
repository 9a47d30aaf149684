// `autodev run` end to end, the paths that must end without a pull request: patches that never
// apply, tests that stay red, a leaked secret, escaping paths, a repository outside the allowlist,
// and --plan-only, which must leave the repository as it was.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_TASK, FIXED_REPLY, escapeReply, reply, secretReply } from '../support/calc-crate.js';
import type { GitHubServer } from '../support/github-server.js';
import type { OpenAiServer } from '../support/openai-server.js';
import {
  allObjects,
  auditFiles,
  e2eSuite,
  fakeGitHubToken,
  git,
  makeBareRepo,
  makeWorkRepo,
  parseJson,
  readAllFiles,
  runArgs,
  workspaces,
} from './harness.js';
import { hashDir } from '../support/tree.js';
import { makeRunDir, runCli, taskEnv } from '../support/cli.js';

const RUN_TIMEOUT = 120_000;
const { cache, startServers } = e2eSuite();

function prompt(llm: OpenAiServer, index: number): string {
  return (llm.chatBodies()[index]?.messages ?? []).map((m) => m.content).join('\n');
}

/** No PR and no push: the forge saw nothing and the remote is byte-for-byte what it was. */
async function expectNothingReachedTheRemote(bare: string, hashBefore: string, github: GitHubServer): Promise<void> {
  expect(github.pulls('acme', 'calc')).toEqual([]);
  expect(github.requests).toEqual([]);
  expect(await git(bare, ['branch', '--format=%(refname:short)'])).toBe('main');
  expect(await hashDir(bare)).toBe(hashBefore);
}

// Context that matches nothing in src/lib.rs, however fuzzily.
const UNAPPLICABLE_REPLY = reply(
  'Fix add',
  `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -40,4 +40,4 @@
 impl Drop for ConnectionPoolGuard<'_> {
     fn drop(&mut self) {
-        self.pool.release(self.slot.take());
+        self.pool.release_now(self.slot.take());
     }
`,
);

// calc-crate's STILL_WRONG_REPLY (`a * b`) passes `add(2, 2) == 4`; and a test that fails on the base
// and after the change is not blamed on it. So this reply fixes `add` but breaks `mul`: the test
// `multiplies`, green on the base, goes red.
const STILL_WRONG = reply(
  'Fix add',
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
+    a + b
 }
`,
);

describe('autodev run (ending without a pull request)', () => {
  it(
    'fails with exit 1 when no round produces a patch that applies, and feeds the patch error back',
    async () => {
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      const { llm, github } = await startServers({ always: UNAPPLICABLE_REPLY });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(1);
      expect(json.status).toBe('failed');
      expect(json.reason).toMatch(/patch did not apply/);
      expect(json.reason).toMatch(/after 2 repair rounds/);
      expect(json.pr).toBeNull();
      expect(json.pushed).toBeNull();
      // One request per round (default budget: 2 repairs), each repair carrying the apply error.
      expect(llm.chatBodies()).toHaveLength(3);
      expect(prompt(llm, 0)).not.toMatch(/NOT applied/);
      for (const index of [1, 2]) {
        expect(prompt(llm, index)).toContain('Your patch was NOT applied (no file was changed).');
        expect(prompt(llm, index)).toContain('src/lib.rs');
      }
      expect(json.steps.filter((s) => s.id === 'apply').map((s) => `${s.round}:${s.status}`)).toEqual(['0:failed', '1:failed', '2:failed']);
      await expectNothingReachedTheRemote(bare, hashBefore, github);
    },
    RUN_TIMEOUT,
  );

  it(
    'makes no repair round the token budget cannot pay for: exit 1 with the failure and the budget reason',
    async () => {
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      // The server bills the first call 2700 + 50 tokens: 250 of the 3000 are left, less than any
      // repair prompt, so the repair round is not asked for.
      const { llm, github } = await startServers({ replies: [{ content: UNAPPLICABLE_REPLY, promptTokens: 2700, completionTokens: 50 }] });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, CALC_TASK), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_LLM_MAX_TOTAL_TOKENS: '3000', AUTODEV_LLM_MAX_TOKENS: '256' } }),
      });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(1);
      expect(json.status).toBe('failed');
      expect(json.reason).toMatch(/^Your patch was NOT applied \(no file was changed\)\. .*src\/lib\.rs/);
      expect(json.reason).toMatch(
        /; no repair round: token budget: the next call could use up to \d+ tokens \(\d+ prompt, 256 reply\); llm\.max_total_tokens = 3000, 2750 used$/,
      );
      expect(llm.chatBodies()).toHaveLength(1);
      expect(llm.chatBodies()[0].max_tokens).toBe(256);
      // Usage as the API reported it.
      expect(json.usage).toMatchObject({ promptTokens: 2700, completionTokens: 50, totalTokens: 2750, calls: 1 });
      await expectNothingReachedTheRemote(bare, hashBefore, github);
    },
    RUN_TIMEOUT,
  );

  it(
    'fails with exit 1 when the tests still fail after the repair budget',
    async () => {
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      const { llm, github } = await startServers({ always: STILL_WRONG });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, CALC_TASK), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_MAX_REPAIR_ATTEMPTS: '1' } }),
      });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(1);
      expect(json.status).toBe('failed');
      expect(json.reason).toMatch(/after 1 repair round\b/);
      expect(json.pr).toBeNull();
      expect(json.pushed).toBeNull();
      expect(llm.chatBodies()).toHaveLength(2);
      expect(prompt(llm, 0)).not.toContain('tests::multiplies');
      expect(prompt(llm, 1)).toContain('multiplies');
      expect(json.steps.filter((s) => s.id === 'test' && s.mode === 'change').map((s) => `${s.round}:${s.status}`)).toEqual([
        '0:failed',
        '1:failed',
      ]);
      expect(json.steps.some((s) => s.id === 'pr')).toBe(false);
      await expectNothingReachedTheRemote(bare, hashBefore, github);
    },
    RUN_TIMEOUT,
  );

  it(
    'denies a change holding a secret (exit 3) and the secret is written nowhere',
    async () => {
      const secret = fakeGitHubToken();
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      const { llm, github } = await startServers({ replies: [{ content: secretReply(secret) }] });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(3);
      expect(json.status).toBe('denied');
      expect(json.pr).toBeNull();
      expect(json.pushed).toBeNull();
      expect(json.secrets?.findings.length).toBeGreaterThan(0);
      expect(json.secrets?.findings[0].file).toBe('src/lib.rs');
      await expectNothingReachedTheRemote(bare, hashBefore, github);

      // The model did send it (so the checks below are not vacuous) ...
      expect(llm.chatBodies()).toHaveLength(1);
      // ... and none of what autodev wrote holds it.
      expect(outcome.stdout).not.toContain(secret);
      expect(outcome.stderr).not.toContain(secret);
      expect(await git(bare, ['log', '-p', '--all'])).not.toContain(secret);
      expect(await allObjects(bare)).not.toContain(secret);
      expect(JSON.stringify(github.requests)).not.toContain(secret);
      const audit = await auditFiles(runDir);
      expect(audit).toHaveLength(1);
      const auditText = await readFile(audit[0], 'utf8');
      expect(auditText).toContain('"secrets"');
      expect(auditText).not.toContain(secret);
      for (const { file, text } of await readAllFiles(runDir.dir)) {
        if (text.includes(secret)) throw new Error(`${file} holds the secret`);
      }
    },
    RUN_TIMEOUT,
  );

  it(
    'fails with exit 1, not as an internal error, when the model refuses the request (401)',
    async () => {
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      const { llm, github } = await startServers({ replies: [{ content: FIXED_REPLY }] });
      const runDir = await makeRunDir();
      const wrongKey = 'e2e-wrong-openai-key-9876543210';

      const outcome = await runCli(runArgs(bare, CALC_TASK), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github, extra: { OPENAI_API_KEY: wrongKey } }),
      });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(1);
      expect(json.status).toBe('failed');
      expect(json.reason).toMatch(/answered 401/);
      expect(outcome.stderr).not.toMatch(/internal error/);
      // A refusal is not retried.
      expect(llm.chatBodies()).toHaveLength(1);
      expect(outcome.stdout + outcome.stderr).not.toContain(wrongKey);
      await expectNothingReachedTheRemote(bare, hashBefore, github);
    },
    RUN_TIMEOUT,
  );

  it.each([
    ['../outside.txt', 'outside.txt'],
    ['.git/config', null],
  ])(
    'refuses a patch touching %s and writes nothing outside the work tree',
    async (target, outsideName) => {
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      const { llm, github } = await startServers({ replies: [{ content: escapeReply(target) }] });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, CALC_TASK, '--keep-workspace'), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github }),
      });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(3);
      expect(json.status).toBe('denied');
      expect(json.reason).toMatch(/refused/);
      expect(json.pr).toBeNull();
      expect(json.change).toBeNull();
      // Not repairable: one request, no second round.
      expect(llm.chatBodies()).toHaveLength(1);
      await expectNothingReachedTheRemote(bare, hashBefore, github);
      // The kept workspace shows what was (not) written.
      const workspace = json.workspace!;
      expect(workspace).toBeTruthy();
      const repo = path.join(workspace, 'repo');
      expect(await readFile(path.join(repo, '.git', 'config'), 'utf8')).not.toContain('pwned');
      expect(await git(repo, ['status', '--porcelain'])).toBe('');
      if (outsideName) {
        for (const dir of [workspace, runDir.dir, runDir.cwd, runDir.tmp, path.dirname(bare)])
          expect(existsSync(path.join(dir, outsideName))).toBe(false);
      }
    },
    RUN_TIMEOUT,
  );

  it(
    'does not apply a symlink to /etc/shadow beside a real fix: a repair round is asked for, exit 1, nothing pushed',
    async () => {
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      const patch = `diff --git a/shadow b/shadow
new file mode 120000
--- /dev/null
+++ b/shadow
@@ -0,0 +1 @@
+/etc/shadow
\\ No newline at end of file
diff --git a/src/lib.rs b/src/lib.rs
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,5 +3,5 @@
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
 
`;
      const { llm, github } = await startServers({ always: reply('Fix add', patch) });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, CALC_TASK), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_MAX_REPAIR_ATTEMPTS: '1' } }),
      });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(1);
      expect(outcome.stderr).not.toMatch(/internal error/);
      expect(json.status).toBe('failed');
      expect(json.reason).toMatch(/patch did not apply: refused symlink "shadow"/);
      expect(json.change).toBeNull();
      // Repairable, and the model is told why.
      expect(llm.chatBodies()).toHaveLength(2);
      expect(prompt(llm, 1)).toContain('refused symlink "shadow"');
      expect(json.steps.filter((s) => s.id === 'apply').map((s) => `${s.round}:${s.status}`)).toEqual(['0:failed', '1:failed']);
      await expectNothingReachedTheRemote(bare, hashBefore, github);
    },
    RUN_TIMEOUT,
  );

  it('refuses a repository outside the allowlist (exit 3) before cloning or calling anything', async () => {
    const bare = await makeBareRepo();
    const hashBefore = await hashDir(bare);
    const { llm, github } = await startServers({ replies: [] });
    const runDir = await makeRunDir();

    const outcome = await runCli(runArgs(bare, CALC_TASK), {
      cwd: runDir.cwd,
      env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_ALLOWLIST_REPOS: 'acme/other' } }),
    });

    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toMatch(/not in allowlist_repos/);
    expect(await readdir(runDir.tmp)).toEqual([]);
    expect(await auditFiles(runDir)).toEqual([]);
    expect(llm.requests).toEqual([]);
    expect(github.requests).toEqual([]);
    expect(await hashDir(bare)).toBe(hashBefore);
  });

  it('--plan-only --json lists the pipeline and leaves the repository byte-for-byte unchanged', async () => {
    const { work } = await makeWorkRepo();
    const hashBefore = await hashDir(work);
    const { llm, github } = await startServers({ replies: [] });
    const runDir = await makeRunDir();

    const outcome = await runCli(
      ['run', '--plan-only', '--json', '--repo', work, '--title', CALC_TASK.title, '--description', CALC_TASK.description],
      {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github }),
      },
    );

    expect(outcome.code).toBe(0);
    const { plan, task } = JSON.parse(outcome.stdout) as {
      plan: { toolchain: string; sandbox: string; steps: { tool: string }[] };
      task: { repo: string };
    };
    expect(plan.steps.map((s) => s.tool)).toEqual([
      'clone',
      'search',
      'codegen',
      'apply',
      'build',
      'test',
      'lint',
      'deps-check',
      'secrets',
      'policy',
      'pr',
    ]);
    expect(plan.toolchain).toBe('rust');
    expect(plan.sandbox).toBe('bwrap');
    expect(task.repo).toBe(work);
    expect(await hashDir(work)).toBe(hashBefore);
    expect(await workspaces(runDir)).toEqual([]);
    expect(llm.requests).toEqual([]);
    expect(github.requests).toEqual([]);
  });
});
