// Start-up cost of the CLI against a bare `node -e 0`, run alternately so every side sees the same
// machine load: `--help` (the entry alone; target ≤ 1.5×) and `config --json` (every command's
// config load: zod's schema, cosmiconfig's search). Each is run twice: through bin/autodev.js, which
// loads the esbuild bundle (dist/bundle, scripts/bundle.js), and through the per-file tsc output
// (dist/cli), so the bundle's gain is measured, not assumed. Wall medians and CPU medians (user +
// system from /proc of the child, the steadier figure on a shared machine).
// Usage: npm run build && node bench/startup.mjs [runs]   (or BENCH_STARTUP_RUNS=<n>; default 15)
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { headline, times } from './lib/summary.mjs';
import { tempDir } from './lib/temp.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'autodev.js');
const runs = Number(process.argv[2] ?? process.env.BENCH_STARTUP_RUNS ?? 15);
const TARGET = 1.5;

for (const file of ['dist/cli/index.js', 'dist/bundle/index.js']) {
  if (!existsSync(path.join(root, file))) {
    console.error(`${file} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
}

// The per-file build behind the same entry code as bin/autodev.js.
const home = tempDir('autodev-bench-startup-');
const perFile = path.join(home, 'per-file-cli.mjs');
writeFileSync(
  perFile,
  `import { main } from ${JSON.stringify(pathToFileURL(path.join(root, 'dist/cli/index.js')).href)};\nprocess.exitCode = await main(process.argv);\n`,
);
// No user config, state or cache: what a first command on a machine costs.
const env = {
  PATH: process.env.PATH,
  HOME: home,
  LANG: 'C.UTF-8',
  NO_COLOR: '1',
  XDG_CONFIG_HOME: path.join(home, 'config'),
  XDG_CACHE_HOME: path.join(home, 'cache'),
  XDG_STATE_HOME: path.join(home, 'state'),
};

/** Wall ms and CPU ms (user + system, from GNU time when installed) of one node command. */
function time(args) {
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const [command, argv] = timeBin ? [timeBin, ['-f', '%U %S', process.execPath, ...args]] : [process.execPath, args];
  const started = process.hrtime.bigint();
  const result = spawnSync(command, argv, { cwd: home, stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const [user, sys] = timeBin ? result.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN];
  return { ms, cpuMs: (user + sys) * 1000 };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const SIDES = {
  'node -e 0': ['-e', '0'],
  'autodev --help': [bin, '--help'],
  'per-file --help': [perFile, '--help'],
  'autodev config --json': [bin, 'config', '--json'],
  'per-file config --json': [perFile, 'config', '--json'],
};
const samples = Object.fromEntries(Object.keys(SIDES).map((name) => [name, []]));
// One untimed run of each warms the file system cache.
for (const args of Object.values(SIDES)) time(args);
for (let i = 0; i < runs; i++) for (const [name, args] of Object.entries(SIDES)) samples[name].push(time(args));

const figures = Object.fromEntries(
  Object.entries(samples).map(([name, list]) => [name, { ms: median(list.map((s) => s.ms)), cpuMs: median(list.map((s) => s.cpuMs)) }]),
);
const bare = figures['node -e 0'];
console.log(`medians over ${runs} runs each, alternating (ratio against node -e 0; CPU = user + system):`);
for (const [name, f] of Object.entries(figures)) {
  const cpu = Number.isFinite(f.cpuMs) ? `, CPU ${f.cpuMs.toFixed(0).padStart(4)} ms ${times(f.cpuMs / bare.cpuMs)}` : '';
  console.log(`  ${name.padEnd(24)} wall ${f.ms.toFixed(0).padStart(5)} ms ${times(f.ms / bare.ms)}${cpu}`);
}
const help = figures['autodev --help'];
const ratio = help.ms / bare.ms;
console.log(`--help: ${times(ratio)} node -e 0 (target ≤ ${TARGET}×: ${ratio <= TARGET ? 'met' : 'NOT met'})`);
for (const what of ['--help', 'config --json']) {
  const a = figures[`autodev ${what}`];
  const b = figures[`per-file ${what}`];
  const cpu = Number.isFinite(a.cpuMs) ? `, CPU ${times(a.cpuMs / b.cpuMs)}` : '';
  console.log(`bundle/per-file, ${what}: wall ${times(a.ms / b.ms)}${cpu}`);
}
headline({ figure: 'autodev --help start-up', autodev: help.ms, alternative: bare.ms, against: 'node -e 0', unit: 'ms', goal: TARGET });
headline({
  figure: 'autodev config --json start-up',
  autodev: figures['autodev config --json'].ms,
  alternative: bare.ms,
  against: 'node -e 0',
  unit: 'ms',
});
headline({
  figure: 'config --json, bundle vs per-file dist/cli',
  autodev: figures['autodev config --json'].ms,
  alternative: figures['per-file config --json'].ms,
  against: 'per-file',
  unit: 'ms',
});
