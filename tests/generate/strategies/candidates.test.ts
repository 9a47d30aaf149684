// The `candidates` strategy against the scripted OpenAI server over real HTTP: candidates alike in
// model, format and temperature go in one request with `n` where the server honours it, one by one
// where it does not; each call is admitted by the budget before it is made, so a budget that pays
// for two calls gets two, not three; a malformed candidate is asked again once (within the budget),
// then dropped, not the round.
import { afterEach, describe, expect, it } from '@jest/globals';
import { budgetMeter, promptBound } from '../../../src/generate/budget.js';
import { editFormat } from '../../../src/generate/formats/index.js';
import { buildMessages } from '../../../src/generate/prompt.js';
import { strategyNamed } from '../../../src/generate/strategies/index.js';
import type { StrategyInput, Usage } from '../../../src/generate/types.js';
import type { CodegenInputs } from '../../../src/plan/types.js';
import { createLlm } from '../../../src/ports/llm.js';
import { startOpenAiServer, type OpenAiServer } from '../../support/openai-server.js';

function reply(line: string): string {
  const diff = `--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n fn add() {\n-    a - b\n+    ${line}\n }\n`;
  return `## Rationale\nWrong operator.\n\n## Commit message\nFix add\n\n## Patch\n\`\`\`diff\n${diff}\`\`\`\n`;
}

const SETTINGS: CodegenInputs = {
  strategy: 'candidates',
  format: 'udiff',
  model: 'test-model',
  apiUrl: 'http://127.0.0.1:1/v1',
  temperature: 0.2,
  maxTokens: 256,
  callsPerAttempt: 3,
  maxTotalTokens: 100_000,
  maxCostUsd: null,
  promptPricePer1k: null,
  completionPricePer1k: null,
  candidates: [
    { model: 'test-model', format: 'udiff', temperature: 0.2 },
    { model: 'test-model', format: 'udiff', temperature: 0.6 },
    { model: 'test-model', format: 'udiff', temperature: 0.6 },
  ],
};

const servers: OpenAiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function run(server: OpenAiServer, settings: Partial<CodegenInputs> = {}) {
  const plan = { ...SETTINGS, ...settings };
  const spent: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: null, calls: 0 };
  const warnings: string[] = [];
  const input: StrategyInput = {
    task: { title: 'Fix add', description: '' },
    context: null,
    baseline: { failingTests: [] },
    repair: null,
    settings: plan,
    format: editFormat('udiff'),
    llm: createLlm({ apiUrl: server.baseUrl, apiKey: 'k', timeoutMs: 10_000 }),
    budget: budgetMeter(plan, spent, () => undefined),
    signal: new AbortController().signal,
    warn: (message) => warnings.push(message),
  };
  return { outcome: await strategyNamed('candidates').generate(input), spent, warnings, input };
}

