#!/usr/bin/env node
// Candidates and edit formats, side by side in one run: the whole pipeline (`autodev eval`, which
// runs `run` on each task in bubblewrap against the simulated model of src/eval/simulator.ts) on the
// example tasks of examples/eval (a Rust crate's and a Node package's), once per
// configuration: generate.candidates = 1, 3 and 5 (the model's own format), then candidates = 1 in
// each edit format (udiff, search-replace, apply-patch, whole). The simulated model spoils its
// replies at realistic rates (sim:typical: stale line numbers, drifted whitespace, a wrong first
// attempt, a change that breaks the build, a malformed reply), the same way for the same seed.
// Prints, per configuration: resolved %, apply failures %, mean repair rounds, tokens, the median
// wall time of a task and the configuration's total.
//
// Build first: npm run build ; then: node bench/generate.mjs
// BENCH_GENERATE_MODEL (default sim:typical), BENCH_GENERATE_SEED (default 1),
// BENCH_GENERATE_CONFIGS (default all: c1,c3,c5,udiff,apply-patch,whole; c1 is also search-replace),
// BENCH_GENERATE_TASKS=all (three tasks instead of one per toolchain).
// BENCH_KEEP=1 keeps the temp dirs. Needs cargo, node and bubblewrap.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ownChild, stopping, tempDir } from './lib/temp.mjs';
import { headline } from './lib/summary.mjs';
import { root } from './lib/pipeline.mjs';

const MODEL = process.env.BENCH_GENERATE_MODEL ?? 'sim:typical';
const SEED = process.env.BENCH_GENERATE_SEED ?? '1';
/** name → the config it runs with; `c1` asks for the model's own format (search-replace for a sim model). */
const CONFIGS = {
  c1: { label: 'candidates = 1 (search-replace)', generate: { candidates: 1 } },
  c3: { label: 'candidates = 3', generate: { candidates: 3 } },
  c5: { label: 'candidates = 5', generate: { candidates: 5 } },
  udiff: { label: 'udiff', generate: { candidates: 1 }, format: 'udiff' },
  'apply-patch': { label: 'apply-patch', generate: { candidates: 1 }, format: 'apply-patch' },
  whole: { label: 'whole', generate: { candidates: 1 }, format: 'whole' },
};
const chosen = (process.env.BENCH_GENERATE_CONFIGS ?? Object.keys(CONFIGS).join(',')).split(',').map((c) => c.trim());
for (const name of chosen) {
  if (!CONFIGS[name]) {
    console.error(`bench/generate.mjs: unknown configuration ${JSON.stringify(name)} (known: ${Object.keys(CONFIGS).join(', ')})`);
    process.exit(2);
  }
}
if (!existsSync(path.join(root, 'dist/cli/index.js'))) {
  console.error('dist/cli/index.js is missing: run `npm run build` first');
  process.exit(2);
}

const work = tempDir('autodev-bench-generate-');
const cache = path.join(work, 'cache');
mkdirSync(cache, { recursive: true });

