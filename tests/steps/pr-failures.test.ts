// The pr step when the outside world says no: GitHub refusing the pull request (401, 403, 404, 422)
// and a remote whose pre-receive hook refuses the push. Real git (a bare repository as the remote),
// the real forge port against the local GitHub API server. Each is an ExternalError (exit 1) with the
// service's message, and no branch is left pushed without its pull request.
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import type { TaskRequest } from '../../src/config/request.js';
import { buildPlan } from '../../src/plan/planner.js';
import { createForge } from '../../src/ports/forge.js';
import { createGit } from '../../src/ports/git.js';
import { prTool } from '../../src/steps/pr.js';
import { initialState, type Ctx, type StepPorts, type TaskState } from '../../src/steps/types.js';
import { ExitCode, ExternalError } from '../../src/util/errors.js';
import { caught } from '../support/caught.js';
import { CALC_FILES } from '../support/calc-crate.js';
import { cleanup, git, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';

const TOKEN = 'ghp_prFailuresTOKEN0123456789abcdef';
const BRANCH = 'autodev/fix-add-1';

let github: GitHubServer;
let bare: string;

afterAll(async () => {
  await github?.close();
  await cleanup();
});

beforeEach(async () => {
  await github?.close();
  github = await startGitHubServer({ token: TOKEN });
  bare = await makeRepo(CALC_FILES, { bare: true });
});

/** A clone of `bare` with a commit on BRANCH, and the pr step's context around it. */
async function prContext(): Promise<{ ctx: Ctx; state: TaskState }> {
  const ports = createGit();
  const repoDir = path.join(await makeTempDir('autodev-pr-'), 'repo');
  const cloned = await ports.clone({ source: bare, dest: repoDir, branch: null, depth: 1 });
  await ports.createBranch(repoDir, BRANCH);
  await writeFile(path.join(repoDir, 'NOTES.md'), 'a change\n');
  const commit = await ports.commitAll(repoDir, 'Fix add', { name: 'autodev[bot]', email: 'bot@example.test' });
  const request: TaskRequest = { repo: bare, title: 'Fix add', description: '', risk: 'low', noPr: false, keepWorkspace: false };
  const config = autodevSchema.parse({ git: { github_repo: 'acme/calc', github_api_url: github.url } });
  const plan = buildPlan({
    request,
    config,
    forge: { owner: 'acme', repo: 'calc' },
    repo: { files: ['Cargo.toml'], manifests: { 'Cargo.toml': '[package]\nname = "calc"\n' }, branch: 'main' },
    host: { programs: { git: true, rg: true, cargo: true, bwrap: true }, autoSandbox: 'bwrap', installed: {} },
  });
  const state: TaskState = {
    ...initialState(repoDir),
    baseBranch: cloned.branch,
    baseCommit: cloned.commit,
    change: { branch: BRANCH, commit, files: ['NOTES.md'], diff: '' },
  };
  const ports_: Partial<StepPorts> = {
    credentials: { llmApiKey: null, githubToken: TOKEN },
    git: ports,
    forge: async () => createForge({ baseUrl: github.url, token: TOKEN }),
  };
  const ctx = {
    taskId: 'task-pr',
    request,
    plan,
    step: plan.steps.find((s) => s.id === 'pr')!,
    mode: 'change',
    attempt: 1,
    round: 0,
    feedback: null,
    signal: new AbortController().signal,
    emit: () => undefined,
    ports: ports_ as StepPorts,
    state,
  } as Ctx;
  return { ctx, state };
}

async function remoteBranches(): Promise<string> {
  return git(bare, ['branch', '--list', '--format=%(refname:short)']);
}

describe('the pr step', () => {
  it('opens the pull request when nothing refuses (the setup works)', async () => {
    const { ctx, state } = await prContext();
    const result = await prTool.run(ctx);
    expect(result.status).toBe('ok');
    expect(state.pr?.number).toBe(1);
    expect(await remoteBranches()).toContain(BRANCH);
  });

  for (const [status, method, route, message] of [
    [401, 'GET', /\/pulls$/, 'Bad credentials'],
    [403, 'GET', /\/pulls$/, 'Resource not accessible by integration'],
    [404, 'GET', /\/pulls$/, 'Not Found'],
    [422, 'POST', /\/pulls$/, 'Validation Failed'],
  ] as const) {
    it(`fails the task (exit 1) with GitHub's message on ${status}, and deletes the branch it pushed for the pull request`, async () => {
      const { ctx, state } = await prContext();
      github.failNext({ status, method, path: route, body: { message, documentation_url: 'https://docs.github.com/rest' } });
      const error = await caught(prTool.run(ctx));
      expect(error).toBeInstanceOf(ExternalError);
      expect((error as ExternalError).exitCode).toBe(ExitCode.failed);
      expect(error.message).toContain(`${status} ${message}`);
      expect(error.message).toContain(`the branch ${BRANCH} pushed for it was deleted again`);
      expect(error.message).not.toContain(TOKEN);
      expect(state.pushed).toBeNull();
      expect(state.pr).toBeNull();
      expect(await remoteBranches()).not.toContain(BRANCH);
    });
  }

  it('keeps the branch of a pull request that was opened before a later call failed', async () => {
    const { ctx, state } = await prContext();
    github.failNext({ status: 422, method: 'POST', path: /\/labels$/, body: { message: 'Validation Failed' } });
    const error = await caught(prTool.run(ctx));
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.message).toContain('422 Validation Failed');
    expect(error.message).toContain('/acme/calc/pull/1 was opened');
    expect(state.pr?.number).toBe(1);
    expect(await remoteBranches()).toContain(BRANCH);
  });

  it("fails the task (exit 1) with the hook's message when the remote refuses the push", async () => {
    const hook = path.join(bare, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "policy: pushes from bots need a ticket number" >&2\nexit 1\n');
    await chmod(hook, 0o755);
    const { ctx, state } = await prContext();
    const error = await caught(prTool.run(ctx));
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).exitCode).toBe(ExitCode.failed);
    expect(error.message).toContain(`cannot push ${BRANCH}`);
    expect(error.message).toContain('policy: pushes from bots need a ticket number');
    expect(error.message).toContain('pre-receive hook declined');
    expect(error.message).not.toContain('\n');
    expect(state.pushed).toBeNull();
    expect(await remoteBranches()).not.toContain(BRANCH);
    expect(github.pulls('acme', 'calc')).toHaveLength(0);
  });
});
