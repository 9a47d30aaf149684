#!/usr/bin/env node
// The whole pipeline against the commands it runs: `autodev run --no-pr` (built CLI, bubblewrap,
// local OpenAI-compatible and GitHub servers, a scripted model reply) beside a bare shell script that
// runs the same git and cargo commands on the same crate: clone, the baseline build/test/lint, apply
// the same patch with `git apply`, build/test/lint again, commit, push to a local bare repository.
// Prints both wall times, the ratio autodev/script, and the per-step breakdown side by side (autodev's
// from its `--json` steps, the script's from markers it prints between commands). Prints, doesn't assert.
//
// Build first: npm run build && npm run build:support ; then: node bench/e2e.mjs
// BENCH_E2E_RUNS=<n> runs each side n times, alternating (default 1; medians are printed);
// BENCH_E2E_TOOLCHAINS=rust,... picks toolchains (default all); BENCH_KEEP=1 keeps the temp dirs.
// Each run of each side gets a repository path never seen before, so every build starts cold (the
// script: a fresh CARGO_TARGET_DIR; autodev: its per-repository target dir and baseline cache are
// new), while autodev keeps the machine-level cache a previous run leaves (one `--plan-only` run
// first), as on a machine where autodev has been used before.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ownChild, stopping, tempDir } from './lib/temp.mjs';
import { headline, times } from './lib/summary.mjs';
import { autodevEnv, gitWith, loadSupport, root, writeTree } from './lib/pipeline.mjs';

const { startOpenAiServer, startGitHubServer, calc } = await loadSupport();

const RUNS = Math.max(1, Number(process.env.BENCH_E2E_RUNS ?? 1));
const HOME = process.env.HOME ?? '/root';
const PATH = [path.join(process.env.CARGO_HOME ?? path.join(HOME, '.cargo'), 'bin'), process.env.PATH].join(':');

/** The patch inside a scripted model reply (the fenced diff block). */
function patchOf(reply) {
  const m = /```diff\n([\s\S]*?)```/.exec(reply);
  if (!m) throw new Error('no diff block in the scripted reply');
  return m[1];
}

// One entry per toolchain autodev supports; a toolchain added later adds its crate/project here,
// with the commands its bare script runs when autodev's plan does not name them.
const TOOLCHAINS = {
  rust: {
    label: 'Rust (calc crate, no dependencies)',
    files: calc.CALC_FILES,
    task: calc.CALC_TASK,
    reply: calc.FIXED_REPLY,
    commit: 'Fix add to return the sum',
    // autodev's plan commands are used when --plan-only names them; these are the fallback.
    commands: { build: 'cargo build --all-targets', test: 'cargo test', lint: 'cargo clippy --all-targets -- -D warnings' },
  },
};

const { env: gitEnv, git } = gitWith({ PATH });

/**
 * Samples the peak RSS (VmHWM, which only grows) of a process and of every process under it every
 * 100 ms from /proc: the run's own process, and the largest process in its tree (rustc, clippy...).
 */
function watchMemory(pid) {
  const peaks = new Map(); // pid -> { name, kib }
  const sample = () => {
    const stack = [pid];
    while (stack.length > 0) {
      const p = stack.pop();
      try {
        const status = readFileSync(`/proc/${p}/status`, 'utf8');
        const kib = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
        if (kib > (peaks.get(p)?.kib ?? 0)) peaks.set(p, { name: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?', kib });
        for (const task of readdirSync(`/proc/${p}/task`)) {
          stack.push(...readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
        }
      } catch {
        // Gone between two reads, or no /proc: nothing to sample.
      }
    }
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      const largest = [...peaks.values()].sort((a, b) => b.kib - a.kib)[0] ?? { name: '?', kib: NaN };
      return { ownKib: peaks.get(pid)?.kib ?? NaN, largest };
    },
  };
}

/** Runs a command to its end; resolves with its output, exit code, wall time and when stderr first spoke. */
function run(command, args, { cwd, env, group = false }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // The script runs in its own process group, so that stopping the bench stops its cargo too
    // (autodev stops its own processes on SIGTERM).
    const child = ownChild(spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: group }), { group });
    let stdout = '';
    let stderr = '';
    let firstOutputMs = null;
    const memory = watchMemory(child.pid);
    child.stdout.setEncoding('utf8').on('data', (t) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t) => {
      firstOutputMs ??= performance.now() - started;
      stderr += t;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      const { ownKib, largest } = memory.stop();
      if (!stopping()) resolve({ code, stdout, stderr, ms, firstOutputMs, ownKib, largest });
    });
  });
}

