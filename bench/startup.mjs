// Start-up cost of the CLI: `node bin/autodev.js --help` against a bare `node -e 0`, run alternately
// so both see the same machine load. Prints both medians and their ratio; the target is ≤ 1.5.
// Usage: npm run build && node bench/startup.mjs [runs]   (or BENCH_STARTUP_RUNS=<n>; default 15)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { headline, times } from './lib/summary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'autodev.js');
const runs = Number(process.argv[2] ?? process.env.BENCH_STARTUP_RUNS ?? 15);
const TARGET = 1.5;

if (!existsSync(path.join(root, 'dist', 'cli', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

function time(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// One untimed run of each warms the file system cache.
time(['-e', '0']);
time([bin, '--help']);

const bare = [];
const help = [];
for (let i = 0; i < runs; i++) {
  bare.push(time(['-e', '0']));
  help.push(time([bin, '--help']));
}

const bareMs = median(bare);
const helpMs = median(help);
const ratio = helpMs / bareMs;
console.log(`node -e 0:                 median ${bareMs.toFixed(1)} ms over ${runs} runs`);
console.log(`node bin/autodev.js --help: median ${helpMs.toFixed(1)} ms over ${runs} runs`);
console.log(`ratio: ${times(ratio)} (target ≤ ${TARGET}): ${ratio <= TARGET ? 'within target' : 'ABOVE target'}`);
headline({ figure: 'autodev --help start-up', autodev: helpMs, alternative: bareMs, against: 'node -e 0', unit: 'ms', goal: TARGET });
