// `autodev run` end to end when GitHub refuses the pull request of a verified change: the task
// failed (exit 1) with GitHub's message, one JSON document on stdout, the store and the metrics
// say failed, and the branch pushed for the pull request is not left behind.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { e2eSuite, git, makeBareRepo, parseJson, runArgs } from './harness.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, runCli, taskEnv } from '../support/cli.js';

let llm: OpenAiServer;
let github: GitHubServer;
const { cache } = e2eSuite();

beforeAll(async () => {
  llm = await startOpenAiServer({ apiKey: OPENAI_KEY, onRequest: () => ({ content: FIXED_REPLY }) });
  github = await startGitHubServer({ token: GITHUB_TOKEN });
});

afterAll(async () => {
  await llm.close();
  await github.close();
});

it('a 422 from GitHub fails the task with exit 1 and its message: JSON, store, metrics, no branch left', async () => {
  const bare = await makeBareRepo();
  const runDir = await makeRunDir();
  const message = 'Validation Failed: base branch policy forbids pull requests from bots';
  github.failNext({ status: 422, method: 'POST', path: /\/pulls$/, body: { message } });

  const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
  const json = parseJson(outcome);

  expect(outcome.code).toBe(1);
  expect(outcome.stderr).not.toMatch(/internal error/);
  expect(json.status).toBe('failed');
  expect(json.exitCode).toBe(1);
  expect(json.reason).toContain(`422 ${message}`);
  expect(json.pr).toBeNull();
  expect(json.pushed).toBeNull();
  expect(json.steps.find((s) => s.id === 'pr')).toMatchObject({ status: 'failed' });
  expect(await git(bare, ['branch', '--format=%(refname:short)'])).toBe('main');

  const tasks = path.join(runDir.state, 'autodev', 'tasks');
  const [file] = (await readdir(tasks)).filter((name) => name.endsWith('.json'));
  const stored = JSON.parse(await readFile(path.join(tasks, file), 'utf8')) as { status: string; exitCode: number; reason: string };
  expect(stored).toMatchObject({ status: 'failed', exitCode: 1 });
  expect(stored.reason).toContain(message);

  const metrics = await readFile(path.join(runDir.state, 'autodev', 'metrics.prom'), 'utf8');
  expect(metrics).toMatch(/^autodev_tasks_total 1$/m);
  expect(metrics).toMatch(/^autodev_tasks_failed_total 1$/m);
  expect(JSON.stringify(json)).not.toContain(GITHUB_TOKEN);
}, 180_000);
