import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createMetrics, pushToGateway, writeTextfile, type Metrics } from '../../src/observe/metrics.js';
import { scripter } from './helpers.js';

/** name{a="b",c="d"} → value, from a text exposition. Label values here never hold commas or quotes. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/** Four tasks: one with a PR after a repair, one denied twice over, one cancelled, one verified with --no-pr. */
function feedScriptedTasks(metrics: Metrics): void {
  const m = metrics.subscriber;
  const a = scripter('a', Date.parse('2026-01-01T00:00:00Z'));
  m(a.status('pending'));
  m(a.status('planning'));
  m(a.status('executing'));
  m(a.finished('clone', 'ok', 1500));
  m(a.usage(1000, 200, 0.01));
  m(a.finished('codegen', 'ok', 20_000));
  m(a.finished('build', 'failed', 3000, { tool: 'build' }));
  m(a.usage(1500, 300, 0.02));
  m(a.finished('build', 'ok', 2000, { round: 1 }));
  m(a.status('verified'));
  m(a.finished('pr', 'ok', 700));
  m(a.status('pr_created'));

  const b = scripter('b');
  m(b.status('planning'));
  m(b.finished('policy', 'denied', 50));
  m(b.usage(10, 5, null));
  m(b.status('denied', 'high_risk_needs_review, secrets_found'));

  const c = scripter('c');
  m(c.status('planning'));
  m(c.status('cancelled'));

  const d = scripter('d');
  m(d.status('planning'));
  m(d.finished('test', 'skipped', 0));
  m(d.status('verified'));

  // task-sync later: a merge of task a (no new task), then a revert.
  m(scripter('a').status('merged'));
  metrics.recordRevert();
}

describe('createMetrics', () => {
  it('counts tasks, outcomes, steps, denials, PRs, merges, reverts and LLM usage from events alone', async () => {
    const metrics = createMetrics();
    feedScriptedTasks(metrics);
    await metrics.subscriber.close();
    const text = await metrics.text();
    const s = samples(text);

    expect(s.get('autodev_tasks_total')).toBe(4);
    expect(s.get('autodev_tasks_success_total')).toBe(2); // a (PR) and d (verified, --no-pr)
    expect(s.get('autodev_tasks_failed_total')).toBe(0);
    expect(s.get('autodev_tasks_cancelled_total')).toBe(1);
    expect(s.get('autodev_tasks_denied_total')).toBe(1);
    expect(s.get('autodev_task_duration_seconds_count')).toBe(4);
    expect(s.get('autodev_steps_total{status="ok"}')).toBe(4);
    expect(s.get('autodev_steps_total{status="failed"}')).toBe(1);
    expect(s.get('autodev_steps_total{status="denied"}')).toBe(1);
    expect(s.get('autodev_steps_total{status="skipped"}')).toBe(1);
    expect(s.get('autodev_step_duration_seconds_count{tool="build"}')).toBe(2);
    expect(s.get('autodev_step_duration_seconds_sum{tool="build"}')).toBe(5);
    expect(s.get('autodev_step_duration_seconds_bucket{le="2.5",tool="build"}')).toBe(1);
    expect(s.get('autodev_step_duration_seconds_bucket{le="5",tool="build"}')).toBe(2);
    expect(s.get('autodev_step_duration_seconds_bucket{le="+Inf",tool="codegen"}')).toBe(1);
    expect(s.get('autodev_prs_opened_total')).toBe(1);
    expect(s.get('autodev_merges_total')).toBe(1);
    expect(s.get('autodev_reverts_total')).toBe(1);
    expect(s.get('autodev_policy_denials_total{reason="high_risk_needs_review"}')).toBe(1);
    expect(s.get('autodev_policy_denials_total{reason="secrets_found"}')).toBe(1);
    expect(s.get('autodev_llm_tokens_total{kind="prompt"}')).toBe(2510);
    expect(s.get('autodev_llm_tokens_total{kind="completion"}')).toBe(505);
    expect(s.get('autodev_llm_cost_usd_total')).toBeCloseTo(0.03, 10);
    expect(text).toContain('# TYPE autodev_task_duration_seconds histogram');
  });

  it("counts the agent's turns and its tool calls per tool, an unknown tool name as other", async () => {
    const metrics = createMetrics();
    const tool = (name: string, ok: boolean) => ({
      type: 'agent.tool' as const,
      taskId: 'a',
      round: 0,
      turn: 1,
      tool: name,
      arguments: '{}',
      result: '',
      ok,
    });
    metrics.subscriber({ type: 'agent.turn', taskId: 'a', round: 0, turn: 1 });
    metrics.subscriber({ type: 'agent.turn', taskId: 'a', round: 0, turn: 2 });
    for (const event of [tool('run', true), tool('run', true), tool('read_file', false), tool('rm_rf', false)]) metrics.subscriber(event);
    const s = samples(await metrics.text());
    expect(s.get('autodev_agent_turns_total')).toBe(2);
    expect(s.get('autodev_agent_tool_calls_total{tool="run",ok="true"}')).toBe(2);
    expect(s.get('autodev_agent_tool_calls_total{tool="read_file",ok="false"}')).toBe(1);
    expect(s.get('autodev_agent_tool_calls_total{tool="other",ok="false"}')).toBe(1);
  });

  it('counts a verified task that then fails as failed, not as a success', async () => {
    const metrics = createMetrics();
    const t = scripter('x');
    metrics.subscriber(t.status('planning'));
    metrics.subscriber(t.status('verified'));
    metrics.subscriber(t.status('failed', 'pr step failed'));
    const s = samples(await metrics.text());
    expect(s.get('autodev_tasks_success_total')).toBe(0);
    expect(s.get('autodev_tasks_failed_total')).toBe(1);
  });

  it('counts an unproven task as an outcome of its own, neither success nor failure', async () => {
    const metrics = createMetrics();
    const t = scripter('u');
    metrics.subscriber(t.status('planning'));
    metrics.subscriber(t.status('unproven', 'no evidence the change does the task'));
    const s = samples(await metrics.text());
    expect(s.get('autodev_tasks_unproven_total')).toBe(1);
    expect(s.get('autodev_tasks_success_total')).toBe(0);
    expect(s.get('autodev_tasks_failed_total')).toBe(0);
  });

  it('uses a private registry: two instances do not share counts', async () => {
    const one = createMetrics();
    const two = createMetrics();
    one.subscriber(scripter('a').status('planning'));
    expect(samples(await one.text()).get('autodev_tasks_total')).toBe(1);
    expect(samples(await two.text()).get('autodev_tasks_total')).toBe(0);
  });
});