describe('the candidates strategy', () => {
  it('asks the two alike candidates in one request with n when the server honours it', async () => {
    const server = await startOpenAiServer({ honourN: true });
    servers.push(server);
    server.enqueue({ content: reply('a + b') }, { content: reply('b + a') }, { content: reply('a.wrapping_add(b)') });
    const { outcome, spent } = await run(server);
    expect(outcome.status).toBe('generated');
    if (outcome.status !== 'generated') return;
    expect(outcome.candidates).toHaveLength(3);
    const bodies = server.chatBodies();
    expect(bodies).toHaveLength(2);
    expect(bodies.map((b) => [b.temperature, b.n ?? 1]).sort()).toEqual([
      [0.2, 1],
      [0.6, 2],
    ]);
    expect(outcome.candidates.map((c) => c.origin!.temperature).sort()).toEqual([0.2, 0.6, 0.6]);
    expect(spent.calls).toBe(2);
  });

  it('asks the rest one by one when the server ignores n', async () => {
    const server = await startOpenAiServer();
    servers.push(server);
    server.enqueue({ content: reply('a + b') }, { content: reply('b + a') }, { content: reply('a.wrapping_add(b)') });
    const { outcome, spent } = await run(server);
    expect(outcome.status === 'generated' && outcome.candidates.length).toBe(3);
    expect(server.chatBodies()).toHaveLength(3);
    expect(spent.calls).toBe(3);
  });

  it('makes two calls, not three, when the budget pays for two', async () => {
    const server = await startOpenAiServer();
    servers.push(server);
    server.enqueue(
      { content: reply('a + b'), completionTokens: 10 },
      { content: reply('b + a'), completionTokens: 10 },
      { content: reply('x') },
    );
    const messages = buildMessages({
      task: { title: 'Fix add', description: '' },
      context: null,
      baseline: { failingTests: [] },
      repair: null,
      format: editFormat('udiff'),
      formatError: null,
    });
    // Two calls' bounds (prompt + max_tokens each) and a little: not a third.
    const bound = promptBound(messages) + SETTINGS.maxTokens;
    const { outcome, warnings } = await run(server, { maxTotalTokens: 2 * bound + 10 });
    expect(server.chatBodies()).toHaveLength(2);
    expect(outcome.status).toBe('generated');
    if (outcome.status !== 'generated') return;
    expect(outcome.candidates).toHaveLength(2);
    expect(outcome.notes).toEqual([expect.stringMatching(/^fewer candidates: 2 of 3 asked for \(token budget: the next call could use/)]);
    expect(warnings).toEqual(outcome.notes);
  });

  it('stops with the budget reason when not even one call fits', async () => {
    const server = await startOpenAiServer();
    servers.push(server);
    const { outcome } = await run(server, { maxTotalTokens: 50 });
    expect(outcome).toMatchObject({ status: 'stopped', budget: true, reason: expect.stringMatching(/^token budget/) });
    expect(server.chatBodies()).toHaveLength(0);
  });

  /** Three candidates, each its own request; the one at t=0.2 answers `first` and, asked again, `again`. */
  async function malformedServer(
    first: string,
    again: string,
    spend?: { promptTokens: number; completionTokens: number },
  ): Promise<OpenAiServer> {
    const server = await startOpenAiServer({
      onRequest: (body) => {
        if (body.temperature !== 0.2) return { content: reply(`a + b /* t=${body.temperature} */`), completionTokens: 10, ...spend };
        const reasked = JSON.stringify(body.messages).includes('Your last reply could not be used');
        return reasked ? { content: again, completionTokens: 11, ...spend } : { content: first, completionTokens: 7, ...spend };
      },
    });
    servers.push(server);
    return server;
  }
  const DISTINCT = {
    candidates: [0.2, 0.5, 0.8].map((temperature) => ({ model: 'test-model', format: 'udiff', temperature })),
  };

  it('asks a malformed candidate again once, with the parse error, as the single strategy does', async () => {
    const server = await malformedServer('just prose', reply('a.wrapping_add(b)'));
    const { outcome, spent, warnings } = await run(server, DISTINCT);
    expect(outcome.status).toBe('generated');
    if (outcome.status !== 'generated') return;
    expect(outcome.candidates).toHaveLength(3);
    expect(outcome.dropped).toEqual([]);
    const bodies = server.chatBodies();
    expect(bodies).toHaveLength(4);
    expect(spent.calls).toBe(4);
    // Only the fourth call, at t=0.2, says why the reply could not be used.
    const reasks = bodies.filter((b) => JSON.stringify(b.messages).includes('Your last reply could not be used'));
    expect(reasks.map((b) => b.temperature)).toEqual([0.2]);
    expect(bodies[3]).toBe(reasks[0]);
    // The candidate asked again counts both replies' tokens.
    const again = outcome.candidates.find((c) => c.origin!.temperature === 0.2)!;
    expect(again.origin!.completionTokens).toBe(18);
    expect(warnings).toEqual([expect.stringMatching(/\(t=0\.2\) was malformed \(.*\); asking again$/)]);
  });

  it('drops a candidate malformed twice and keeps the others', async () => {
    const server = await malformedServer('just prose', 'prose again');
    const { outcome, warnings } = await run(server, DISTINCT);
    expect(outcome.status).toBe('generated');
    if (outcome.status !== 'generated') return;
    expect(outcome.candidates.map((c) => c.origin!.temperature).sort()).toEqual([0.5, 0.8]);
    expect(outcome.dropped).toEqual([
      {
        origin: expect.objectContaining({ temperature: 0.2, completionTokens: 18 }),
        reason: expect.stringMatching(/^malformed reply, twice/),
      },
    ]);
    expect(server.chatBodies()).toHaveLength(4);
    expect(warnings).toEqual([expect.stringMatching(/asking again$/), expect.stringMatching(/was malformed again .*; dropped$/)]);
  });

  it('asks again only what the budget pays for: with three calls paid, the malformed one is dropped, not re-asked', async () => {
    const messages = buildMessages({
      task: { title: 'Fix add', description: '' },
      context: null,
      baseline: { failingTests: [] },
      repair: null,
      format: editFormat('udiff'),
      formatError: null,
    });
    // Three calls' bounds and a little; each reply uses all of its bound, so a fourth call does not fit.
    const bound = promptBound(messages) + SETTINGS.maxTokens;
    const spend = { promptTokens: promptBound(messages), completionTokens: SETTINGS.maxTokens };
    const server = await malformedServer('just prose', reply('a.wrapping_add(b)'), spend);
    const { outcome, warnings } = await run(server, { ...DISTINCT, maxTotalTokens: 3 * bound + 10 });
    expect(server.chatBodies()).toHaveLength(3);
    expect(outcome.status).toBe('generated');
    if (outcome.status !== 'generated') return;
    expect(outcome.candidates).toHaveLength(2);
    expect(outcome.dropped).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^malformed reply: .*\(not asked again: token budget/) }),
    ]);
    // All three were asked for: no note of fewer candidates.
    expect(outcome.notes).toEqual([]);
    expect(warnings).toEqual([
      expect.stringMatching(/asking again$/),
      expect.stringMatching(/dropped: malformed reply: .*not asked again/),
    ]);
  });

  it('in a repair round asks only for the candidates to repair, each with its own failure', async () => {
    const server = await startOpenAiServer();
    servers.push(server);
    server.enqueue({ content: reply('a + b') }, { content: reply('b + a') });
    const plan = { ...SETTINGS };
    const spent: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: null, calls: 0 };
    const outcome = await strategyNamed('candidates').generate({
      task: { title: 'Fix add', description: '' },
      context: null,
      baseline: { failingTests: [] },
      repair: { feedback: 'generic', previousPatch: null },
      repairs: [
        {
          id: 'c2',
          model: 'test-model',
          format: 'udiff',
          temperature: 0.6,
          feedback: 'error[E0308]: mismatched types',
          previousPatch: 'PATCH-C2',
        },
        { id: 'c3', model: 'test-model', format: 'udiff', temperature: 0.6, feedback: 'test multiplies fails', previousPatch: 'PATCH-C3' },
      ],
      settings: plan,
      format: editFormat('udiff'),
      llm: createLlm({ apiUrl: server.baseUrl, apiKey: 'k', timeoutMs: 10_000 }),
      budget: budgetMeter(plan, spent, () => undefined),
      signal: new AbortController().signal,
      warn: () => undefined,
    });
    expect(outcome.status === 'generated' && outcome.candidates.map((c) => c.origin!.repairs).sort()).toEqual(['c2', 'c3']);
    const prompts = server.chatBodies().map((b) => b.messages!.map((m) => m.content).join('\n'));
    expect(prompts).toHaveLength(2);
    expect(prompts.some((p) => p.includes('PATCH-C2') && p.includes('mismatched types') && !p.includes('PATCH-C3'))).toBe(true);
    expect(prompts.some((p) => p.includes('PATCH-C3') && p.includes('multiplies fails') && !p.includes('PATCH-C2'))).toBe(true);
  });
});