/** The build/test/lint commands autodev's plan runs for this project (from `run --plan-only --json`). */
async function planCommands(tc, bare, cache, llm, github, runDir) {
  const env = autodevEnv({ runDir, cache, llm, github, path: PATH });
  const r = await run(
    process.execPath,
    [
      path.join(root, 'bin/autodev.js'),
      'run',
      '--plan-only',
      '--json',
      '--repo',
      bare,
      '--title',
      tc.task.title,
      '--description',
      tc.task.description,
    ],
    { cwd: runDir, env },
  );
  const commands = { ...tc.commands };
  try {
    for (const step of JSON.parse(r.stdout).plan.steps) {
      if (['build', 'test', 'lint'].includes(step.id) && step.command)
        commands[step.id] = Array.isArray(step.command) ? step.command.join(' ') : String(step.command);
    }
    return { commands, from: 'autodev plan' };
  } catch {
    return { commands, from: `fallback (plan-only exited ${r.code})` };
  }
}

/** The bare script: each command once, a marker with a nanosecond clock before each step. */
function scriptText(commands, tc) {
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ['set -eu', 'mark() { echo "@@step $1 $(date +%s%N)" >&2; }', 'mark clone', 'git clone -q "$REPO" ws', 'cd ws'];
  // The baseline's exit codes are facts to record, not reasons to stop (like autodev's baseline).
  for (const id of ['build', 'test', 'lint']) lines.push(`mark baseline-${id}`, `${commands[id]} >/dev/null 2>&1 || true`);
  lines.push('mark apply', 'git apply "$PATCH"');
  for (const id of ['build', 'test', 'lint']) lines.push(`mark change-${id}`, `${commands[id]} >/dev/null 2>&1`);
  lines.push('mark commit', 'git add -A', `git commit -q -m ${q(tc.commit)}`);
  lines.push('mark push', 'git push -q origin HEAD:refs/heads/bench/script');
  lines.push('mark end');
  return `${lines.join('\n')}\n`;
}

function scriptSteps(stderr) {
  const marks = [...stderr.matchAll(/^@@step (\S+) (\d+)$/gm)].map((m) => [m[1], Number(BigInt(m[2]) / 1000n) / 1000]);
  const steps = [];
  for (let i = 0; i + 1 < marks.length; i++) steps.push({ key: marks[i][0], ms: marks[i + 1][1] - marks[i][1] });
  return steps;
}