describe('writeTextfile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autodev-metrics-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accumulates counters and histograms across runs, keeping series a later run lacks', async () => {
    const path = join(dir, 'collector', 'autodev.prom');
    const first = createMetrics();
    feedScriptedTasks(first);
    await writeTextfile(path, first);

    const second = createMetrics();
    const t = scripter('e');
    second.subscriber(t.status('planning'));
    second.subscriber(t.finished('build', 'ok', 700, { tool: 'build' }));
    second.subscriber(t.finished('lint', 'ok', 1200, { tool: 'lint' }));
    second.subscriber(t.status('denied', 'lint_warnings'));
    await writeTextfile(path, second);

    const s = samples(await readFile(path, 'utf8'));
    expect(s.get('autodev_tasks_total')).toBe(5);
    expect(s.get('autodev_tasks_denied_total')).toBe(2);
    expect(s.get('autodev_tasks_success_total')).toBe(2);
    expect(s.get('autodev_reverts_total')).toBe(1);
    expect(s.get('autodev_policy_denials_total{reason="secrets_found"}')).toBe(1); // only in run 1
    expect(s.get('autodev_policy_denials_total{reason="lint_warnings"}')).toBe(1); // only in run 2
    expect(s.get('autodev_steps_total{status="ok"}')).toBe(6);
    expect(s.get('autodev_step_duration_seconds_count{tool="build"}')).toBe(3);
    expect(s.get('autodev_step_duration_seconds_sum{tool="build"}')).toBeCloseTo(5.7, 10);
    expect(s.get('autodev_step_duration_seconds_bucket{le="1",tool="build"}')).toBe(1);
    expect(s.get('autodev_step_duration_seconds_bucket{le="+Inf",tool="build"}')).toBe(3);
    expect(s.get('autodev_step_duration_seconds_count{tool="lint"}')).toBe(1);
    expect(s.get('autodev_task_duration_seconds_count')).toBe(5);
    expect(s.get('autodev_llm_cost_usd_total')).toBeCloseTo(0.03, 10);

    // Only the .prom file is left: no temp file, no lock.
    expect(await readdir(join(dir, 'collector'))).toEqual(['autodev.prom']);
  });

  it('loses no counts when several runs write at once', async () => {
    const path = join(dir, 'autodev.prom');
    const runs = Array.from({ length: 6 }, (_, i) => {
      const m = createMetrics();
      const t = scripter(`t${i}`);
      m.subscriber(t.status('planning'));
      m.subscriber(t.finished('build', 'ok', 1000 * (i + 1), { tool: 'build' }));
      m.subscriber(t.status('failed'));
      return m;
    });
    await Promise.all(runs.map((m) => writeTextfile(path, m)));
    const s = samples(await readFile(path, 'utf8'));
    expect(s.get('autodev_tasks_total')).toBe(6);
    expect(s.get('autodev_tasks_failed_total')).toBe(6);
    expect(s.get('autodev_step_duration_seconds_count{tool="build"}')).toBe(6);
    expect(s.get('autodev_step_duration_seconds_sum{tool="build"}')).toBe(21);
  });

  it('refuses to overwrite a file it cannot parse', async () => {
    const path = join(dir, 'autodev.prom');
    await writeFile(path, 'autodev_tasks_total{broken 1\n');
    await expect(writeTextfile(path, createMetrics())).rejects.toThrow(/cannot parse the existing metrics file/);
    expect(await readFile(path, 'utf8')).toBe('autodev_tasks_total{broken 1\n');
  });
});

describe('pushToGateway', () => {
  let server: Server;
  let requests: { method: string; url: string; body: string }[];
  let status = 200;

  beforeEach(async () => {
    requests = [];
    status = 200;
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', body });
        res.statusCode = status;
        res.end(status >= 400 ? 'nope' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function url(auth = ''): string {
    return `http://${auth}127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('POSTs the text exposition to /metrics/job/<job>/<groupings>', async () => {
    const metrics = createMetrics();
    feedScriptedTasks(metrics);
    await pushToGateway(url(), metrics, 'autodev', { groupings: { instance: 'ci-1' } });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe('POST');
    expect(requests[0]!.url).toBe('/metrics/job/autodev/instance/ci-1');
    const s = samples(requests[0]!.body);
    expect(s.get('autodev_tasks_total')).toBe(4);
    expect(s.get('autodev_policy_denials_total{reason="secrets_found"}')).toBe(1);
  });

  it('fails with the gateway host only, never its credentials', async () => {
    status = 500;
    const metrics = createMetrics();
    const err = await pushToGateway(url('user:s3cretpw@'), metrics, 'autodev').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/push to the Pushgateway at 127\.0\.0\.1:\d+ failed: .*500/);
    expect((err as Error).message).not.toContain('s3cretpw');
  });
});