function run(argv, env) {
  return new Promise((resolve) => {
    const child = ownChild(spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// The tasks: the example set's repositories and tasks.jsonl (gold patches the simulated model spoils).
const made = await run([path.join(root, 'examples/eval/make-tasks.mjs'), path.join(work, 'tasks')], process.env);
if (made.code !== 0) {
  console.error(`could not make the example tasks: ${made.stderr}`);
  process.exit(1);
}
// By default one task per toolchain (calc-add: Rust, summer-first: Node), to stay within a few
// minutes on 2 cores; BENCH_GENERATE_TASKS=all adds calc-saturate (a second Rust task).
const allTasks = made.stdout.trim();
const tasksFile = path.join(work, 'tasks', 'bench-tasks.jsonl');
const wanted = process.env.BENCH_GENERATE_TASKS === 'all' ? null : new Set(['calc-add', 'summer-first']);
const taskLines = readFileSync(allTasks, 'utf8')
  .split('\n')
  .filter((line) => line && (!wanted || wanted.has(JSON.parse(line).id)));
writeFileSync(tasksFile, `${taskLines.join('\n')}\n`);

const home = process.env.HOME ?? '/root';
const baseEnv = {
  PATH: [path.join(process.env.CARGO_HOME ?? path.join(home, '.cargo'), 'bin'), process.env.PATH].join(':'),
  HOME: home,
  LANG: 'C.UTF-8',
  NO_COLOR: '1',
  CI: 'true',
  // One cache for every configuration (as a machine running autodev has): the base's results and the
  // dependency and build caches are shared, so configurations differ by what they generate and verify.
  XDG_CACHE_HOME: cache,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  AUTODEV_SANDBOX: 'bwrap',
};
for (const name of ['RUSTUP_HOME', 'CARGO_HOME', 'RUSTUP_TOOLCHAIN']) if (process.env[name]) baseEnv[name] = process.env[name];

function toml(config) {
  const lines = [];
  if (config.format) lines.push('[autodev.llm]', `edit_format = "${config.format}"`, '');
  lines.push('[autodev.generate]', `candidates = ${config.generate.candidates}`, '');
  return lines.join('\n');
}

console.log(`bench/generate: ${MODEL} (seed ${SEED}) on ${tasksFile}; configurations: ${chosen.join(', ')}`);
// Warm-up, not reported: the first run of each toolchain fills the shared caches (the base's results,
// the cargo target dir), which every configuration then finds alike.
const rows = [];
for (const name of ['warm-up', ...chosen]) {
  if (stopping()) break;
  const config = name === 'warm-up' ? CONFIGS.c1 : CONFIGS[name];
  const dir = path.join(work, name);
  for (const sub of ['tmp', 'state', 'config']) mkdirSync(path.join(dir, sub), { recursive: true });
  const configFile = path.join(dir, 'autodev.config.toml');
  writeFileSync(configFile, toml(config));
  const env = {
    ...baseEnv,
    TMPDIR: path.join(dir, 'tmp'),
    XDG_STATE_HOME: path.join(dir, 'state'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  const started = performance.now();
  const argv = [path.join(root, 'bin/autodev.js'), 'eval', tasksFile, '--models', MODEL, '--seed', SEED, '--config', configFile];
  const result = await run([...argv, '--out', path.join(dir, 'out'), '--json'], env);
  const wallMs = performance.now() - started;
  if (result.code !== 0 && result.code !== 1) {
    console.error(`${name}: autodev eval exited ${result.code}\n${result.stderr.slice(-2000)}`);
    process.exitCode = 1;
    continue;
  }
  let figures;
  try {
    figures = JSON.parse(result.stdout).models[0];
  } catch {
    console.error(`${name}: no figures on stdout\n${result.stderr.slice(-2000)}`);
    process.exitCode = 1;
    continue;
  }
  if (name === 'warm-up') {
    console.log(`warm-up (caches filled, not reported): ${(wallMs / 1000).toFixed(1)} s`);
    continue;
  }
  rows.push({ name, label: config.label, figures, wallMs });
  console.log(`${config.label}: resolved ${figures.resolvedPct.toFixed(0)}% of ${figures.tasks}, ${(wallMs / 1000).toFixed(1)} s`);
}

const table = [['configuration', 'resolved', 'apply failures', 'mean rounds', 'tokens', 'task wall (median)', 'total wall']];
for (const { label, figures: f, wallMs } of rows) {
  table.push([
    label,
    `${f.resolvedPct.toFixed(0)}% (${f.resolved}/${f.tasks})`,
    `${f.applyFailurePct.toFixed(0)}%`,
    f.meanRounds.toFixed(2),
    String(f.promptTokens + f.completionTokens),
    `${(f.wallMsMedian / 1000).toFixed(1)} s`,
    `${(wallMs / 1000).toFixed(1)} s`,
  ]);
}
const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
console.log(`\n======== generate: ${MODEL}, side by side ========`);
for (const [i, r] of table.entries()) {
  console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}

const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
if (byName.c1 && byName.c3) {
  headline({
    figure: 'resolved, 3 candidates vs 1',
    autodev: byName.c3.figures.resolvedPct,
    alternative: byName.c1.figures.resolvedPct,
    against: 'candidates = 1',
    unit: '%',
    better: 'higher',
  });
  headline({
    figure: 'wall time, 3 candidates vs 1',
    autodev: byName.c3.wallMs / 1000,
    alternative: byName.c1.wallMs / 1000,
    against: 'candidates = 1',
    unit: 's',
  });
}
if (byName.c1 && byName.udiff) {
  headline({
    figure: 'resolved, search-replace vs udiff',
    autodev: byName.c1.figures.resolvedPct,
    alternative: byName.udiff.figures.resolvedPct,
    against: 'udiff',
    unit: '%',
    better: 'higher',
  });
}
