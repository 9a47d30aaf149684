// Ctrl-C during a sandboxed build: the whole process tree of the task goes (bwrap, cargo, rustc, the
// build script), the workspace is removed and the run ends as cancelled with exit 130.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_FILES, CALC_TASK } from '../support/calc-crate.js';
import { startGitHubServer } from '../support/github-server.js';
import { startOpenAiServer } from '../support/openai-server.js';
import { auditFiles, e2eSuite, makeBareRepo, parseJson, processesTouching, runArgs, workspaces } from './harness.js';
import { hashDir } from '../support/tree.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, startCli, taskEnv } from '../support/cli.js';
import { until } from '../support/poll.js';

// A build script that outlives any test: only cancellation can end this build.
const SLOW_CRATE = {
  ...CALC_FILES,
  'build.rs': 'fn main() {\n    std::thread::sleep(std::time::Duration::from_secs(60));\n}\n',
};

const { cache, killAtEnd } = e2eSuite();

describe('autodev run, interrupted', () => {
  it('Ctrl-C during the build stops every process of the task, removes the workspace and exits 130', async () => {
    const bare = await makeBareRepo(SLOW_CRATE);
    const hashBefore = await hashDir(bare);
    const llm = await startOpenAiServer({ replies: [], apiKey: OPENAI_KEY });
    const github = await startGitHubServer({ token: GITHUB_TOKEN });
    const runDir = await makeRunDir();
    try {
      const running = startCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });

      await running.waitForStderr(/^build \[baseline[^\n]*: started$/m);
      const [workspace] = await until('the task workspace', async () => {
        const found = await workspaces(runDir);
        return found.length ? found : null;
      });
      // Wait until the build script itself sleeps inside the sandbox: then the tree is at its deepest.
      const during = await until('the sleeping build script', async () => {
        const found = await processesTouching([workspace, cache]);
        return found.some((line) => /build-script-build/.test(line)) ? found : null;
      });
      expect(during.some((line) => /^\d+ .*: bwrap /.test(line))).toBe(true);

      running.child.kill('SIGINT');
      const outcome = await running.done;
      const json = parseJson(outcome);

      expect(outcome.code).toBe(130);
      expect(outcome.signal).toBeNull();
      expect(json.status).toBe('cancelled');
      expect(json.exitCode).toBe(130);
      expect(outcome.stderr).toMatch(/SIGINT: cancelling/);
      const left = await processesTouching([workspace, cache]);
      killAtEnd(left);
      expect(left).toEqual([]);
      expect(existsSync(workspace)).toBe(false);
      expect(await workspaces(runDir)).toEqual([]);
      // The audit trail records the cancellation, under the task id the workspace was named after.
      const [audit] = await auditFiles(runDir);
      expect(path.basename(workspace)).toContain(path.basename(audit, '.jsonl'));
      expect(await readFile(audit, 'utf8')).toMatch(/"status":"cancelled"/);
      // Nothing reached the model, the forge or the remote.
      expect(llm.requests).toEqual([]);
      expect(github.requests).toEqual([]);
      expect(await hashDir(bare)).toBe(hashBefore);
    } finally {
      await llm.close();
      await github.close();
    }
  }, 120_000);
});
