#!/usr/bin/env node
// Runs every bench one after the other (each prints its own report as it goes), then a table of the
// headline figures: autodev beside the alternative, as ratios. Sized to finish within 15 minutes on a
// 2-core machine: case counts are scaled down unless set (BENCH_FULL=1 uses each bench's own
// defaults, and any of the variables below can be set to scale one up).
//
//   npm run bench                         (builds dist/ and build/support first)
//   node bench/run.mjs [name ...]         (only these: startup context patch second-run e2e generate queue)
//
// Scaled-down defaults: BENCH_STARTUP_RUNS=9, BENCH_CONTEXT_RUNS=3, BENCH_PATCH_CASES=25 commits per
// repository (the patch bench alone: 60), BENCH_STRUCTS=300, BENCH_E2E_RUNS=1, BENCH_QUEUE_TASKS=4.
// BENCH_TIMEOUT_SECS (default 600) stops a bench that runs longer; it still cleans up after itself.
// Prints, doesn't assert: the exit code is non-zero only when a bench failed to run to its end.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ownChild, stopping, tempDir } from './lib/temp.mjs';
import { times } from './lib/summary.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = ['startup', 'context', 'patch', 'second-run', 'e2e', 'generate', 'queue'];
const SCALED = {
  BENCH_STARTUP_RUNS: '9',
  BENCH_CONTEXT_RUNS: '3',
  BENCH_PATCH_CASES: '25',
  BENCH_STRUCTS: '300',
  BENCH_E2E_RUNS: '1',
  BENCH_QUEUE_TASKS: '4',
};
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECS ?? 600) * 1000;

const chosen = process.argv.slice(2);
for (const name of chosen) {
  if (!BENCHES.includes(name)) {
    console.error(`bench/run.mjs: unknown bench ${JSON.stringify(name)} (known: ${BENCHES.join(', ')})`);
    process.exit(2);
  }
}
for (const file of ['dist/cli/index.js', 'build/support/openai-server.js']) {
  if (!existsSync(path.join(here, '..', file))) {
    console.error(`${file} is missing: run \`npm run build && npm run build:support\` first (npm run bench does)`);
    process.exit(2);
  }
}

const scaled = {};
if (!process.env.BENCH_FULL) for (const [name, value] of Object.entries(SCALED)) if (process.env[name] === undefined) scaled[name] = value;
const summaries = tempDir('autodev-bench-run-');

function runBench(name) {
  return new Promise((resolve) => {
    const summaryFile = path.join(summaries, `${name}.json`);
    const started = performance.now();
    // stdout and stderr pass straight through: each bench's report appears as it is made.
    const child = ownChild(
      spawn(process.execPath, [path.join(here, `${name}.mjs`)], {
        env: { ...process.env, ...scaled, BENCH_SUMMARY_FILE: summaryFile },
        stdio: ['ignore', 'inherit', 'inherit'],
      }),
    );
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Interrupted: the bench cleaned up and lib/temp.mjs ends this process; no table.
      if (stopping()) return;
      let rows = [];
      try {
        rows = JSON.parse(readFileSync(summaryFile, 'utf8'));
      } catch {
        rows = [];
      }
      resolve({ name, code, signal, timedOut, ms: performance.now() - started, rows });
    });
  });
}

function fmt(value, unit) {
  if (typeof value !== 'number') return String(value ?? '-');
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit && !unit.startsWith('of ') ? ` ${unit}` : ''}`;
}

const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;
const names = chosen.length > 0 ? BENCHES.filter((b) => chosen.includes(b)) : BENCHES;
const scaledNote = Object.entries(scaled)
  .map(([k, v]) => `${k}=${v}`)
  .join(' ');
console.log(`bench/run: ${names.join(', ')}${scaledNote ? ` (scaled down: ${scaledNote}; BENCH_FULL=1 for each bench's defaults)` : ''}`);

const started = performance.now();
const results = [];
for (const name of names) {
  console.log(`\n======== ${name} ========`);
  const result = await runBench(name);
  results.push(result);
  const end = result.timedOut
    ? `stopped after ${sec(result.ms)} (BENCH_TIMEOUT_SECS)`
    : result.code === 0
      ? `done in ${sec(result.ms)}`
      : `FAILED (exit ${result.code ?? result.signal}) after ${sec(result.ms)}`;
  console.log(`-------- ${name}: ${end}`);
  for (const r of result.rows)
    console.log(
      `  headline: ${r.figure}: autodev ${fmt(r.autodev, r.unit)}, ${r.against} ${fmt(r.alternative, r.unit)}${r.unit.startsWith('of ') ? ` (${r.unit})` : ''} → ${times(r.ratio)}`,
    );
}
const totalMs = performance.now() - started;

// The final table: one row per headline figure.
const rows = [['bench', 'figure', 'autodev', 'alternative', 'ratio', 'better', 'goal']];
for (const result of results) {
  if (result.rows.length === 0)
    rows.push([
      result.name,
      result.timedOut ? '(timed out)' : result.code === 0 ? '(no figures)' : `(failed, exit ${result.code ?? result.signal})`,
      '',
      '',
      '',
      '',
      '',
    ]);
  for (const r of result.rows) {
    rows.push([
      result.name,
      `${r.figure}${r.unit.startsWith('of ') ? ` (${r.unit})` : ''}`,
      fmt(r.autodev, r.unit),
      `${fmt(r.alternative, r.unit)} (${r.against})`,
      times(r.ratio),
      r.better,
      r.goal === null ? '' : `≤ ${r.goal}×: ${r.ratio !== null && r.ratio <= r.goal ? 'met' : 'NOT met'}`,
    ]);
  }
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`\n======== summary (ratio = autodev / alternative) ========`);
for (const [i, r] of rows.entries()) {
  console.log(
    r
      .map((cell, c) => (c >= 2 && c <= 4 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd(),
  );
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
console.log(`\nbench times: ${results.map((r) => `${r.name} ${sec(r.ms)}`).join(', ')}; total ${sec(totalMs)}`);
process.exitCode = results.every((r) => r.code === 0 && !r.timedOut) ? 0 : 1;
