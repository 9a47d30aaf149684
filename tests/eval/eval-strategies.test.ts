// `autodev eval --strategies single,agent` through the built CLI: one Node task, run by the same
// model once per strategy (the agent over real tool calls, the single strategy with one patch), each
// graded on its own, side by side in the figures.
import { describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { e2eSuite } from '../e2e/harness.js';
import { NODE_FILES, NODE_TASK } from '../real/fixtures.js';
import { reply } from '../support/calc-crate.js';
import { makeRunDir, OPENAI_KEY, runCli, taskEnv } from '../support/cli.js';
import { makeRepo } from '../support/fixture-repo.js';
import { startOpenAiToolsServer, type ToolsRequestBody, type ToolTurn } from '../support/openai-tools-server.js';

const { cache } = e2eSuite();
const TIMEOUT = 300_000;

const GOLD = `--- a/src/sum.js
+++ b/src/sum.js
@@ -1,5 +1,5 @@
 export function sum(values) {
   let total = 0;
-  for (let i = 1; i < values.length; i += 1) total += values[i];
+  for (let i = 0; i < values.length; i += 1) total += values[i];
   return total;
 }
`;

/** The agent edits, then submits; asked without tools (the single strategy), the model writes the patch. */
function model(body: ToolsRequestBody): ToolTurn {
  if (!body.tools) return { content: reply('Fix sum to start at the first value', GOLD) };
  const edited = body.messages.some((m) => m.role === 'tool');
  return edited
    ? { calls: [{ name: 'submit', arguments: { rationale: 'start at 0', commit_message: 'Fix sum to start at the first value' } }] }
    : { calls: [{ name: 'edit', arguments: { path: 'src/sum.js', old_text: 'let i = 1', new_text: 'let i = 0' } }] };
}

describe('autodev eval --strategies', () => {
  it(
    'runs single and agent side by side on the same task, a column each',
    async () => {
      const run = await makeRunDir();
      const repo = await makeRepo(NODE_FILES, { bare: true });
      const file = path.join(run.dir, 'tasks.jsonl');
      const task = {
        id: 'sum',
        repo,
        base: 'main',
        ...NODE_TASK,
        fail_to_pass: ['sums every value'],
        pass_to_pass: ['sums nothing to zero'],
        patch: GOLD,
      };
      await writeFile(file, `${JSON.stringify(task)}\n`);
      const llm = await startOpenAiToolsServer({ apiKey: OPENAI_KEY, after: model });
      try {
        const out = path.join(run.dir, 'out');
        const env = taskEnv(run, { cache, extra: { AUTODEV_LLM_API_URL: llm.baseUrl } });
        const outcome = await runCli(['eval', file, '--strategies', 'single,agent', '--out', out, '--json'], { cwd: run.cwd, env });
        expect({ code: outcome.code, stderr: outcome.code ? outcome.stderr : '' }).toEqual({ code: 0, stderr: '' });
        const doc = JSON.parse(outcome.stdout) as { models: { model: string; resolvedPct: number }[]; tasks: unknown[] };
        expect(doc.tasks).toEqual([{ task: 'sum', outcomes: { 'test-model@single': 'resolved', 'test-model@agent': 'resolved' } }]);
        expect(doc.models.map((m) => [m.model, m.resolvedPct])).toEqual([
          ['test-model@single', 100],
          ['test-model@agent', 100],
        ]);
        const recorded = (await readFile(path.join(out, 'results.jsonl'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { model: string; strategy: string; usage: { calls: number } });
        expect(recorded.map((r) => [r.model, r.strategy, r.usage.calls])).toEqual([
          ['test-model', 'single', 1],
          ['test-model', 'agent', 2],
        ]);
        // The agent's requests offered the tools, the single strategy's did not.
        expect(llm.bodies().map((b) => Boolean(b.tools))).toEqual([false, true, true]);
      } finally {
        await llm.close();
      }
    },
    TIMEOUT,
  );
});
