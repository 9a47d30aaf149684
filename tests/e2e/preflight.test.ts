// `autodev run` checks before it spends: a missing credential or a URL that is not http(s) stops it
// before any workspace or clone, an LLM endpoint nothing answers at stops it before the baseline build,
// `--plan-only` lists what is missing, and a repository with no GitHub repository plans no pull request.
import { describe, expect, it } from '@jest/globals';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { auditFiles, e2eSuite, git, makeBareRepo, parseJson, runArgs, workspaces } from './harness.js';
import { hashDir } from '../support/tree.js';
import { makeRunDir, runCli, taskEnv, type RunDir } from '../support/cli.js';
import { closedPort } from '../support/http-util.js';

const RUN_TIMEOUT = 120_000;
const { cache, startServers } = e2eSuite();

/** Every event type and step the audit trail recorded, e.g. `step.started:clone`. */
async function audited(runDir: RunDir): Promise<string[]> {
  const events: string[] = [];
  for (const file of await auditFiles(runDir)) {
    for (const line of (await readFile(file, 'utf8')).split('\n').filter(Boolean)) {
      const event = JSON.parse(line) as { type: string; stepId?: string; status?: string };
      events.push([event.type, event.stepId ?? event.status].filter(Boolean).join(':'));
    }
  }
  return events;
}

function withoutVariables(env: Record<string, string>, ...names: string[]): Record<string, string> {
  const copy = { ...env };
  for (const name of names) delete copy[name];
  return copy;
}

describe('autodev run checks before it spends', () => {
  it('fails with exit 2 before any workspace or clone when the API key is not set, naming the variable', async () => {
    const bare = await makeBareRepo();
    const { llm, github } = await startServers();
    const runDir = await makeRunDir();

    const env = withoutVariables(taskEnv(runDir, { cache, llm, github }), 'OPENAI_API_KEY');
    const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env });
    const json = parseJson(outcome);

    expect(outcome.code).toBe(2);
    expect(json).toMatchObject({ status: 'failed', exitCode: 2, steps: [], workspace: null, pr: null });
    expect(json.reason).toMatch(/^OPENAI_API_KEY is not set \(llm\.api_key_env\): .*export OPENAI_API_KEY=/);
    // Nothing was spent: no workspace, no clone, no call to the model or the forge.
    expect(await readdir(runDir.tmp)).toEqual([]);
    expect(await audited(runDir)).toEqual(['task.status:pending', 'task.status:failed']);
    expect(llm.requests).toEqual([]);
    expect(github.requests).toEqual([]);
  });

  it('fails with exit 2 before cloning when a pull request is planned and the GitHub token is not set', async () => {
    const bare = await makeBareRepo();
    const { llm, github } = await startServers();
    const runDir = await makeRunDir();

    const env = withoutVariables(taskEnv(runDir, { cache, llm, github }), 'GITHUB_TOKEN');
    const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env });

    expect(outcome.code).toBe(2);
    expect(parseJson(outcome).reason).toMatch(/^GITHUB_TOKEN is not set \(git\.github_token_env\): .* on acme\/calc; .*--no-pr$/);
    expect(await readdir(runDir.tmp)).toEqual([]);
    expect(llm.requests).toEqual([]);
  });

  it('refuses api_url = "ftp://x" with exit 2 and one line naming the key and the file', async () => {
    const bare = await makeBareRepo();
    const runDir = await makeRunDir();
    await writeFile(path.join(runDir.cwd, 'autodev.config.toml'), '[autodev.llm]\napi_url = "ftp://x"\n');

    const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache }) });

    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr.trim()).toBe('autodev: autodev.config.toml:2: autodev.llm.api_url: expected an http:// or https:// URL');
    expect(await readdir(runDir.tmp)).toEqual([]);
  });

  it(
    'fails with exit 1 naming llm.api_url, before the baseline build, when nothing answers there',
    async () => {
      const bare = await makeBareRepo();
      const { github } = await startServers();
      const runDir = await makeRunDir();
      const port = await closedPort();

      const env = taskEnv(runDir, { cache, github, extra: { AUTODEV_LLM_API_URL: `http://127.0.0.1:${port}/v1` } });
      const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(1);
      expect(json.status).toBe('failed');
      expect(json.reason).toBe(`nothing answers at http://127.0.0.1:${port} (llm.api_url): connection refused`);
      const events = await audited(runDir);
      // The endpoint is probed while the clone runs (it costs no time); the clone, a step, is all that ran.
      expect(events.filter((e) => e.startsWith('step.'))).toEqual(['step.started:clone', 'step.finished:clone']);
      expect(await workspaces(runDir)).toEqual([]);
      expect(github.requests).toEqual([]);
    },
    RUN_TIMEOUT,
  );

  it('--plan-only lists what is missing: the API key and an endpoint nothing answers at', async () => {
    const bare = await makeBareRepo();
    const runDir = await makeRunDir();
    const port = await closedPort();

    const env = withoutVariables(
      taskEnv(runDir, { cache, extra: { AUTODEV_LLM_API_URL: `http://127.0.0.1:${port}/v1` } }),
      'OPENAI_API_KEY',
    );
    const outcome = await runCli(['run', '--plan-only', '--repo', bare, '--title', CALC_TASK.title], { cwd: runDir.cwd, env });

    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('Missing (`autodev run` stops on this before building anything):');
    expect(outcome.stdout).toMatch(/^ {2}- OPENAI_API_KEY is not set \(llm\.api_key_env\)/m);
    expect(outcome.stdout).toContain(`  - nothing answers at http://127.0.0.1:${port} (llm.api_url): connection refused\n`);
    expect(await workspaces(runDir)).toEqual([]);
  });

  it(
    'plans no pull request for a repository that names no GitHub repository, pushes the branch and says no PR was opened',
    async () => {
      const bare = await makeBareRepo();
      const hashBefore = await hashDir(bare);
      const { llm, github } = await startServers({ replies: [{ content: FIXED_REPLY }] });
      const runDir = await makeRunDir();
      const env = withoutVariables(taskEnv(runDir, { cache, llm, github }), 'AUTODEV_GIT_GITHUB_REPO');

      const planned = await runCli(['run', '--plan-only', '--json', '--repo', bare, '--title', CALC_TASK.title], { cwd: runDir.cwd, env });
      const { plan } = JSON.parse(planned.stdout) as { plan: { steps: { tool: string; title: string }[] } };
      expect(plan.steps.map((s) => s.tool)).not.toContain('pr');
      expect(plan.steps.at(-1)).toMatchObject({
        tool: 'push',
        title: `Push the branch (no pull request: ${bare} is not a GitHub repository)`,
      });

      const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env });
      const json = parseJson(outcome);
      expect(outcome.code).toBe(0);
      expect(json.status).toBe('verified');
      expect(json.pr).toBeNull();
      expect(json.pushed).toMatchObject({ remote: bare });
      expect(json.steps.at(-1)).toMatchObject({ id: 'push', status: 'ok' });
      expect(json.steps.at(-1)!.summary).toMatch(/is not a GitHub repository, so no pull request was opened/);
      expect(github.requests).toEqual([]);
      expect(await git(bare, ['branch', '--format=%(refname:short)'])).toContain(json.change!.branch);
      expect(await hashDir(bare)).not.toBe(hashBefore);
    },
    RUN_TIMEOUT,
  );
});
