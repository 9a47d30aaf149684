#!/usr/bin/env node
// The queue's throughput and overhead: the same fixture tasks (a tiny Node project whose failing test
// a scripted model reply fixes, each task on its own repository so the per-repository limit never
// serializes them) run through `serve --queue` with 1, 2 and 4 `autodev worker`s on a real
// redis-server, side by side in one run, and through a plain in-process `serve` (one task at a time),
// the one-machine default. Prints tasks per minute for each, and the queue's overhead per task: one
// worker's wall time per task minus the in-process server's. Prints, doesn't assert.
//
// Build first: npm run build && npm run build:support ; then: node bench/queue.mjs
// BENCH_QUEUE_TASKS=<n> tasks per configuration (default 6); BENCH_QUEUE_WORKERS=1,2,4.
// BullMQ needs its Redis driver (ioredis) installed.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ownChild, stopping, tempDir } from './lib/temp.mjs';
import { headline } from './lib/summary.mjs';
import { autodevEnv, gitWith, loadSupport, root, writeTree } from './lib/pipeline.mjs';

const { startOpenAiServer, startGitHubServer, calc } = await loadSupport();
const { startRedis } = await import(path.join(root, 'build/support/redis-server.js'));

const TASKS = Math.max(1, Number(process.env.BENCH_QUEUE_TASKS ?? 6));
const WORKERS = (process.env.BENCH_QUEUE_WORKERS ?? '1,2,4').split(',').map(Number);
const API = '/api/v1/autodev/tasks';

const SUM = (start) =>
  `export function sum(values) {\n  let total = 0;\n  for (let i = ${start}; i < values.length; i += 1) total += values[i];\n  return total;\n}\n`;
const FILES = {
  'package.json': `${JSON.stringify({ name: 'summer', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2)}\n`,
  'src/sum.js': SUM(1),
  'test/sum.test.js': `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { sum } from '../src/sum.js';\ntest('sums every value', () => assert.equal(sum([1, 2, 3]), 6));\n`,
};

const work = tempDir('autodev-bench-queue-');
const { git } = gitWith();

/** A bare repository holding the fixture; the reply's patch comes from git itself. */
function makeRepo(name) {
  const dir = path.join(work, 'src', name);
  mkdirSync(dir, { recursive: true });
  writeTree(dir, FILES);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'init');
  const bare = path.join(work, 'repos', `${name}.git`);
  git(work, 'clone', '-q', '--bare', dir, bare);
  return bare;
}

const patchDir = path.join(work, 'patch');
mkdirSync(patchDir, { recursive: true });
writeTree(patchDir, FILES);
git(patchDir, 'init', '-q');
git(patchDir, 'add', '-A');
writeTree(patchDir, { 'src/sum.js': SUM(0) });
const REPLY = calc.reply('Fix sum to start at the first value', git(patchDir, 'diff', '--no-color'));

const llm = await startOpenAiServer({ apiKey: 'bench-openai-key', onRequest: () => ({ content: REPLY }) });
const github = await startGitHubServer({ token: 'bench-github-token' });
const redis = await startRedis();
const cache = path.join(work, 'cache');

function start(args, env) {
  const child = ownChild(
    spawn(process.execPath, [path.join(root, 'bin/autodev.js'), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] }),
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
  const done = new Promise((resolve) => child.on('close', resolve));
  const waitFor = (pattern) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(stderr);
        if (m) return resolve(m);
        if (child.exitCode !== null) return reject(new Error(`exited before ${pattern}:\n${stderr}`));
        setTimeout(check, 50);
      };
      check();
    });
  return { child, done, waitFor, stderr: () => stderr };
}

async function runConfiguration(label, workers, repos) {
  const runDir = path.join(work, 'runs', label.replace(/\W+/g, '-'));
  const env = {
    ...autodevEnv({ runDir, cache, llm, github, repo: 'acme/summer' }),
    AUTODEV_ALLOWLIST_REPOS: repos.join(','),
    AUTODEV_MAX_PARALLEL_TASKS: '1',
    ...(process.env.NODE_PATH ? { NODE_PATH: process.env.NODE_PATH } : {}),
  };
  await redisFlush();
  const queueArgs = workers > 0 ? ['--queue', redis.url] : [];
  const serve = start(['serve', '--port', '0', ...queueArgs], env);
  const url = (await serve.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1];
  const fleet = [];
  for (let i = 0; i < workers; i += 1) fleet.push(start(['worker', '--queue', redis.url, '--name', `w${i + 1}`], env));
  await Promise.all(fleet.map((w) => w.waitFor(/taking tasks from/)));
  const started = performance.now();
  const ids = [];
  for (const repo of repos) {
    const res = await fetch(`${url}${API}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repo, title: 'Fix sum skipping the first value', description: 'sum() starts at index 1.' }),
    });
    ids.push((await res.json()).id);
  }
  let statuses = [];
  for (;;) {
    statuses = await Promise.all(ids.map(async (id) => await (await fetch(`${url}${API}/${id}`)).json()));
    if (statuses.every((t) => t.exitCode !== null)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = performance.now() - started;
  for (const w of fleet) w.child.kill('SIGTERM');
  serve.child.kill('SIGINT');
  await Promise.all([serve.done, ...fleet.map((w) => w.done)]);
  const ok = statuses.filter((t) => t.status === 'pr_created').length;
  return { label, workers, ms, ok, perMinute: (repos.length / ms) * 60_000, perTaskMs: ms / repos.length };
}

async function redisFlush() {
  const { redisCommand } = await import(path.join(root, 'build/support/redis-server.js'));
  await redisCommand(redis.port, 'FLUSHALL');
}

let count = 0;
const freshRepos = () => Array.from({ length: TASKS }, () => makeRepo(`r${(count += 1)}`));

console.log(`bench/queue: ${TASKS} fixture tasks (a Node project, scripted model) per configuration`);
// A first, unmeasured in-process run warms the machine-level caches (sandbox check, node's own).
await runConfiguration('warm-up', 0, freshRepos().slice(0, 1));
const results = [await runConfiguration('in-process serve (1 at a time)', 0, freshRepos())];
for (const n of WORKERS) results.push(await runConfiguration(`serve --queue, ${n} worker(s)`, n, freshRepos()));

if (!stopping()) {
  const width = Math.max(...results.map((r) => r.label.length));
  console.log(`\n${'configuration'.padEnd(width)}  tasks/min  s/task  done`);
  for (const r of results)
    console.log(
      `${r.label.padEnd(width)}  ${r.perMinute.toFixed(1).padStart(9)}  ${(r.perTaskMs / 1000).toFixed(2).padStart(6)}  ${r.ok}/${TASKS}`,
    );
  const local = results[0];
  const one = results.find((r) => r.workers === 1);
  if (one) {
    const overhead = one.perTaskMs - local.perTaskMs;
    console.log(
      `\nqueue overhead per task (1 worker vs in-process): ${(overhead / 1000).toFixed(2)} s (${((overhead / local.perTaskMs) * 100).toFixed(0)}%)`,
    );
    headline({
      figure: 'time per task, 1 worker',
      autodev: one.perTaskMs / 1000,
      alternative: local.perTaskMs / 1000,
      against: 'in-process serve',
      unit: 's',
    });
  }
  const most = results.at(-1);
  headline({
    figure: `tasks/min, ${most.workers} workers`,
    autodev: most.perMinute,
    alternative: local.perMinute,
    against: 'in-process serve',
    unit: '/min',
    better: 'higher',
  });
}
await redis.stop();
await llm.close();
await github.close();
