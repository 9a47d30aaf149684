// A model call that stalls past llm.request_timeout_secs is retried, as the plan's `retries` says:
// the planner's codegen step, the real engine, the real codegen step and the real LLM port against
// the local OpenAI-compatible server, whose first reply stalls beyond the request timeout.
import { afterEach, expect, it } from '@jest/globals';
import { autodevSchema } from '../../src/config/schema.js';
import { runPlan } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/types.js';
import type { TaskRequest } from '../../src/config/request.js';
import { buildPlan } from '../../src/plan/planner.js';
import { createLlm } from '../../src/ports/llm.js';
import { createRegistry } from '../../src/steps/registry.js';
import { initialState, type StepPorts } from '../../src/steps/types.js';
import { FIXED_REPLY } from '../support/calc-crate.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';

const REQUEST: TaskRequest = {
  repo: 'https://github.com/acme/calc.git',
  title: 'Fix add',
  description: 'add subtracts',
  risk: 'medium',
  noPr: false,
  keepWorkspace: false,
};

let api: OpenAiServer | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

it('retries a codegen request that timed out, and the retry gets the patch', async () => {
  // The first request stalls far beyond the 1 s request timeout; the second answers at once.
  api = await startOpenAiServer({ replies: [{ content: FIXED_REPLY, delayMs: 30_000 }, { content: FIXED_REPLY }] });
  const config = autodevSchema.parse({ max_step_retries: 2, llm: { request_timeout_secs: 1, api_url: api.baseUrl } });
  const plan = buildPlan({
    request: REQUEST,
    config,
    forge: { owner: 'acme', repo: 'calc' },
    repo: {
      files: ['Cargo.toml', 'src/lib.rs'],
      manifests: { 'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\n' },
      branch: 'main',
    },
    host: { programs: { git: true, rg: true, cargo: true, bwrap: true }, autoSandbox: 'bwrap', installed: {} },
  });
  const codegen = plan.steps.find((s) => s.id === 'codegen')!;
  expect(codegen.retries).toBe(2);
  const baseUrl = api.baseUrl;
  const ports = {
    config,
    llm: async () => createLlm({ apiUrl: baseUrl, apiKey: null, timeoutMs: config.llm.request_timeout_secs * 1000 }),
  } as unknown as StepPorts;
  const events: EngineEvent[] = [];

  const outcome = await runPlan({
    taskId: 'task-timeout',
    request: REQUEST,
    plan: { ...plan, repair: null, steps: [codegen] },
    tools: createRegistry(),
    ports,
    state: initialState('/nonexistent'),
    signal: new AbortController().signal,
    emit: (event) => events.push(event),
    backoffMs: 10,
  });

  expect(outcome.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([['codegen', 'ok', 2]]);
  expect(outcome.status).toBe('verified');
  const retry = events.find((e) => e.type === 'step.retry');
  expect(retry).toMatchObject({ stepId: 'codegen', attempt: 2, reason: expect.stringContaining('did not answer within 1000 ms') });
  expect(api.chatBodies()).toHaveLength(2);
});
