// `autodev run` end to end: secrets nobody registered (one in the repository, one the model writes)
// never leave the tool. The model is shown the repository with them replaced by a placeholder; the
// PR body, the JSON result, the audit trail, the task store and the next prompt hold none of them.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { CALC_FILES, CALC_TASK, reply } from '../support/calc-crate.js';
import type { OpenAiServer } from '../support/openai-server.js';
import { auditFiles, e2eSuite, fakeGitHubToken, git, makeBareRepo, parseJson, readAllFiles, runArgs } from './harness.js';
import { makeRunDir, runCli, taskEnv } from '../support/cli.js';

const RUN_TIMEOUT = 120_000;
const { cache, startServers } = e2eSuite();

function prompt(llm: OpenAiServer, index: number): string {
  return (llm.chatBodies()[index]?.messages ?? []).map((m) => m.content).join('\n');
}

/** Nothing autodev wrote under the run's directory (task store, audit trail, metrics, temp) holds `secret`. */
async function expectWrittenNowhere(dir: string, secret: string): Promise<void> {
  for (const { file, text } of await readAllFiles(dir)) {
    if (text.includes(secret)) throw new Error(`${file} holds the secret`);
  }
}

describe('autodev run: secrets nobody registered', () => {
  it(
    'shows the model a repository secret only as a placeholder, and keeps the one its rationale quotes out of the PR',
    async () => {
      const secret = fakeGitHubToken();
      const files = {
        ...CALC_FILES,
        'src/lib.rs': CALC_FILES['src/lib.rs'].replace(
          '/// Adds two numbers.',
          `/// The demo bot's token (a leak this task is not about).\npub const BOT_TOKEN: &str = "${secret}";\n\n/// Adds two numbers.`,
        ),
      };
      const bare = await makeBareRepo(files);
      const rationale = `The function used the wrong operator. Unrelated: src/lib.rs also holds the token ${secret}; rotate it.`;
      // The model quotes the line as it was shown, placeholder and all, in its context.
      const fix = `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,7 +3,7 @@
 /// The demo bot's token (a leak this task is not about).
 pub const BOT_TOKEN: &str = "[REDACTED:github-token]";
 
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
`;
      const { llm, github } = await startServers({ replies: [{ content: reply('Fix add to return the sum', fix, rationale) }] });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      // The model saw the file, with the value replaced and a word on why.
      const sent = prompt(llm, 0);
      expect(sent).toContain('pub const BOT_TOKEN: &str = "[REDACTED:github-token]";');
      expect(sent).toContain('[REDACTED:<kind>] are secrets');
      expect(sent).not.toContain(secret);
      // The PR carries the rationale, without the value it quoted.
      const pulls = github.pulls('acme', 'calc');
      expect(pulls).toHaveLength(1);
      expect(pulls[0].body).toContain('Unrelated: src/lib.rs also holds the token [REDACTED:github-token]; rotate it.');
      expect(JSON.stringify(github.requests)).not.toContain(secret);
      expect(outcome.stdout + outcome.stderr).not.toContain(secret);
      await expectWrittenNowhere(runDir.dir, secret);
      // Redaction is for what leaves the tool: the real value went back into the patch before it was
      // matched (so git apply took it as is), and the file on the branch keeps it.
      expect(json.steps.find((s) => s.id === 'apply')?.summary).toMatch(/^applied \(git-apply\)/);
      const onBranch = await git(bare, ['show', `${json.change!.branch}:src/lib.rs`]);
      expect(onBranch).toContain(`pub const BOT_TOKEN: &str = "${secret}";`);
      expect(onBranch).toContain('    a + b\n');
    },
    RUN_TIMEOUT,
  );

  it(
    'keeps an AWS key the model added, in a change that fails to build, out of the JSON, the audit trail, the store and the next prompt',
    async () => {
      const awsKey = ['AKIA', 'Z3Q7XK2M', 'PL4RT9WE'].join('');
      // rustc quotes the offending line, key included, in the build error fed back to the model.
      const broken = `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,5 +3,6 @@
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    let key: i32 = "${awsKey}";
+    a + b + key
 }
 
`;
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({ always: reply('Fix add', broken) });
      const runDir = await makeRunDir();

      const outcome = await runCli(runArgs(bare, CALC_TASK), {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_MAX_REPAIR_ATTEMPTS: '1' } }),
      });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(1);
      expect(json.status).toBe('failed');
      expect(json.steps.filter((s) => s.id === 'build' && s.mode === 'change').map((s) => s.status)).toEqual(['failed', 'failed']);
      // The change (its diff) is in the result, redacted.
      expect(JSON.stringify(json)).toContain('[REDACTED:aws-access-key-id]');
      expect(outcome.stdout).not.toContain(awsKey);
      expect(outcome.stderr).not.toContain(awsKey);
      // The repair prompt quotes the previous patch and the build error, both redacted.
      expect(llm.chatBodies()).toHaveLength(2);
      const repair = prompt(llm, 1);
      expect(repair).toContain('# Your previous patch failed');
      expect(repair).toContain('let key: i32 = "[REDACTED:aws-access-key-id]";');
      expect(repair).not.toContain(awsKey);
      const audit = await auditFiles(runDir);
      expect(audit).toHaveLength(1);
      const auditText = await readFile(audit[0], 'utf8');
      expect(auditText).toContain('"build"');
      expect(auditText).not.toContain(awsKey);
      await expectWrittenNowhere(runDir.dir, awsKey);
      expect(github.requests).toEqual([]);
    },
    RUN_TIMEOUT,
  );
});
