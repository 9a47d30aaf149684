// Two `autodev run`s of the same task on one repository at the same time, through the built bin:
// the same task means the same branch and pull request on purpose (a re-run updates them), so the
// runs must take turns at the remote instead of racing for the branch (git's "cannot lock ref",
// a stale lease: exit 70 before the push lock).
import { describe, expect, it } from '@jest/globals';
import { CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { startGitHubServer } from '../support/github-server.js';
import { startOpenAiServer } from '../support/openai-server.js';
import { e2eSuite, makeBareRepo, parseJson, refs, runArgs } from './harness.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, runCli, taskEnv } from '../support/cli.js';

const RUN_TIMEOUT = 240_000;
const { cache } = e2eSuite();

describe('autodev run, twice at once on one repository', () => {
  it(
    'both runs of the same task succeed, one after the other at the remote: one branch, one pull request',
    async () => {
      const bare = await makeBareRepo();
      const llm = await startOpenAiServer({ apiKey: OPENAI_KEY, onRequest: () => ({ content: FIXED_REPLY }) });
      const github = await startGitHubServer({ token: GITHUB_TOKEN });
      try {
        // One user's runs: their own workspaces and temp dirs, the shared cache (and its push lock).
        const [a, b] = await Promise.all([makeRunDir(), makeRunDir()]);
        const outcomes = await Promise.all(
          [a, b].map((runDir) => runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) })),
        );

        const results = outcomes.map((outcome) => ({ code: outcome.code, stderr: outcome.stderr, json: parseJson(outcome) }));
        for (const result of results) {
          expect({ code: result.code, reason: result.json.reason }).toEqual({ code: 0, reason: null });
          expect(result.json.status).toBe('pr_created');
          expect(result.stderr).not.toMatch(/cannot lock ref|internal error|stale info/);
        }
        const [first, second] = results.map((r) => r.json);
        expect(second.change!.branch).toBe(first.change!.branch);
        expect(second.pr!.number).toBe(first.pr!.number);
        expect(github.pulls('acme', 'calc')).toHaveLength(1);
        // The branch holds the commit of one of the two runs, whole.
        const pushed = (await refs(bare))[`refs/heads/${first.change!.branch}`];
        expect([first.change!.commit, second.change!.commit]).toContain(pushed);
      } finally {
        await llm.close();
        await github.close();
      }
    },
    RUN_TIMEOUT,
  );
});
