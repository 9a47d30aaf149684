// GitHub webhooks in `autodev serve`, end to end: the built CLI serving, deliveries signed (or not)
// with the webhook secret as GitHub signs them, the local GitHub server behind.
import { describe, expect, it } from '@jest/globals';
import { sign } from '@octokit/webhooks-methods';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { makeRunDir, startServe, taskEnv, type RunDir } from '../support/cli.js';
import type { GitHubServer } from '../support/github-server.js';
import type { OpenAiServer } from '../support/openai-server.js';
import { until } from '../support/poll.js';
import { e2eSuite, storedTasks } from './harness.js';

const SECRET = 'webhook-secret-0123456789';
const { cache, startServers } = e2eSuite();

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
});