/** autodev's steps keyed like the script's: baseline-build, change-test, apply, push, ... */
function autodevSteps(json) {
  const out = [];
  for (const st of json?.steps ?? []) {
    const key = ['build', 'test', 'lint'].includes(st.id)
      ? `${st.mode === 'baseline' ? 'baseline' : 'change'}-${st.id}${st.round > 1 ? `-r${st.round}` : ''}`
      : st.id;
    out.push({ key, ms: st.durationMs, status: st.status });
  }
  return out;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const sec = (ms) => (ms === undefined || ms === null ? '-' : `${(ms / 1000).toFixed(2)}s`);

async function benchToolchain(name, tc, llm, github) {
  const tmp = tempDir(`autodev-bench-e2e-${name}-`);
  const work = path.join(tmp, 'work');
  mkdirSync(work);
  git(work, 'init', '-q', '-b', 'main');
  writeTree(work, tc.files);
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'initial');
  // A bare repository the given side has never seen, as a remote.
  const freshOrigin = (name) => {
    const bare = path.join(tmp, `${name}.git`);
    git(tmp, 'clone', '-q', '--bare', work, bare);
    return bare;
  };
  const cache = path.join(tmp, 'cache');
  const patchFile = path.join(tmp, 'change.patch');
  writeFileSync(patchFile, patchOf(tc.reply));

  const planDir = path.join(tmp, 'plan');
  const { commands, from } = await planCommands(tc, freshOrigin('origin-plan'), cache, llm, github, planDir);
  const script = path.join(tmp, 'script.sh');
  writeFileSync(script, scriptText(commands, tc));
  console.log(`\n${tc.label}: commands (${from}): build \`${commands.build}\`, test \`${commands.test}\`, lint \`${commands.lint}\``);

  const autodevRuns = [];
  const scriptRuns = [];
  for (let i = 0; i < RUNS; i++) {
    // autodev: a fresh workspace, state and cargo target dir (XDG_CACHE_HOME) each time.
    const runDir = path.join(tmp, `autodev-${i + 1}`);
    const env = autodevEnv({ runDir, cache, llm, github, path: PATH });
    const args = [
      'run',
      '--no-pr',
      '--json',
      '--repo',
      freshOrigin(`origin-autodev-${i + 1}`),
      '--title',
      tc.task.title,
      '--description',
      tc.task.description,
    ];
    const a = await run(process.execPath, [path.join(root, 'bin/autodev.js'), ...args], { cwd: runDir, env });
    let json = null;
    try {
      json = JSON.parse(a.stdout);
    } catch {
      json = null;
    }
    if (a.code !== 0) {
      console.log(`  autodev run ${i + 1} exited ${a.code} (${json?.status ?? 'no JSON'}: ${json?.reason ?? ''}); its stderr ends:`);
      console.log(
        a.stderr
          .split('\n')
          .slice(-15)
          .map((l) => `    ${l}`)
          .join('\n'),
      );
    }
    autodevRuns.push({
      ms: a.ms,
      firstOutputMs: a.firstOutputMs,
      steps: autodevSteps(json),
      code: a.code,
      status: json?.status ?? 'no JSON',
      ownKib: a.ownKib,
      largest: a.largest,
    });

    // The script: a fresh clone and cargo target dir each time.
    const scriptDir = path.join(tmp, `script-${i + 1}`);
    mkdirSync(scriptDir);
    const s = await run('bash', [script], {
      cwd: scriptDir,
      group: true,
      env: { ...gitEnv, REPO: freshOrigin(`origin-script-${i + 1}`), PATCH: patchFile, CARGO_TARGET_DIR: path.join(scriptDir, 'target') },
    });
    if (s.code !== 0)
      console.log(
        `  script run ${i + 1} exited ${s.code}: ${s.stderr
          .split('\n')
          .filter((l) => !l.startsWith('@@step'))
          .slice(-5)
          .join(' | ')}`,
      );
    scriptRuns.push({ ms: s.ms, steps: scriptSteps(s.stderr), code: s.code, largest: s.largest });
  }

  const aMs = median(autodevRuns.map((r) => r.ms));
  const sMs = median(scriptRuns.map((r) => r.ms));
  const first = median(autodevRuns.map((r) => r.firstOutputMs ?? r.ms));
  const status = autodevRuns.map((r) => `${r.status}/exit ${r.code}`).join(', ');
  console.log(
    `  wall: autodev run --no-pr ${sec(aMs)} (${status}), bare script ${sec(sMs)}; ratio autodev/script ${times(aMs / sMs)} (goal ≤ 1.1×: ${aMs / sMs <= 1.1 ? 'met' : 'NOT met'})`,
  );

  // Per step, side by side (medians over the runs).
  // Rows in pipeline order; autodev's apply step commits too, so the script's commit sits under it.
  const ORDER = [
    'clone',
    'deps',
    'search',
    'baseline-build',
    'baseline-test',
    'baseline-lint',
    'codegen',
    'apply',
    'commit',
    'change-build',
    'change-test',
    'change-lint',
  ];
  const keys = [];
  for (const r of [...autodevRuns, ...scriptRuns]) for (const st of r.steps) if (!keys.includes(st.key)) keys.push(st.key);
  const rank = (k) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length + keys.indexOf(k) / 100 + (k === 'push' || k === 'pr' ? 1 : 0));
  keys.sort((x, y) => rank(x) - rank(y));
  const stepMs = (runs, key) => {
    const values = runs
      .map((r) => r.steps.filter((st) => st.key === key).reduce((sum, st) => sum + st.ms, 0))
      .filter((v, i) => runs[i].steps.some((st) => st.key === key));
    return values.length ? median(values) : undefined;
  };
  const rows = [['step', 'autodev', 'script', 'autodev/script']];
  rows.push(['start → first output', sec(first), '-', '']);
  for (const key of keys) {
    const a = stepMs(autodevRuns, key);
    const s = stepMs(scriptRuns, key);
    rows.push([key, sec(a), sec(s), a !== undefined && s !== undefined ? times(a / s) : '']);
  }
  const aSteps = median(autodevRuns.map((r) => r.steps.reduce((sum, st) => sum + st.ms, 0)));
  const sSteps = median(scriptRuns.map((r) => r.steps.reduce((sum, st) => sum + st.ms, 0)));
  rows.push(['sum of steps', sec(aSteps), sec(sSteps), times(aSteps / sSteps)]);
  // Time the steps do not account for: start-up, planning, the engine between steps (the script's is
  // node spawning bash). Negative would mean steps overlap.
  rows.push(['outside the steps', sec(aMs - aSteps), sec(sMs - sSteps), '']);
  rows.push(['wall', sec(aMs), sec(sMs), times(aMs / sMs)]);
  const cargoKeys = keys.filter((k) => /^(baseline|change)-(build|test|lint)/.test(k));
  const cargoA = cargoKeys.reduce((sum, k) => sum + (stepMs(autodevRuns, k) ?? 0), 0);
  const cargoS = cargoKeys.reduce((sum, k) => sum + (stepMs(scriptRuns, k) ?? 0), 0);
  rows.push(['cargo steps (build/test/lint)', sec(cargoA), sec(cargoS), times(cargoA / cargoS)]);
  rows.push(['everything but cargo', sec(aMs - cargoA), sec(sMs - cargoS), times((aMs - cargoA) / (sMs - cargoS))]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(`  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ')}`);
  if (autodevRuns.some((r) => r.steps.length === 0)) console.log('  (no steps from autodev: its --json did not parse)');
  console.log("  (autodev's clone and planning happen before its first step, in 'outside the steps'; its apply step also commits)");

  headline({ figure: `run --no-pr, ${name}`, autodev: aMs / 1000, alternative: sMs / 1000, against: 'bare script', unit: 's', goal: 1.1 });
  headline({
    figure: `everything but cargo, ${name}`,
    autodev: (aMs - cargoA) / 1000,
    alternative: (sMs - cargoS) / 1000,
    against: 'bare script',
    unit: 's',
  });

  // Peak memory: autodev's own node process beside the largest process either side starts.
  const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
  const own = Math.max(...autodevRuns.map((r) => r.ownKib));
  const aLargest = autodevRuns.map((r) => r.largest).sort((x, y) => y.kib - x.kib)[0];
  const sLargest = scriptRuns.map((r) => r.largest).sort((x, y) => y.kib - x.kib)[0];
  if (Number.isFinite(own)) {
    console.log(
      `  peak RSS: autodev's own process ${mib(own)} (goal ≤ 150 MiB: ${own / 1024 <= 150 ? 'met' : 'NOT met'}), largest in its tree ${aLargest.name} ${mib(aLargest.kib)}; ` +
        `largest in the script's tree ${sLargest.name} ${mib(sLargest.kib)}; autodev's own/script's largest ${times(own / sLargest.kib)}`,
    );
    headline({
      figure: `peak RSS of autodev's own process, ${name}`,
      autodev: own / 1024,
      alternative: sLargest.kib / 1024,
      against: `script's ${sLargest.name}`,
      unit: 'MiB',
    });
  }
}

const selected = (process.env.BENCH_E2E_TOOLCHAINS ?? Object.keys(TOOLCHAINS).join(',')).split(',').filter(Boolean);
for (const name of selected) {
  if (!TOOLCHAINS[name]) {
    console.error(`BENCH_E2E_TOOLCHAINS: unknown toolchain ${JSON.stringify(name)} (known: ${Object.keys(TOOLCHAINS).join(', ')})`);
    process.exit(2);
  }
}
// The model answers with the reply of the toolchain being measured.
let reply = '';
const llm = await startOpenAiServer({ onRequest: () => ({ content: reply }), apiKey: 'bench-openai-key' });
const github = await startGitHubServer({ token: 'bench-github-token' });
try {
  for (const name of selected) {
    reply = TOOLCHAINS[name].reply;
    await benchToolchain(name, TOOLCHAINS[name], llm, github);
  }
} finally {
  await Promise.all([llm.close(), github.close()]);
}
