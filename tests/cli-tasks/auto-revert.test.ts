// lifecycle.auto_revert through `autodev tasks sync`: a merged autodev PR whose merge commit fails the
// checks its parent passed is reverted once, with a revert PR made as `tasks revert` makes it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CALC_FILES, CALC_TASK } from '../support/calc-crate.js';
import { cleanup, git, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { GITHUB_TOKEN, makeRunDir, requireBuilt, runCli, taskEnv, type RunDir } from '../support/cli.js';
import { storedTasks } from '../e2e/harness.js';
import { createTaskStore, newStoredTask } from '../../src/store/task-store.js';
import { writeFile } from 'node:fs/promises';

let github: GitHubServer;

beforeAll(async () => {
  requireBuilt();
  github = await startGitHubServer({ token: GITHUB_TOKEN });
});
afterAll(async () => {
  await github.close();
  await cleanup();
});

/** A fix on a branch merged into main with a merge commit; returns the merge commit and main before it. */
async function mergedFix(bare: string, branch: string): Promise<{ merge: string; before: string }> {
  const work = path.join(await makeTempDir('autodev-merge-'), 'work');
  await git(path.dirname(work), ['clone', '-q', bare, work]);
  const before = await git(work, ['rev-parse', 'HEAD']);
  await git(work, ['checkout', '-q', '-b', branch]);
  await writeFile(path.join(work, 'src', 'lib.rs'), CALC_FILES['src/lib.rs'].replace('    a - b\n', '    a + b\n'));
  await git(work, ['commit', '-q', '-am', 'Fix add']);
  await git(work, ['push', '-q', 'origin', branch]);
  await git(work, ['checkout', '-q', 'main']);
  await git(work, ['merge', '--no-ff', '-q', '-m', `Merge branch ${branch}`, branch]);
  await git(work, ['push', '-q', 'origin', 'main']);
  return { merge: await git(work, ['rev-parse', 'HEAD']), before };
}

/** The task of an autodev run whose PR (open in the GitHub server) was then merged there. */
async function mergedTask(box: RunDir, bare: string, id: string, branch: string): Promise<{ merge: string; before: string }> {
  const number = github.addPullRequest('acme', 'calc', { title: CALC_TASK.title, head: branch, body: 'Opened by autodev' });
  const store = createTaskStore(path.join(box.state, 'autodev'));
  const request = { repo: bare, ...CALC_TASK, noPr: false, keepWorkspace: false, risk: 'medium' as const };
  const task = newStoredTask(id, request, { kind: 'run', pid: null }, 'pr_created');
  task.exitCode = 0;
  task.finishedAt = new Date().toISOString();
  task.pr = { url: `${github.url}/acme/calc/pull/${number}`, number, draft: false, updated: false, state: 'open' };
  await store.create(task);
  const merged = await mergedFix(bare, branch);
  github.mergePullRequest('acme', 'calc', number, merged.merge);
  github.setCommitParents('acme', 'calc', merged.merge, [merged.before]);
  return merged;
}

describe('lifecycle.auto_revert', () => {
  it('opens one revert PR when the merge broke checks that passed before it, and not two', async () => {
    const box = await makeRunDir('autodev-autorevert-');
    const bare = await makeRepo(CALC_FILES, { bare: true });
    const { merge, before } = await mergedTask(box, bare, '20260101000000-aaaaaa', 'autodev/fix-add-aaaa');
    github.addCheckRun('acme', 'calc', merge, { name: 'test', conclusion: 'failure' });
    github.addCheckRun('acme', 'calc', before, { name: 'test', conclusion: 'success' });
    const pullsBefore = github.pulls('acme', 'calc').length;

    // Off by default: the merge is recorded, nothing is reverted.
    const off = await runCli(['tasks', 'sync'], { cwd: box.cwd, env: taskEnv(box, { github }) });
    expect(off.code).toBe(0);
    expect(github.pulls('acme', 'calc')).toHaveLength(pullsBefore);
    expect((await storedTasks(box))[0].revert).toBeNull();

    const env = taskEnv(box, { github, extra: { AUTODEV_LIFECYCLE_AUTO_REVERT: 'true' } });
    const on = await runCli(['tasks', 'sync'], { cwd: box.cwd, env });
    expect(on.code).toBe(0);
    expect(on.stderr).toMatch(/auto-revert 20260101000000-aaaaaa: reverted: test failed on/);
    const pulls = github.pulls('acme', 'calc');
    expect(pulls).toHaveLength(pullsBefore + 1);
    const revert = pulls.at(-1)!;
    expect(revert).toMatchObject({ head: 'autodev/revert-20260101000000-aaaaaa', base: 'main', title: `Revert "${CALC_TASK.title}"` });
    // The revert branch undoes the merge: the file as it was before it.
    expect(await git(bare, ['show', `${revert.head}:src/lib.rs`])).toBe(CALC_FILES['src/lib.rs'].trimEnd());
    const [task] = await storedTasks(box);
    expect(task.revert).toMatchObject({ number: revert.number, branch: revert.head });
    expect(task.autoRevert).toMatchObject({ checks: ['test'] });

    const twice = await runCli(['tasks', 'sync'], { cwd: box.cwd, env });
    expect(twice.code).toBe(0);
    expect(github.pulls('acme', 'calc')).toHaveLength(pullsBefore + 1);
  });

  it('does not revert when the same checks failed on the commit before the merge too', async () => {
    const box = await makeRunDir('autodev-autorevert-');
    const bare = await makeRepo(CALC_FILES, { bare: true });
    const { merge, before } = await mergedTask(box, bare, '20260101000000-bbbbbb', 'autodev/fix-add-bbbb');
    github.addCheckRun('acme', 'calc', merge, { name: 'lint', conclusion: 'failure' });
    github.addCheckRun('acme', 'calc', before, { name: 'lint', conclusion: 'failure' });
    const pullsBefore = github.pulls('acme', 'calc').length;

    const env = taskEnv(box, { github, extra: { AUTODEV_LIFECYCLE_AUTO_REVERT: 'true' } });
    const synced = await runCli(['tasks', 'sync'], { cwd: box.cwd, env });
    expect(synced.code).toBe(0);
    expect(synced.stderr).toMatch(
      /auto-revert 20260101000000-bbbbbb: not-caused: lint failed on .* but did not pass on the commit before it/,
    );
    expect(github.pulls('acme', 'calc')).toHaveLength(pullsBefore);
    expect((await storedTasks(box))[0].revert).toBeNull();
  });
});
