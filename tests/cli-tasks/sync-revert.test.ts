// `autodev tasks sync` and `tasks revert` against the local GitHub server and a real bare remote,
// after a real `autodev run` (run `npm run build` first).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CALC_FILES, CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { cleanup, git, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, requireBuilt, runCli, taskEnv } from '../support/cli.js';
import { storedTasks } from '../e2e/harness.js';

let llm: OpenAiServer;
let github: GitHubServer;

beforeAll(async () => {
  requireBuilt();
  llm = await startOpenAiServer({ apiKey: OPENAI_KEY, onRequest: () => ({ content: FIXED_REPLY }) });
  github = await startGitHubServer({ token: GITHUB_TOKEN });
});
afterAll(async () => {
  await llm.close();
  await github.close();
  await cleanup();
});

/** Merges `branch` into main of `bare` with a merge commit, the way GitHub's merge button does. */
async function mergeOnRemote(bare: string, branch: string): Promise<string> {
  const work = path.join(await makeTempDir('autodev-merge-'), 'work');
  await git(path.dirname(work), ['clone', '-q', bare, work]);
  await git(work, ['merge', '--no-ff', '-q', '-m', `Merge branch ${branch}`, `origin/${branch}`]);
  await git(work, ['push', '-q', 'origin', 'main']);
  return git(work, ['rev-parse', 'HEAD']);
}

function metricValue(text: string, name: string): number | null {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

describe('tasks sync and tasks revert', () => {
  it('records a merge (and counts it), then opens a revert PR that undoes the change', async () => {
    const box = await makeRunDir('autodev-sync-');
    const bare = await makeRepo(CALC_FILES, { bare: true });
    const env = taskEnv(box, { llm, github });
    const metricsFile = path.join(box.dir, 'autodev.prom');

    const ran = await runCli(['run', '--json', '--repo', bare, '--title', CALC_TASK.title, '--description', CALC_TASK.description], {
      cwd: box.cwd,
      env,
    });
    expect(ran.code).toBe(0);
    const [task] = await storedTasks(box);
    expect(task.status).toBe('pr_created');
    const pull = github.pulls('acme', 'calc').find((p) => p.number === task.pr!.number)!;

    // Not merged yet: sync sees it open and changes nothing.
    const early = await runCli(['tasks', 'sync', '--json'], { cwd: box.cwd, env });
    expect(early.code).toBe(0);
    expect(JSON.parse(early.stdout)).toEqual([{ id: task.id, pr: task.pr!.url, state: 'open', changed: false }]);
    const revertTooEarly = await runCli(['tasks', 'revert', task.id], { cwd: box.cwd, env });
    expect(revertTooEarly.code).toBe(2);
    expect(revertTooEarly.stderr).toContain('no merged pull request');

    const mergeCommit = await mergeOnRemote(bare, pull.head);
    github.mergePullRequest('acme', 'calc', pull.number, mergeCommit);
    const synced = await runCli(['tasks', 'sync', '--metrics-file', metricsFile], { cwd: box.cwd, env });
    expect(synced.code).toBe(0);
    expect(synced.stdout).toContain(`${task.id}: merged (changed)`);
    const [merged] = await storedTasks(box);
    expect(merged.status).toBe('merged');
    expect(merged.pr).toMatchObject({ state: 'merged', mergeCommit });
    expect(metricValue(await readFile(metricsFile, 'utf8'), 'autodev_merges_total')).toBe(1);
    // A second sync has nothing left to ask and counts nothing twice.
    const quiet = await runCli(['tasks', 'sync', '--metrics-file', metricsFile], { cwd: box.cwd, env });
    expect(quiet.stdout).toBe('no open pull requests to sync\n');
    expect(metricValue(await readFile(metricsFile, 'utf8'), 'autodev_merges_total')).toBe(1);
    // The merge reached the task's audit trail too.
    const audit = await readFile(path.join(box.state, 'autodev', 'audit', `${task.id}.jsonl`), 'utf8');
    expect(
      audit
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { status?: string })
        .at(-1)?.status,
    ).toBe('merged');

    const reverted = await runCli(['tasks', 'revert', task.id, '--json'], { cwd: box.cwd, env });
    expect(reverted.stderr).toBe('');
    expect(reverted.code).toBe(0);
    const revert = JSON.parse(reverted.stdout) as { url: string; number: number; branch: string };
    expect(revert.branch).toBe(`autodev/revert-${task.id}`);
    // On the remote: the revert branch holds main's merge undone, i.e. the original (buggy) file again.
    expect(await git(bare, ['show', `${revert.branch}:src/lib.rs`])).toBe(CALC_FILES['src/lib.rs'].trimEnd());
    expect(await git(bare, ['log', '-1', '--format=%s%n%an', revert.branch])).toBe(`Revert "Merge branch ${pull.head}"\nautodev[bot]`);
    // The revert is in the task's audit trail, after the merge.
    const audited = (await readFile(path.join(box.state, 'autodev', 'audit', `${task.id}.jsonl`), 'utf8')).trim().split('\n').at(-1)!;
    expect(JSON.parse(audited)).toMatchObject({
      type: 'log',
      message: expect.stringContaining(`revert pull request opened: ${revert.url}`),
    });
    const revertPull = github.pulls('acme', 'calc').find((p) => p.number === revert.number)!;
    expect(revertPull).toMatchObject({ head: revert.branch, base: 'main', title: `Revert "${CALC_TASK.title}"` });
    expect(revertPull.body).toContain(`Reverts #${pull.number}`);
    const twice = await runCli(['tasks', 'revert', task.id], { cwd: box.cwd, env });
    expect(twice.code).toBe(2);

    // The revert merged: the next sync counts it.
    github.mergePullRequest('acme', 'calc', revert.number);
    const afterRevert = await runCli(['tasks', 'sync', '--json', '--metrics-file', metricsFile], { cwd: box.cwd, env });
    expect(JSON.parse(afterRevert.stdout)).toEqual([expect.objectContaining({ id: task.id, revert: 'merged', changed: true })]);
    const text = await readFile(metricsFile, 'utf8');
    expect(metricValue(text, 'autodev_reverts_total')).toBe(1);
    expect(metricValue(text, 'autodev_merges_total')).toBe(1);
  });
});
