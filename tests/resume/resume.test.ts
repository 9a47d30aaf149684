// `autodev run --resume <id>` end to end: a run killed outright (SIGKILL to its whole process group,
// so nothing is cleaned up) during the sandboxed build of its change is continued by a second
// process from the build: no new model call, the same task id in the store, a pull request at the end.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SNAPSHOT_FILE, type ResumeSnapshot } from '../../src/task/resume.js';
import { CALC_FILES, CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { startGitHubServer } from '../support/github-server.js';
import { startOpenAiServer } from '../support/openai-server.js';
import { e2eSuite, makeBareRepo, parseJson, processesTouching, runArgs, storedTasks, workspaces } from '../e2e/harness.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, runCli, startCli, taskEnv, type CliOutcome } from '../support/cli.js';
import { until } from '../support/poll.js';

// The build script sleeps only while `slow-marker` (git-ignored, so never committed) sits in the
// checkout. The test drops it there when the model is asked, i.e. after the baseline build and
// before the change's build, and removes it before resuming, so only the first change build hangs.
const MARKER = 'slow-marker';
const SLOW_WHEN_MARKED = {
  ...CALC_FILES,
  '.gitignore': `/target\n/${MARKER}\n`,
  'build.rs': `fn main() {
    let marker = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("${MARKER}");
    if marker.exists() {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}
`,
};

const { cache, killAtEnd } = e2eSuite();

describe('autodev run --resume', () => {
  it('continues a SIGKILLed run from its build: no new model call, same task, pull request opened', async () => {
    const bare = await makeBareRepo(SLOW_WHEN_MARKED);
    const runDir = await makeRunDir();
    const llm = await startOpenAiServer({
      apiKey: OPENAI_KEY,
      onRequest: async () => {
        const [workspace] = await workspaces(runDir);
        await writeFile(path.join(workspace, 'repo', MARKER), 'sleep\n');
        return { content: FIXED_REPLY };
      },
    });
    const github = await startGitHubServer({ token: GITHUB_TOKEN });
    const env = taskEnv(runDir, { cache, llm, github });
    try {
      // Its own process group, so the kill reaches the CLI and everything it started, as `kill -9 -<pgid>` would.
      const running = startCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env, detached: true });
      const child = running.child;

      const [workspace] = await until('the task workspace', async () => {
        const found = await workspaces(runDir);
        return found.length ? found : null;
      });
      await until('the model to be asked', async () => llm.requests.length > 0);
      await until(
        () => `the change's build script to hang (stderr so far:\n${running.stderr()})`,
        async () => {
          const found = await processesTouching([workspace]);
          return found.some((line) => /build-script-build/.test(line));
        },
      );
      process.kill(-child.pid!, 'SIGKILL');
      const killed = await running.done;
      expect(killed.signal).toBe('SIGKILL');
      // bwrap dies with its parent and takes the sandbox's processes with it.
      await until(
        'the sandboxed build to die',
        async () => {
          const left = await processesTouching([workspace]);
          killAtEnd(left);
          return left.length === 0;
        },
        20_000,
      );

      // Nothing was cleaned up: the workspace and its resume state are there; the store still says executing.
      expect(existsSync(workspace)).toBe(true);
      const snapshotText = await readFile(path.join(workspace, SNAPSHOT_FILE), 'utf8');
      expect(snapshotText).not.toContain(OPENAI_KEY);
      expect(snapshotText).not.toContain(GITHUB_TOKEN);
      const snapshot = JSON.parse(snapshotText) as ResumeSnapshot;
      expect(snapshot.finished.filter((f) => f.mode === 'change').map((f) => `${f.id}:${f.status}`)).toEqual([
        'clone:ok',
        'search:ok',
        'codegen:ok',
        'apply:ok',
      ]);
      expect(snapshot.state.generation?.patch).toContain('a + b');
      const [killedTask] = await storedTasks(runDir);
      expect(killedTask.status).toBe('executing');
      expect(killedTask.exitCode).toBeNull();
      expect(killedTask.workspace).toBe(workspace);
      expect(path.basename(workspace)).toContain(killedTask.id);

      await rm(path.join(workspace, 'repo', MARKER));
      const resumed = await runCli(['run', '--resume', killedTask.id, '--json'], { cwd: runDir.cwd, env });
      const json = parseJson(resumed);

      expect(resumed.code).toBe(0);
      expect(json.status).toBe('pr_created');
      expect(json.task.id).toBe(killedTask.id);
      // It went on from the build: no clone, no search, no codegen, no baseline; the model was not asked again.
      expect(json.steps.map((s) => `${s.mode}:${s.id}:${s.status}`)).toEqual([
        'change:build:ok',
        'change:test:ok',
        'change:lint:ok',
        'change:deps-check:ok',
        'change:secrets:ok',
        'change:policy:ok',
        'change:pr:ok',
      ]);
      expect(llm.requests).toHaveLength(1);
      // What the first process learned is kept: its model usage and the baseline's failing test.
      expect(json.usage.calls).toBe(1);
      expect(json.baseline.failingTests).toEqual(['lib::tests::adds']);
      expect(resumed.stderr).toMatch(/resuming task .* at step build/);

      const pulls = github.pulls('acme', 'calc');
      expect(pulls).toHaveLength(1);
      expect(json.pr?.number).toBe(pulls[0].number);
      expect(pulls[0].head).toBe(json.change!.branch);
      expect(json.change!.diff).toContain('+    a + b');

      // One task in the store, the same id, finished; the workspace is removed as after any run.
      const tasks = await storedTasks(runDir);
      expect(tasks).toHaveLength(1);
      expect(tasks[0]).toMatchObject({ id: killedTask.id, status: 'pr_created', exitCode: 0, workspace: null, owner: { kind: 'run' } });
      expect(tasks[0].owner.pid).not.toBe(child.pid);
      expect(tasks[0].pr?.url).toBe(json.pr?.url);
      expect(tasks[0].notes.some((note) => note.startsWith('resumed at step build'))).toBe(true);
      expect(existsSync(workspace)).toBe(false);

      // Once it succeeded, there is nothing to resume.
      const again: CliOutcome = await runCli(['run', '--resume', killedTask.id], { cwd: runDir.cwd, env });
      expect(again.code).toBe(2);
      expect(again.stderr.trim()).toMatch(/^autodev: cannot resume task \S+: it already succeeded \(pr_created\)$/);
      expect(llm.requests).toHaveLength(1);
    } finally {
      await llm.close();
      await github.close();
    }
  }, 180_000);

  it('continues a task that failed with --keep-workspace at its pull request, without asking the model again', async () => {
    const bare = await makeBareRepo();
    const runDir = await makeRunDir();
    const llm = await startOpenAiServer({ apiKey: OPENAI_KEY, replies: [{ content: FIXED_REPLY }] });
    const github = await startGitHubServer({ token: GITHUB_TOKEN });
    // Creating the pull request fails once (no retries), so the task ends failed at its last step.
    github.failNext({ status: 502, method: 'POST', path: /\/pulls$/, body: { message: 'Bad Gateway' } });
    const env = taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_MAX_STEP_RETRIES: '0' } });
    try {
      const first = parseJson(await runCli([...runArgs(bare, CALC_TASK), '--keep-workspace'], { cwd: runDir.cwd, env }));
      expect(first.status).toBe('failed');
      expect(first.exitCode).toBe(1);
      expect(first.steps.at(-1)).toMatchObject({ id: 'pr', status: 'failed' });
      expect(first.workspace).not.toBeNull();
      expect(existsSync(first.workspace!)).toBe(true);
      expect(github.pulls('acme', 'calc')).toEqual([]);

      const resumed = await runCli(['run', '--resume', first.task.id, '--json'], { cwd: runDir.cwd, env });
      const json = parseJson(resumed);
      expect(resumed.code).toBe(0);
      expect(json.status).toBe('pr_created');
      expect(json.steps.map((s) => `${s.mode}:${s.id}:${s.status}`)).toEqual(['change:pr:ok']);
      expect(llm.requests).toHaveLength(1);
      expect(github.pulls('acme', 'calc')).toHaveLength(1);
      expect(json.change?.commit).toBe(first.change?.commit);
      // Kept only when asked again.
      expect(json.workspace).toBeNull();
      expect(existsSync(first.workspace!)).toBe(false);
      const tasks = await storedTasks(runDir);
      expect(tasks.map((t) => [t.id, t.status, t.exitCode, t.reason])).toEqual([[first.task.id, 'pr_created', 0, null]]);
    } finally {
      await llm.close();
      await github.close();
    }
  }, 120_000);
});
