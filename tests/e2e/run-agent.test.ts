// Agent mode end to end: the built CLI, a scripted model speaking the real tool-call wire format
// (streamed argument deltas included), a small Node project whose failing node:test test the agent
// fixes, real git, and real bubblewrap around every command the agent runs. What decides is
// autodev's own gates, never what the model says; nothing the agent does reaches the user's checkout.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { NODE_FILES, NODE_TASK } from '../real/fixtures.js';
import { reply } from '../support/calc-crate.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, runCli, taskEnv, type RunDir } from '../support/cli.js';
import { git, makeRepo } from '../support/fixture-repo.js';
import { startGitHubServer } from '../support/github-server.js';
import { listen, sendJson } from '../support/http-util.js';
import {
  lastResult,
  startOpenAiToolsServer,
  type OpenAiToolsServer,
  type OpenAiToolsServerOptions,
} from '../support/openai-tools-server.js';
import { e2eSuite, parseJson, runArgs, type RunJson } from './harness.js';

const RUN_TIMEOUT = 150_000;
const { cache } = e2eSuite();

type AgentJson = RunJson & {
  agent: { turns: number; toolCalls: Record<string, number>; stopReason: string | null; fellBack: string | null } | null;
  usage: RunJson['usage'];
};

const FIX = { path: 'src/sum.js', old_text: 'let i = 1', new_text: 'let i = 0' };
const SUBMIT = {
  rationale: 'sum() skipped index 0; it now starts at the first value.',
  commit_message: 'Fix sum to start at the first value',
};

/** The user's own checkout: a work repository with a symlink that leads out of it. */
async function userCheckout(): Promise<string> {
  const work = await makeRepo(NODE_FILES);
  await symlink('/etc', path.join(work, 'escape'));
  await git(work, ['add', 'escape']);
  await git(work, ['commit', '-q', '-m', 'a link out']);
  return work;
}

/** The user's checkout as the user sees it: HEAD, the index, the work tree (ignored files included), its hooks. */
async function checkoutState(work: string): Promise<string[]> {
  return [
    await git(work, ['rev-parse', 'HEAD', '--symbolic-full-name', 'HEAD']),
    await git(work, ['ls-files', '-s']),
    await git(work, ['status', '--porcelain', '--ignored']),
    (await readdir(path.join(work, '.git', 'hooks'))).sort().join(','),
  ];
}

async function agentRun(
  repo: string,
  script: OpenAiToolsServerOptions,
  options: { args?: string[]; env?: Record<string, string>; run?: RunDir } = {},
): Promise<{ code: number; stderr: string; json: AgentJson; llm: OpenAiToolsServer; run: RunDir; pulls: number }> {
  const llm = await startOpenAiToolsServer({ apiKey: OPENAI_KEY, ...script });
  const github = await startGitHubServer({ token: GITHUB_TOKEN });
  try {
    const run = options.run ?? (await makeRunDir());
    const env = taskEnv(run, {
      cache,
      github,
      extra: { AUTODEV_LLM_API_URL: llm.baseUrl, AUTODEV_GIT_GITHUB_REPO: 'acme/summer', ...options.env },
    });
    const outcome = await runCli(runArgs(repo, NODE_TASK, ...(options.args ?? ['--strategy', 'agent'])), { cwd: run.cwd, env });
    return {
      code: outcome.code,
      stderr: outcome.stderr,
      json: parseJson(outcome) as AgentJson,
      llm,
      run,
      pulls: github.pulls('acme', 'summer').length,
    };
  } finally {
    await llm.close();
    await github.close();
  }
}

