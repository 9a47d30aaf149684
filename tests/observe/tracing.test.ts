// OpenTelemetry from `autodev run`, as the built CLI does it: with OTEL_EXPORTER_OTLP_ENDPOINT set, an
// OTLP/HTTP collector on loopback receives one trace: the task's span, a span per step under it, and
// the model call under the codegen step, with counts and names but no credential.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { e2eSuite, runArgs } from '../e2e/harness.js';
import { NODE_FILES, NODE_FIX, NODE_TASK, replyFor } from '../real/fixtures.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, runCli, taskEnv } from '../support/cli.js';
import { makeRepo } from '../support/fixture-repo.js';
import { startOtlpCollector, type OtlpCollector } from '../support/otlp-collector.js';

const { cache, startServers } = e2eSuite();
let collector: OtlpCollector;

beforeAll(async () => {
  collector = await startOtlpCollector();
});

afterAll(async () => {
  await collector?.close();
});

it('run exports one trace per task with its step and model-call spans', async () => {
  const bare = await makeRepo(NODE_FILES, { bare: true });
  const { llm, github } = await startServers({ replies: [{ content: await replyFor('Fix sum', NODE_FILES, NODE_FIX) }] });
  const box = await makeRunDir();
  const env = taskEnv(box, {
    cache,
    llm,
    github,
    extra: { AUTODEV_GIT_GITHUB_REPO: 'acme/summer', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'autodev-test' },
  });
  const outcome = await runCli([...runArgs(bare, NODE_TASK), '--no-pr'], { cwd: box.cwd, env });
  expect({ code: outcome.code, stderr: outcome.code === 0 ? '' : outcome.stderr }).toEqual({ code: 0, stderr: '' });
  const taskId = (JSON.parse(outcome.stdout) as { task: { id: string } }).task.id;

  // The run flushes before it exits: everything is there already.
  const spans = collector.spans();
  const tasks = spans.filter((s) => s.name === 'autodev.task');
  expect(tasks).toHaveLength(1);
  const [task] = tasks;
  expect(task).toEqual(
    expect.objectContaining({
      parentSpanId: '',
      service: 'autodev-test',
      attributes: expect.objectContaining({
        'autodev.task.id': taskId,
        'autodev.toolchain': 'node',
        'autodev.sandbox': 'bwrap',
        'autodev.task.status': 'verified',
        'autodev.task.exit_code': 0,
      }),
    }),
  );
  const steps = spans.filter((s) => s.parentSpanId === task.spanId);
  expect(steps.every((s) => s.traceId === task.traceId && s.name.startsWith('autodev.step '))).toBe(true);
  expect(
    steps.map((s) => `${s.attributes['autodev.step.mode']}:${s.attributes['autodev.step.id']}:${s.attributes['autodev.step.status']}`),
  ).toEqual(expect.arrayContaining(['change:clone:ok', 'baseline:test:ok', 'change:codegen:ok', 'change:apply:ok', 'change:test:ok']));
  const codegen = steps.find((s) => s.attributes['autodev.step.id'] === 'codegen')!;
  const calls = spans.filter((s) => s.name === 'autodev.model.call');
  expect(calls).toHaveLength(1);
  expect(calls[0]).toEqual(
    expect.objectContaining({
      parentSpanId: codegen.spanId,
      attributes: expect.objectContaining({ 'gen_ai.request.model': 'test-model', 'gen_ai.usage.input_tokens': expect.any(Number) }),
    }),
  );
  const text = JSON.stringify(spans);
  expect(text).not.toContain(OPENAI_KEY);
  expect(text).not.toContain(GITHUB_TOKEN);
  expect(collector.rejected()).toEqual([]);
});
