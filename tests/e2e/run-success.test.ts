// `autodev run` end to end, the paths that end well: the built bin against the local OpenAI and
// GitHub servers, real git repositories and a real cargo build in bubblewrap.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BROKEN_REPLY, CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { snapshotTree } from '../support/fixture-repo.js';
import type { GitHubServer } from '../support/github-server.js';
import type { OpenAiServer, ScriptedReply } from '../support/openai-server.js';
import {
  auditFiles,
  BOT_EMAIL,
  BOT_NAME,
  e2eSuite,
  git,
  makeBareRepo,
  makeWorkRepo,
  parseJson,
  refs,
  runArgs,
  workspaces,
} from './harness.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, runCli, taskEnv, type RunDir } from '../support/cli.js';

const RUN_TIMEOUT = 120_000;
const { cache, startServers } = e2eSuite();

async function run(repo: string, runDir: RunDir, llm: OpenAiServer, github: GitHubServer, ...more: string[]) {
  const outcome = await runCli(runArgs(repo, CALC_TASK, ...more), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
  return { outcome, json: parseJson(outcome) };
}

describe('autodev run (succeeding)', () => {
  it(
    'opens a labelled pull request with the evidence, pushes a bot-authored branch and leaves the rest of the remote alone',
    async () => {
      const bare = await makeBareRepo();
      const before = await refs(bare);
      const mainBefore = before['refs/heads/main'];
      const configBefore = await readFile(path.join(bare, 'config'), 'utf8');
      const { llm, github } = await startServers({ replies: [{ content: FIXED_REPLY }] });
      const runDir = await makeRunDir();

      const { outcome, json } = await run(bare, runDir, llm, github);

      expect(outcome.code).toBe(0);
      expect(json.exitCode).toBe(0);
      expect(json.status).toBe('pr_created');
      // Search runs beside the baseline: the list has the order they finished in, codegen after both.
      const steps = json.steps.map((s) => `${s.mode}:${s.id}:${s.status}`);
      const beside = steps.slice(1, 5);
      expect(beside.filter((s) => s.startsWith('baseline:'))).toEqual(['baseline:build:ok', 'baseline:test:ok', 'baseline:lint:ok']);
      expect(beside).toContain('change:search:ok');
      expect([steps[0], ...steps.slice(5)]).toEqual([
        'change:clone:ok',
        'change:codegen:ok',
        'change:apply:ok',
        'change:build:ok',
        'change:test:ok',
        'change:lint:ok',
        'change:deps-check:ok',
        'change:secrets:ok',
        'change:policy:ok',
        'change:pr:ok',
      ]);
      expect(json.baseline.failingTests).toEqual(['lib::tests::adds']);
      expect(json.usage.calls).toBe(1);
      expect(json.usage.totalTokens).toBeGreaterThan(0);

      // The pull request, as the GitHub server holds it.
      const pulls = github.pulls('acme', 'calc');
      expect(pulls).toHaveLength(1);
      const pull = pulls[0];
      expect(json.pr).toEqual({
        url: expect.stringContaining(`/acme/calc/pull/${pull.number}`),
        number: pull.number,
        draft: false,
        updated: false,
      });
      expect(pull.head).toBe(json.change!.branch);
      expect(pull.base).toBe('main');
      expect(pull.draft).toBe(false);
      expect(pull.labels).toEqual(expect.arrayContaining(['autodev', 'risk:medium']));
      const body = pull.body ?? '';
      for (const row of ['build', 'test', 'lint', 'secrets', 'policy']) expect(body).toMatch(new RegExp(`^\\| ${row} \\| ✅ `, 'm'));
      expect(body).toMatch(/\| test \| .*2 passed, 0 failed/);
      // The evidence: the base's failing test passes with the change (so it is not listed as "already failing").
      expect(body).toMatch(/^- `lib::tests::adds` failed on the base and passes with this change$/m);
      expect(body).not.toMatch(/already failing on the base/i);
      expect(body).toContain(`${json.usage.promptTokens} prompt + ${json.usage.completionTokens} completion tokens`);
      // Every request to the forge carried the token (and nothing else authenticated it).
      expect(github.requests.length).toBeGreaterThan(0);
      for (const request of github.requests)
        expect(request.headers.authorization).toMatch(new RegExp(`^(token|bearer) ${GITHUB_TOKEN}$`, 'i'));

      // The remote: main and its config untouched, one new branch holding one bot-authored commit on main.
      const after = await refs(bare);
      const branchRef = `refs/heads/${json.change!.branch}`;
      expect(json.change!.branch).toMatch(/^autodev\//);
      expect(after).toEqual({ ...before, [branchRef]: json.change!.commit });
      expect(after['refs/heads/main']).toBe(mainBefore);
      expect(await readFile(path.join(bare, 'config'), 'utf8')).toBe(configBefore);
      const log = await git(bare, ['log', '--format=%an <%ae>|%cn <%ce>|%P', `${mainBefore}..${json.change!.branch}`]);
      expect(log).toBe(`${BOT_NAME} <${BOT_EMAIL}>|${BOT_NAME} <${BOT_EMAIL}>|${mainBefore}`);
      expect(await git(bare, ['diff', '--name-only', mainBefore, json.change!.branch])).toBe('src/lib.rs');
      expect(await git(bare, ['show', `${json.change!.branch}:src/lib.rs`])).toContain('    a + b\n');
      // The credentials were used, and written nowhere.
      const audit = await auditFiles(runDir);
      expect(audit).toHaveLength(1);
      const written = [
        outcome.stdout,
        outcome.stderr,
        body,
        await readFile(audit[0], 'utf8'),
        await git(bare, ['log', '-p', '--all']),
      ].join('\n');
      for (const credential of [OPENAI_KEY, GITHUB_TOKEN]) expect(written).not.toContain(credential);
      // The workspace is gone (no --keep-workspace).
      expect(json.workspace).toBeNull();
      expect(await workspaces(runDir)).toEqual([]);
    },
    RUN_TIMEOUT,
  );

  it(
    'sends a build failure back to the model with the compiler error and succeeds in the repair round',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({ replies: [{ content: BROKEN_REPLY }, { content: FIXED_REPLY }] });
      const runDir = await makeRunDir();

      const { outcome, json } = await run(bare, runDir, llm, github);

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      const bodies = llm.chatBodies();
      expect(bodies).toHaveLength(2);
      const prompt = (index: number): string => (bodies[index].messages ?? []).map((m) => m.content).join('\n');
      expect(prompt(0)).not.toMatch(/mismatched types|E0308/);
      expect(prompt(1)).toMatch(/mismatched types/);
      expect(prompt(1)).toMatch(/E0308/);
      // The failed round and the repair round, as the steps record them.
      const failedBuild = json.steps.find((s) => s.id === 'build' && s.mode === 'change' && s.status === 'failed');
      expect(failedBuild?.round).toBe(0);
      expect(json.steps.filter((s) => s.id === 'codegen').map((s) => s.round)).toEqual([0, 1]);
      expect(json.steps.find((s) => s.id === 'pr')).toMatchObject({ round: 1, status: 'ok' });
      expect(json.usage.calls).toBe(2);
      expect(outcome.stderr).toMatch(/repair: build failed/);
      expect(github.pulls('acme', 'calc')).toHaveLength(1);
      expect(await git(bare, ['show', `${json.change!.branch}:src/lib.rs`])).toContain('    a + b\n');
    },
    RUN_TIMEOUT,
  );

  it(
    'retries the model after a 429 and then succeeds',
    async () => {
      const bare = await makeBareRepo();
      const rateLimited: ScriptedReply = {
        status: 429,
        headers: { 'retry-after': '0' },
        body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
      };
      const { llm, github } = await startServers({ replies: [rateLimited, { content: FIXED_REPLY }] });
      const runDir = await makeRunDir();

      const { outcome, json } = await run(bare, runDir, llm, github);

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      expect(llm.chatBodies().length).toBeGreaterThanOrEqual(2);
      expect(outcome.stderr).toMatch(/codegen: retrying \(attempt 2\)/);
      const codegen = json.steps.filter((s) => s.id === 'codegen');
      expect(codegen).toHaveLength(1);
      expect(codegen[0].attempts).toBe(2);
      expect(github.pulls('acme', 'calc')).toHaveLength(1);
    },
    RUN_TIMEOUT,
  );

  it(
    'updates the same pull request when the same task runs again',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({ replies: [{ content: FIXED_REPLY }, { content: FIXED_REPLY }] });

      const first = await run(bare, await makeRunDir(), llm, github);
      const second = await run(bare, await makeRunDir(), llm, github);

      expect(first.outcome.code).toBe(0);
      expect(second.outcome.code).toBe(0);
      expect(first.json.pr?.updated).toBe(false);
      expect(second.json.pr?.updated).toBe(true);
      expect(second.json.pr?.number).toBe(first.json.pr?.number);
      expect(second.json.change?.branch).toBe(first.json.change?.branch);
      const pulls = github.pulls('acme', 'calc');
      expect(pulls).toHaveLength(1);
      expect(pulls[0].body).toContain(second.json.task.id);
      expect(github.requests.filter((r) => r.method === 'POST' && /\/pulls$/.test(r.path))).toHaveLength(1);
      // The branch on the remote is the second run's commit.
      expect((await refs(bare))[`refs/heads/${second.json.change!.branch}`]).toBe(second.json.change!.commit);
    },
    RUN_TIMEOUT * 2,
  );

  it(
    'with a local work repository as --repo, pushes the branch into it and leaves its checkout untouched',
    async () => {
      const { work, origin } = await makeWorkRepo();
      const snapshot = await snapshotTree(work);
      const workRefs = await refs(work);
      const originRefs = await refs(origin);
      const { llm, github } = await startServers({ replies: [{ content: FIXED_REPLY }] });
      const runDir = await makeRunDir();

      const { outcome, json } = await run(work, runDir, llm, github);

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      expect(json.pushed).toEqual({ remote: work, branch: json.change!.branch });
      expect(await refs(work)).toEqual({ ...workRefs, [`refs/heads/${json.change!.branch}`]: json.change!.commit });
      expect(await snapshotTree(work)).toEqual(snapshot);
      expect(await git(work, ['status', '--porcelain'])).toBe('');
      expect(await git(work, ['log', '-1', '--format=%an <%ae>', json.change!.branch])).toBe(`${BOT_NAME} <${BOT_EMAIL}>`);
      // The work repository's own remote is not autodev's to push to.
      expect(await refs(origin)).toEqual(originRefs);
      expect(github.pulls('acme', 'calc').map((p) => p.head)).toEqual([json.change!.branch]);
    },
    RUN_TIMEOUT,
  );

  it(
    '--no-pr on a local work repository verifies the change, opens no pull request and changes nothing the user sees',
    async () => {
      const { work, origin } = await makeWorkRepo();
      const snapshot = await snapshotTree(work);
      const originRefs = await refs(origin);
      const { llm, github } = await startServers({ replies: [{ content: FIXED_REPLY }] });
      const runDir = await makeRunDir();

      const { outcome, json } = await run(work, runDir, llm, github, '--no-pr');

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('verified');
      expect(json.pr).toBeNull();
      expect(json.task.pr).toBe(false);
      // The verified branch reaches the repository given, and nothing else of it changes.
      expect(json.pushed).toEqual({ remote: work, branch: json.change!.branch });
      expect(await git(work, ['rev-parse', `refs/heads/${json.change!.branch}`])).toBe(json.change!.commit);
      expect(json.steps.map((s: { tool: string }) => s.tool)).toContain('push');
      expect(await snapshotTree(work)).toEqual(snapshot);
      expect(await git(work, ['status', '--porcelain'])).toBe('');
      expect(await refs(origin)).toEqual(originRefs);
      expect(github.requests).toEqual([]);
      expect(github.pulls('acme', 'calc')).toEqual([]);
    },
    RUN_TIMEOUT,
  );
});
