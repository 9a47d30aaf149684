// GitHub webhooks in `autodev serve`, end to end: the built CLI serving, deliveries signed (or not)
// with the webhook secret as GitHub signs them, the local GitHub server behind.
import { describe, expect, it } from '@jest/globals';
import { sign } from '@octokit/webhooks-methods';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTaskStore, newStoredTask } from '../../src/store/task-store.js';
import { CALC_FILES, CALC_TASK } from '../support/calc-crate.js';
import { makeRunDir, startServe, taskEnv, type RunDir } from '../support/cli.js';
import type { GitHubServer } from '../support/github-server.js';
import type { OpenAiServer } from '../support/openai-server.js';
import { until } from '../support/poll.js';
import { replyFor } from '../real/fixtures.js';
import { e2eSuite, git, makeWorkRepo, storedTasks } from './harness.js';

const SECRET = 'webhook-secret-0123456789';
const { cache, startServers } = e2eSuite();
const FIXED_LIB = CALC_FILES['src/lib.rs'].replace('    a - b\n', '    a + b\n');
const BRANCH = 'autodev/fix-add-0123abcd';

interface Delivery {
  event: string;
  id: string;
  payload: unknown;
  signature?: string | null;
}

async function deliver(url: string, d: Delivery): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = JSON.stringify(d.payload);
  const signature = d.signature === undefined ? await sign(SECRET, text) : d.signature;
  const response = await fetch(`${url}/api/v1/autodev/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': d.event,
      'x-github-delivery': d.id,
      ...(signature !== null ? { 'x-hub-signature-256': signature } : {}),
    },
    body: text,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const repository = { name: 'calc', owner: { login: 'acme' } };

function labelled(issue: number, label: string) {
  return { action: 'labeled', label: { name: label }, issue: { number: issue, title: 'Fix add' }, repository };
}

function serve(runDir: RunDir, llm: OpenAiServer, github: GitHubServer) {
  return startServe({ cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEVD_WEBHOOK_SECRET: SECRET } }) });
}

async function stop(server: Awaited<ReturnType<typeof serve>>['server']): Promise<void> {
  server.child.kill('SIGTERM');
  await server.done;
}

async function deliveries(runDir: RunDir): Promise<string[]> {
  const dir = path.join(runDir.state, 'autodev', 'webhook-deliveries');
  return existsSync(dir) ? readdir(dir) : [];
}

describe('serve: GitHub webhooks', () => {
  it('refuses a delivery with a bad or missing signature (401) and does nothing', async () => {
    const { llm, github } = await startServers({ replies: [] });
    const number = github.addIssue('acme', 'calc', { title: 'Fix add', body: 'add subtracts' });
    const runDir = await makeRunDir();
    const { server, url } = await serve(runDir, llm, github);
    try {
      const forged = await sign('not-the-secret', JSON.stringify(labelled(number, 'autodev')));
      const bad = await deliver(url, { event: 'issues', id: 'bad-1', payload: labelled(number, 'autodev'), signature: forged });
      expect(bad.status).toBe(401);
      const missing = await deliver(url, { event: 'issues', id: 'bad-2', payload: labelled(number, 'autodev'), signature: null });
      expect(missing.status).toBe(401);
      // A body changed after signing is refused too.
      const signedOther = await sign(SECRET, JSON.stringify(labelled(number + 1, 'autodev')));
      const tampered = await deliver(url, { event: 'issues', id: 'bad-3', payload: labelled(number, 'autodev'), signature: signedOther });
      expect(tampered.status).toBe(401);
      expect(await storedTasks(runDir)).toEqual([]);
      expect(await deliveries(runDir)).toEqual([]);
      // Nothing reached GitHub on their behalf, and the secret was logged nowhere.
      expect(github.requests).toEqual([]);
      expect(server.stderr()).not.toContain(SECRET);
    } finally {
      await stop(server);
    }
  });

  it('starts a task for an issue labelled autodev, once, even when GitHub redelivers (also after a restart)', async () => {
    const { llm, github } = await startServers({ replies: [] });
    const number = github.addIssue('acme', 'calc', { title: 'Fix add', body: 'add subtracts' });
    const runDir = await makeRunDir();
    let { server, url } = await serve(runDir, llm, github);
    try {
      const first = await deliver(url, { event: 'issues', id: 'delivery-1', payload: labelled(number, 'autodev') });
      expect(first.status).toBe(202);
      const tasks = await until('the issue task to be stored', async () => {
        const stored = await storedTasks(runDir);
        return stored.length > 0 ? stored : null;
      });
      expect(tasks).toHaveLength(1);
      expect(tasks[0].request.issue).toEqual({ owner: 'acme', repo: 'calc', number });
      expect(tasks[0].request.title).toBe('Fix add');

      const again = await deliver(url, { event: 'issues', id: 'delivery-1', payload: labelled(number, 'autodev') });
      expect(again).toEqual({ status: 200, body: expect.objectContaining({ duplicate: true }) });
      expect(await storedTasks(runDir)).toHaveLength(1);

      await stop(server);
      ({ server, url } = await serve(runDir, llm, github));
      const afterRestart = await deliver(url, { event: 'issues', id: 'delivery-1', payload: labelled(number, 'autodev') });
      expect(afterRestart.status).toBe(200);
      expect(afterRestart.body.duplicate).toBe(true);
      expect((await storedTasks(runDir)).filter((t) => t.request.issue)).toHaveLength(1);
      await server.waitForStderr(/webhook delivery-1 \(issues\): delivered before; ignored/);
    } finally {
      await stop(server);
    }
  });

  it('runs no review for a review on a pull request autodev did not open', async () => {
    const { llm, github } = await startServers({ replies: [] });
    const pr = github.addPullRequest('acme', 'calc', { title: 'By hand', body: 'no footer', head: 'feature' });
    const runDir = await makeRunDir();
    const { server, url } = await serve(runDir, llm, github);
    try {
      const review = { action: 'submitted', review: { state: 'changes_requested' }, pull_request: { number: pr }, repository };
      const answer = await deliver(url, { event: 'pull_request_review', id: 'review-1', payload: review });
      expect(answer.status).toBe(202);
      await server.waitForStderr(/not opened by autodev/);
      expect(await storedTasks(runDir)).toEqual([]);
      expect(llm.chatBodies()).toHaveLength(0);
    } finally {
      await stop(server);
    }
  });

  it('runs review for a review on an autodev PR in the queue: a commit on its branch, the thread answered, review requested', async () => {
    const { work, origin } = await makeWorkRepo();
    await git(work, ['checkout', '-q', '-b', BRANCH]);
    await writeFile(path.join(work, 'src', 'lib.rs'), FIXED_LIB);
    await git(work, ['commit', '-q', '-am', 'Fix add']);
    await git(work, ['push', '-q', 'origin', BRANCH]);
    const head = await git(origin, ['rev-parse', BRANCH]);
    // The reviewer's request, done with a test that shows it (the evidence every verified change needs).
    const saturating = FIXED_LIB.replace('    a * b\n', '    a.saturating_mul(b)\n').replace(
      /\n}\n$/,
      '\n\n    #[test]\n    fn multiplies_saturating() {\n        assert_eq!(mul(i32::MAX, 2), i32::MAX);\n    }\n}\n',
    );
    const reply = await replyFor('Make mul saturate', { 'src/lib.rs': FIXED_LIB }, { 'src/lib.rs': saturating });
    const { llm, github } = await startServers({ replies: [{ content: reply }] });
    const pr = github.addPullRequest('acme', 'calc', {
      title: CALC_TASK.title,
      body: 'no footer: the store knows it',
      head: BRANCH,
      headSha: head,
    });
    const thread = github.addReviewThread('acme', 'calc', pr, {
      path: 'src/lib.rs',
      line: 10,
      comments: [{ author: 'carol', body: 'mul panics on overflow: make it saturate, with a test.' }],
    });
    const runDir = await makeRunDir();
    // The task that opened the PR, as `run` recorded it.
    const opener = newStoredTask(
      '20260101000000-cccccc',
      { repo: origin, ...CALC_TASK, noPr: false, keepWorkspace: false, risk: 'medium' },
      { kind: 'run', pid: null },
      'pr_created',
    );
    opener.exitCode = 0;
    opener.pr = { url: `${github.url}/acme/calc/pull/${pr}`, number: pr, draft: false, updated: false, state: 'open' };
    await createTaskStore(path.join(runDir.state, 'autodev')).create(opener);
    const { server, url } = await serve(runDir, llm, github);
    try {
      const review = { action: 'submitted', review: { state: 'changes_requested' }, pull_request: { number: pr }, repository };
      expect((await deliver(url, { event: 'pull_request_review', id: 'review-2', payload: review })).status).toBe(202);

      const replies = await until('the thread to be answered', () => {
        const found = github.reviewComments('acme', 'calc', pr).filter((c) => c.inReplyTo === thread.commentIds[0]);
        return found.length > 0 ? found : null;
      });
      const commit = await git(origin, ['rev-parse', BRANCH]);
      expect(await git(origin, ['rev-parse', `${BRANCH}^`])).toBe(head);
      expect(replies.map((r) => r.body)).toEqual([expect.stringContaining(`pushed ${commit.slice(0, 8)} to \`${BRANCH}\``)]);
      expect(github.requestedReviewers('acme', 'calc', pr)).toEqual(['carol']);
      const followups = (await storedTasks(runDir)).filter((t) => t.request.followup);
      expect(followups.map((t) => [t.request.followup!.kind, t.status])).toEqual([['review', 'verified']]);
      expect(github.pulls('acme', 'calc')).toHaveLength(1);
    } finally {
      await stop(server);
    }
  }, 180_000);

  it('runs ci-fix for a failed check suite on an autodev PR; a failure the base has too is reported, not chased', async () => {
    const { llm, github } = await startServers({ replies: [] });
    const head = 'c'.repeat(40);
    const pr = github.addPullRequest('acme', 'calc', {
      title: 'Fix add',
      body: '<sub>Opened by autodev, task `20260101000000-dddddd`.</sub>',
      head: BRANCH,
      headSha: head,
    });
    github.addCheckRun('acme', 'calc', head, { name: 'lint', conclusion: 'failure', log: 'error: unhappy\n' });
    github.addCheckRun('acme', 'calc', 'main', { name: 'lint', conclusion: 'failure', log: 'error: unhappy\n' });
    const runDir = await makeRunDir();
    const { server, url } = await serve(runDir, llm, github);
    try {
      const suite = {
        action: 'completed',
        check_suite: { conclusion: 'failure', head_sha: head, pull_requests: [{ number: pr }] },
        repository,
      };
      expect((await deliver(url, { event: 'check_suite', id: 'suite-1', payload: suite })).status).toBe(202);
      await server.waitForStderr(/webhook: ci-fix acme\/calc#\d+: every failing check .* fails on main too \(lint\)/);
      expect(github.issueComments('acme', 'calc', pr).join('\n')).toMatch(/`lint`/);
      expect(await storedTasks(runDir)).toEqual([]);
      expect(llm.chatBodies()).toHaveLength(0);
    } finally {
      await stop(server);
    }
  });
});