describe('autodev run --strategy agent', () => {
  it(
    'reads, runs the failing test, edits, runs it again and submits: verified PR; paths out are refused and told, commands stay in the sandbox',
    async () => {
      const work = await userCheckout();
      const before = await checkoutState(work);
      const outside = path.join(work, 'escaped-from-sandbox.txt');
      // A server on this machine's loopback: the sandbox has a network namespace of its own, so it cannot reach it.
      const listener = await listen((_request, res) => sendJson(res, 200, {}));
      const { code, json, llm, run, pulls, stderr } = await agentRun(work, {
        turns: [
          {
            calls: [
              { name: 'list_files', arguments: {} },
              { name: 'read_file', arguments: { path: 'src/sum.js' } },
            ],
          },
          {
            calls: [
              { name: 'read_file', arguments: { path: '../outside.txt' } },
              { name: 'read_file', arguments: { path: '/etc/passwd' } },
              { name: 'read_file', arguments: { path: 'escape/passwd' } },
              { name: 'edit', arguments: { path: '.git/hooks/pre-commit', new_text: '#!/bin/sh\necho pwned\n' } },
            ],
          },
          { calls: [{ name: 'run', arguments: { command: 'npm test' } }] },
          {
            calls: [
              {
                name: 'run',
                arguments: {
                  command: `node -e "require('http').get('${listener.url}/', r => console.log('reached', r.statusCode)).on('error', e => { console.log('network error', e.code); process.exit(3) })"`,
                },
              },
              { name: 'run', arguments: { command: `echo x > ${outside} && echo written` } },
              { name: 'run', arguments: { command: 'env; echo "key=${OPENAI_API_KEY:-none}"' } },
            ],
          },
          {
            calls: [
              { name: 'edit', arguments: { path: 'src/sum.js', old_text: 'values', new_text: 'xs' } },
              { name: 'edit', arguments: FIX },
            ],
          },
          { content: 'Running the tests again.', calls: [{ name: 'run', arguments: { command: 'npm test' } }] },
          { calls: [{ name: 'submit', arguments: SUBMIT }] },
        ],
      });
      expect({ code, why: code ? `${json.reason}\n${stderr}` : '' }).toEqual({ code: 0, why: '' });
      expect(json.status).toBe('pr_created');
      expect(pulls).toBe(1);
      expect(json.change?.files).toEqual(['src/sum.js']);
      expect(json.change?.diff).toContain('+  for (let i = 0; i < values.length; i += 1) total += values[i];');
      expect(json.agent).toMatchObject({ turns: 7, stopReason: null, fellBack: null });
      expect(json.agent?.toolCalls).toEqual({ list_files: 1, read_file: 4, edit: 3, run: 5, submit: 1 });
      expect(json.usage.calls).toBe(7);

      // Every request streamed, and every one offered the tools.
      const bodies = llm.bodies();
      expect(bodies.every((b) => b.stream === true && b.tools?.some((t) => t.function.name === 'submit'))).toBe(true);
      const results = llm.toolResults();
      const result = (name: string, match: string) => results.find((r) => r.name === name && r.arguments.includes(match))?.content ?? '';
      expect(result('list_files', '{}')).toContain('test/sum.test.js');
      expect(result('read_file', 'src/sum.js')).toContain('let i = 1');
      expect(result('read_file', '../outside.txt')).toMatch(/^refused: .*escapes the repository/);
      expect(result('read_file', '/etc/passwd')).toMatch(/^refused: .*absolute path/);
      expect(result('read_file', 'escape/passwd')).toMatch(/^refused: .*symlink that leaves the repository/);
      expect(result('edit', '.git/hooks')).toMatch(/^refused: .*inside a \.git directory/);
      expect(result('edit', '"old_text":"values"')).toBe(
        'edit failed: old_text occurs more than once in src/sum.js: include more surrounding lines',
      );
      expect(result('edit', '"old_text":"let i = 1"')).toBe('edited src/sum.js at line 3');
      // The failing test ran for real, in the sandbox; after the edit it passes.
      const runs = results.filter((r) => r.name === 'run');
      expect(runs[0].content).toMatch(/^exit code 1\n[\s\S]*sums every value/);
      expect(runs[1].content).toMatch(/^exit code 3\n[\s\S]*network error/);
      expect(runs[2].content).toMatch(/^exit code [1-9]/);
      expect(runs[2].content).not.toContain('written');
      expect(runs[3].content).toContain('key=none');
      expect(runs[3].content).not.toContain(OPENAI_KEY);
      expect(runs[3].content).not.toContain(GITHUB_TOKEN);
      expect(lastResult(bodies.at(-1)!, 'run')).toMatch(/^exit code 0\n[\s\S]*pass 2/);
      // Nothing reached the host: not the file written from the sandbox, not the user's checkout.
      expect(existsSync(outside)).toBe(false);
      expect(listener.requests).toHaveLength(0);
      await listener.close();
      // (The verified branch is pushed to the repository given: a new ref is all it gets.)
      expect(await checkoutState(work)).toEqual(before);

      // The trajectory, from the audit trail, readable and as JSON.
      const env = taskEnv(run, { cache });
      const shown = await runCli(['tasks', 'show', json.task.id, '--trajectory'], { cwd: run.cwd, env });
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('7 model call(s)');
      expect(shown.stdout).toMatch(/✗ read_file \{"path":"\.\.\/outside\.txt"\}\n\s+refused: /);
      expect(shown.stdout).toMatch(/→ submit .*Fix sum to start at the first value/);
      const asJson = await runCli(['tasks', 'show', json.task.id, '--trajectory', '--json'], { cwd: run.cwd, env });
      const trajectory = JSON.parse(asJson.stdout) as { turns: number; toolCalls: Record<string, number>; calls: { tool: string }[] };
      expect(trajectory.turns).toBe(7);
      expect(trajectory.toolCalls).toEqual(json.agent?.toolCalls);
      expect(trajectory.calls.map((c) => c.tool).at(-1)).toBe('submit');
    },
    RUN_TIMEOUT,
  );

  it(
    'a model claiming success while the test still fails is sent back in the same conversation and never verified (non-streamed)',
    async () => {
      const bare = await makeRepo(NODE_FILES, { bare: true });
      const claim = { rationale: 'Fixed the bug; all tests pass now.', commit_message: 'Fix sum' };
      const { code, json, llm } = await agentRun(
        bare,
        {
          turns: [
            {
              calls: [
                {
                  name: 'edit',
                  // A new file: the change is the workspace's diff, new files included.
                  arguments: { path: 'docs/sum.md', new_text: '# sum\n\nAdds the values.\n' },
                },
              ],
            },
            { content: 'The tests pass now.', calls: [{ name: 'submit', arguments: claim }] },
          ],
          // Every repair round: the same claim, the same change.
          after: () => ({ calls: [{ name: 'submit', arguments: claim }] }),
        },
        { env: { AUTODEV_AGENT_STREAM: 'false', AUTODEV_MAX_REPAIR_ATTEMPTS: '1' } },
      );
      expect(code).toBe(1);
      expect(['failed', 'unproven']).toContain(json.status);
      expect(json.pr).toBeNull();
      expect(json.steps.filter((s) => s.id === 'test' && s.mode === 'change').map((s) => s.status)).toEqual(['failed', 'failed']);
      const bodies = llm.bodies();
      expect(bodies).toHaveLength(3);
      expect(bodies.every((b) => !b.stream)).toBe(true);
      // The repair round continues the conversation: everything before it, then what autodev's own test run found.
      const repair = bodies[2].messages;
      expect(repair.slice(0, bodies[1].messages.length)).toEqual(bodies[1].messages);
      const feedback = repair.at(-1)!;
      expect(feedback.role).toBe('user');
      expect(feedback.content).toMatch(/autodev applied your submitted change[\s\S]*sums every value/);
      expect(json.agent?.turns).toBe(3);
      expect(json.agent?.toolCalls).toEqual({ edit: 1, submit: 2 });
      expect(json.change?.files).toEqual(['docs/sum.md']);
    },
    RUN_TIMEOUT,
  );

  describe('stopped with the reason', () => {
    // The cheapest project the Node toolchain takes: a test script that does nothing.
    const PLAIN = {
      'package.json': `${JSON.stringify({ name: 'plain', version: '1.0.0', private: true, scripts: { test: 'true' } })}\n`,
      'README.md': 'hello\n',
    };

    it(
      'a looping model: the third identical call is pointed out, the fourth stops the loop',
      async () => {
        const bare = await makeRepo(PLAIN, { bare: true });
        const { code, json, llm } = await agentRun(bare, {
          after: () => ({ calls: [{ name: 'read_file', arguments: { path: 'README.md' } }] }),
        });
        expect(code).toBe(1);
        expect(json.status).toBe('failed');
        expect(json.reason).toMatch(/agent stopped: the model made the same call 4 times on an unchanged workspace \(read_file/);
        expect(json.agent).toMatchObject({ turns: 4, toolCalls: { read_file: 4 } });
        expect(lastResult(llm.bodies().at(-1)!, 'read_file')).toMatch(/exact call 3 times/);
        expect(json.change).toBeNull();
      },
      RUN_TIMEOUT,
    );

    it(
      'a model that spends the token budget',
      async () => {
        const wander = (body: { messages: unknown[] }) => ({
          calls: [{ name: 'list_files', arguments: { path: `dir-${body.messages.length}` } }],
          promptTokens: 2000,
        });
        const tokens = await agentRun(
          await makeRepo(PLAIN, { bare: true }),
          { after: wander },
          { env: { AUTODEV_LLM_MAX_TOTAL_TOKENS: '5000' } },
        );
        expect(tokens.code).toBe(1);
        expect(tokens.json.reason).toMatch(/token budget.*llm\.max_total_tokens = 5000/);
        expect(tokens.json.usage.totalTokens).toBeLessThanOrEqual(5000);
        expect(tokens.llm.bodies()).toHaveLength(2);
      },
      RUN_TIMEOUT,
    );

    it(
      'an endpoint without tool calls: --strategy agent fails saying so; generate.strategy = "agent" falls back to single in one line',
      async () => {
        const refusal = {
          status: 400,
          body: { error: { message: 'tools is not supported for this model', type: 'invalid_request_error' } },
        };
        const demanded = await agentRun(await makeRepo(PLAIN, { bare: true }), { turns: [refusal] });
        expect(demanded.code).toBe(1);
        expect(demanded.json.reason).toMatch(/^agent mode needs tool calls, which the endpoint does not do \(.*tools is not supported/);
        expect(demanded.llm.bodies()).toHaveLength(1);

        // A server that takes the tools and ignores them: the first reply is text only.
        const patch = ['--- a/README.md', '+++ b/README.md', '@@ -1 +1 @@', '-hello', '+hello, world', ''].join('\n');
        const configured = await agentRun(
          await makeRepo(PLAIN, { bare: true }),
          {
            turns: [{ content: 'Here is the fix.' }, { content: reply('Say hello to the world', patch) }],
          },
          { args: ['--no-pr'], env: { AUTODEV_GENERATE_STRATEGY: 'agent', AUTODEV_MAX_REPAIR_ATTEMPTS: '0' } },
        );
        expect(configured.json.agent?.fellBack).toMatch(/text only, no tool call/);
        const warned = configured.stderr.split('\n').filter((l) => l.includes('falling back to the single strategy'));
        expect(warned).toHaveLength(1);
        const bodies = configured.llm.bodies();
        expect(bodies).toHaveLength(2);
        expect(bodies[0].tools).toBeDefined();
        expect(bodies[1].tools).toBeUndefined();
        expect(configured.json.steps.find((s) => s.id === 'codegen')?.status).toBe('ok');
      },
      RUN_TIMEOUT,
    );
  });

  it(
    'with sandbox = "none" agent mode is refused (exit 3) unless --allow-unsandboxed-agent',
    async () => {
      const bare = await makeRepo(NODE_FILES, { bare: true });
      const run = await makeRunDir();
      const env = taskEnv(run, { cache });
      const args = ['run', '--plan-only', '--json', '--repo', bare, '--title', 'Look only', '--strategy', 'agent', '--sandbox', 'none'];
      const refused = await runCli(args, { cwd: run.cwd, env });
      expect(refused.code).toBe(3);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/agent mode refused with sandbox = "none".*--allow-unsandboxed-agent/);
      const allowed = await runCli([...args, '--allow-unsandboxed-agent'], { cwd: run.cwd, env });
      expect(allowed.code).toBe(0);
      const plan = (
        JSON.parse(allowed.stdout) as {
          plan: { steps: { id: string; inputs: { strategy?: string; agent?: { onUnsupported: string } } }[] };
        }
      ).plan;
      const codegen = plan.steps.find((s) => s.id === 'codegen')!;
      expect(codegen.inputs.strategy).toBe('agent');
      expect(codegen.inputs.agent?.onUnsupported).toBe('fail');
    },
    RUN_TIMEOUT,
  );
});
