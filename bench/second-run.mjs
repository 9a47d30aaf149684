#!/usr/bin/env node
// How much a second task on the same repository gains from the caches the first one left: the
// repository's mirror (git.clone_cache), the cargo registry/git cache, the per-repository target dir
// and the baseline results under $XDG_CACHE_HOME/autodev.
// A fixture crate depends (over git) on a generated crate that takes a while to compile; both are
// served over smart HTTP from local bare repositories on 127.0.0.1, as a forge serves them. The full
// pipeline (`autodev run`, local OpenAI and GitHub servers, bubblewrap) runs twice on it with two task
// titles, fresh workspaces and the same cache dir.
// Prints both wall times, the ratio second/first (goal ≤ 0.3) and where each run spent its time.
//
// Build first: npm run build && npm run build:support ; then: node bench/second-run.mjs
// BENCH_STRUCTS=<n> sizes the dependency (default 300 generated types); BENCH_CLONE_CACHE=off runs both
// tasks with git.clone_cache = false (each clones from the remote); BENCH_KEEP=1 keeps the temp dirs
// (removed otherwise on every exit path, Ctrl-C and kill included: lib/temp.mjs).

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ownChild, stopping, tempDir } from './lib/temp.mjs';
import { headline, times } from './lib/summary.mjs';
import { autodevEnv, gitWith, loadSupport, root, writeTree } from './lib/pipeline.mjs';

const { startOpenAiServer, startGitHubServer, startGitHttpServer, calc } = await loadSupport();
const { reply } = calc;

const STRUCTS = Number(process.env.BENCH_STRUCTS ?? 300);
const GOAL = 0.3;
const CLONE_CACHE_OFF = process.env.BENCH_CLONE_CACHE === 'off';
const { git } = gitWith();

