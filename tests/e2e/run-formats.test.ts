// `autodev run` end to end with the edit formats other than the unified diff: the built bin against
// the scripted OpenAI server, a real git remote and a real cargo build in bubblewrap. The model
// (`test-model`, unknown, so llm.edit_format = "auto" asks for SEARCH/REPLACE blocks) answers in
// blocks; when a block does not match, the next request quotes the real region of the file.
import { describe, expect, it } from '@jest/globals';
import { CALC_TASK } from '../support/calc-crate.js';
import type { OpenAiServer } from '../support/openai-server.js';
import { e2eSuite, git, makeBareRepo, parseJson, runArgs } from './harness.js';
import { makeRunDir, runCli, taskEnv } from '../support/cli.js';

const RUN_TIMEOUT = 120_000;
const { cache, startServers } = e2eSuite();

function srReply(search: string, replace: string): string {
  return [
    '## Rationale',
    'add used the wrong operator.',
    '',
    '## Commit message',
    'Fix add to return the sum',
    '',
    '## Changes',
    'src/lib.rs',
    '```rust',
    '<<<<<<< SEARCH',
    search,
    '=======',
    replace,
    '>>>>>>> REPLACE',
    '```',
    '',
  ].join('\n');
}

const GOOD = srReply('pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}', 'pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}');
/** The model misremembers the body: no such text in the file, not even modulo whitespace. */
const STALE = srReply(
  'pub fn add(a: i32, b: i32) -> i32 {\n    return a.wrapping_sub(b);\n}',
  'pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}',
);

function messages(llm: OpenAiServer, index: number): { role: string; content: string }[] {
  return (llm.chatBodies()[index]?.messages ?? []) as { role: string; content: string }[];
}

describe('autodev run with SEARCH/REPLACE edits', () => {
  it(
    'asks an unknown model for SEARCH/REPLACE blocks, applies its reply and verifies the change',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({ replies: [{ content: GOOD }] });
      const runDir = await makeRunDir();
      const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      const system = messages(llm, 0).find((m) => m.role === 'system')!.content;
      expect(system).toContain('<<<<<<< SEARCH');
      expect(system).toContain('## Changes');
      expect(json.steps.map((s) => `${s.mode}:${s.id}:${s.status}`)).toEqual(
        expect.arrayContaining(['change:codegen:ok', 'change:apply:ok', 'change:build:ok', 'change:test:ok']),
      );
      expect(await git(bare, ['show', `${json.change!.branch}:src/lib.rs`])).toContain('pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}');
      expect(await git(bare, ['diff', '--name-only', 'main', json.change!.branch])).toBe('src/lib.rs');
    },
    RUN_TIMEOUT,
  );

  it(
    'when the first block does not match, the second request names the block and quotes the real region with line numbers',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({ replies: [{ content: STALE }, { content: GOOD }] });
      const runDir = await makeRunDir();
      const outcome = await runCli(runArgs(bare, CALC_TASK), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
      const json = parseJson(outcome);

      expect(outcome.code).toBe(0);
      expect(json.status).toBe('pr_created');
      expect(llm.chatBodies()).toHaveLength(2);
      const second = messages(llm, 1)
        .map((m) => m.content)
        .join('\n');
      expect(second).toContain('Your patch was NOT applied (no file was changed).');
      expect(second).toMatch(/src\/lib\.rs: SEARCH\/REPLACE block #1 does not apply: its text is not in the file/);
      expect(second).toMatch(/closest at line 4/);
      // The file's own lines, numbered as they are in src/lib.rs.
      expect(second).toContain(' 4 | pub fn add(a: i32, b: i32) -> i32 {');
      expect(second).toContain(' 5 |     a - b');
      expect(second).toContain('Write new SEARCH/REPLACE blocks');
      // The failed blocks are quoted back, in a fence that holds their own.
      expect(second).toContain('return a.wrapping_sub(b);');
      expect(json.steps.filter((s) => s.id === 'apply').map((s) => `${s.round}:${s.status}`)).toEqual(['0:failed', '1:ok']);
      expect(await git(bare, ['show', `${json.change!.branch}:src/lib.rs`])).toContain('    a + b\n');
    },
    RUN_TIMEOUT,
  );
});