function commitTree(dir, files, message) {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeTree(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
}

/** A dependency that is slow to compile: generated generic types with derives and trait impls. */
function heavySource(count) {
  let s = '//! Generated code that takes a while to compile.\nuse std::collections::BTreeMap;\n\n';
  s += 'pub trait Shape {\n    fn area(&self) -> f64;\n    fn name(&self) -> String;\n}\n\n';
  for (let i = 0; i < count; i++) {
    s += `#[derive(Debug, Clone, PartialEq, PartialOrd, Default)]\npub struct S${i}<T: Clone + Default> {\n    pub a: T,\n    pub b: Vec<T>,\n    pub c: BTreeMap<String, f64>,\n    pub d: Option<Box<S${i}Inner>>,\n}\n\n`;
    s += `#[derive(Debug, Clone, PartialEq, PartialOrd, Default)]\npub struct S${i}Inner {\n    pub x: f64,\n    pub y: String,\n}\n\n`;
    s += `impl<T: Clone + Default + std::fmt::Debug> Shape for S${i}<T> {\n    fn area(&self) -> f64 {\n        self.c.values().sum::<f64>() * ${i}.0 + self.b.len() as f64\n    }\n    fn name(&self) -> String {\n        format!("S${i}{:?}{:?}", self.a, self.d)\n    }\n}\n\n`;
    s += `pub fn make${i}(n: usize) -> S${i}<u64> {\n    let mut c = BTreeMap::new();\n    for k in 0..n {\n        c.insert(format!("k{k}"), k as f64);\n    }\n    S${i} { a: n as u64, b: (0..n as u64).collect(), c, d: Some(Box::new(S${i}Inner { x: 1.0, y: "y".into() })) }\n}\n\n`;
  }
  s += 'pub fn total() -> f64 {\n    let mut t = 0.0;\n';
  for (let i = 0; i < count; i++) s += `    t += make${i}(3).area();\n`;
  return `${s}    t\n}\n`;
}

const APP_BUGGY = `//! Uses the heavy dependency.

/// The first shape's name, upper-cased.
pub fn loud_name() -> String {
    use heavy::Shape;
    heavy::make0(1).name().to_lowercase()
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_loud() {
        assert_eq!(super::loud_name(), super::loud_name().to_uppercase());
    }
}
`;
const APP_FIXED = APP_BUGGY.replace('.name().to_lowercase()', '.name().to_uppercase()');

function runAutodev(args, env, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = ownChild(
      spawn(process.execPath, [path.join(root, 'bin/autodev.js'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
    child.on('error', reject);
    // Stopped by Ctrl-C or kill: no figures from a run that did not finish (lib/temp.mjs exits).
    child.on('close', (code) => {
      if (!stopping()) resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Step durations from the `--json` result, keyed `build/baseline`, `test/change`, `clone`, ... */
function stepTimes(json) {
  const out = new Map();
  for (const st of json?.steps ?? []) {
    const key = ['build', 'test', 'lint'].includes(st.id) ? `${st.id}/${st.mode}` : st.id;
    out.set(key, (out.get(key) ?? 0) + st.durationMs);
  }
  return out;
}

const tmp = tempDir('autodev-bench-second-');
// The sandbox shows no host path outside the workspace, so the dependency comes over the network the
// deps step has, from a git server on 127.0.0.1, as a real one comes from a forge.
const depRoot = tempDir('autodev-bench-dep-');
const servers = [];
let exitCode = 0;
try {
  const depWork = path.join(depRoot, 'work');
  commitTree(
    depWork,
    { 'Cargo.toml': '[package]\nname = "heavy"\nversion = "0.1.0"\nedition = "2021"\n', 'src/lib.rs': heavySource(STRUCTS) },
    'heavy',
  );
  const depBare = path.join(depRoot, 'heavy.git');
  git(depRoot, 'clone', '-q', '--bare', depWork, depBare);
  const depServer = await startGitHttpServer(depRoot);
  servers.push(depServer);

  const appFiles = {
    'Cargo.toml': `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nheavy = { git = "${depServer.url}/heavy.git" }\n`,
    '.gitignore': '/target\n',
    'src/lib.rs': APP_BUGGY,
  };
  const appWork = path.join(tmp, 'app');
  commitTree(appWork, appFiles, 'app');
  // Served beside the dependency: the repository comes over the network as a forge's would.
  const appBare = path.join(depRoot, 'app.git');
  git(tmp, 'clone', '-q', '--bare', appWork, appBare);
  const appUrl = `${depServer.url}/app.git`;
  writeFileSync(path.join(appWork, 'src/lib.rs'), APP_FIXED);
  const patch = `${git(appWork, 'diff', '--no-color')}`;
  const answer = reply('Make loud_name loud', patch, 'It lower-cased instead of upper-casing.');

  const cache = path.join(tmp, 'cache');
  mkdirSync(cache);
  const llm = await startOpenAiServer({ onRequest: () => ({ content: answer }), apiKey: 'bench-openai-key' });
  const github = await startGitHubServer({ token: 'bench-github-token' });
  servers.push(llm, github);

  const walls = [];
  const steps = [];
  for (const [index, title] of ['Make loud_name loud', 'Upper-case the loud name'].entries()) {
    const runDir = path.join(tmp, `run-${index + 1}`);
    const env = autodevEnv({ runDir, cache, llm, github, repo: 'acme/app' });
    if (CLONE_CACHE_OFF) env.AUTODEV_GIT_CLONE_CACHE = 'false';
    const args = [
      'run',
      '--json',
      '--repo',
      appUrl,
      '--title',
      title,
      '--description',
      'loud_name() must return the upper-cased name; the test is_loud fails.',
    ];
    const result = await runAutodev(args, env, runDir);
    let json = null;
    try {
      json = JSON.parse(result.stdout);
    } catch {
      json = null;
    }
    const status = json?.status ?? 'no JSON';
    console.log(`run ${index + 1} ("${title}"): ${(result.ms / 1000).toFixed(1)}s, exit ${result.code}, ${status}`);
    // What each cache gave, in the steps' own words (a mirror fetched, a baseline reused).
    for (const id of ['clone', 'build', 'test', 'lint']) {
      const st = json?.steps?.find((s) => s.id === id);
      if (st) console.log(`  ${id === 'clone' ? id : `${id}/${st.mode}`}: ${st.summary}`);
    }
    const test = json?.steps?.filter((st) => st.id === 'test').at(-1);
    if (test) console.log(`  test/change: ${test.summary}`);
    if (result.code !== 0) {
      console.error(result.stderr.split('\n').slice(-30).join('\n'));
      exitCode = 1;
    }
    walls.push(result.ms);
    steps.push(stepTimes(json));
  }
  // Where the second run gained (or did not), step by step.
  const keys = [...new Set([...steps[0].keys(), ...steps[1].keys()])];
  const sec = (ms) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)}s`);
  const rows = [
    ['step', 'first', 'second', 'second/first'],
    ...keys.map((k) => [
      k,
      sec(steps[0].get(k)),
      sec(steps[1].get(k)),
      steps[0].has(k) && steps[1].has(k) ? times(steps[1].get(k) / steps[0].get(k)) : '',
    ]),
  ];
  rows.push(['wall', sec(walls[0]), sec(walls[1]), times(walls[1] / walls[0])]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(`  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ')}`);
  const ratio = walls[1] / walls[0];
  console.log(
    `clone cache: ${CLONE_CACHE_OFF ? 'off' : 'on'}; dependency: ${STRUCTS} generated types; first ${(walls[0] / 1000).toFixed(1)}s, second ${(walls[1] / 1000).toFixed(1)}s`,
  );
  console.log(`ratio second/first: ${times(ratio)} (goal ≤ ${GOAL}: ${ratio <= GOAL ? 'met' : 'NOT met'})`);
  headline({
    figure: 'second task on the same repository',
    autodev: walls[1] / 1000,
    alternative: walls[0] / 1000,
    against: 'first task',
    unit: 's',
    goal: GOAL,
  });
} finally {
  await Promise.all(servers.map((s) => s.close()));
}
process.exitCode = exitCode;
