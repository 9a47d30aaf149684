#!/usr/bin/env node
// `npm run demo`: the whole pipeline, offline. Starts an OpenAI-compatible server and a GitHub-API
// server on 127.0.0.1 with scripted replies, makes a Rust crate with a bug (and a bare repository as
// its remote), then runs the real `autodev run` against them. The first scripted patch does not
// compile, so the repair loop shows; the run ends with a pull request on the local server.
//
// Everything it writes (the task record, audit trail, metrics, caches) goes to a temporary directory that
// is removed afterwards, never to your own XDG state, cache or config directories; `npm run demo -- --keep`
// keeps it to look at.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOpenAiServer } from '../build/support/openai-server.js';
import { startGitHubServer } from '../build/support/github-server.js';
import { CALC_FILES, CALC_TASK, BROKEN_REPLY, FIXED_REPLY } from '../build/support/calc-crate.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const keep = process.argv.includes('--keep');
const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-demo-'));
const xdg = { state: path.join(dir, 'state'), cache: path.join(dir, 'cache'), config: path.join(dir, 'config') };
for (const d of Object.values(xdg)) mkdirSync(d);
const say = (text) => process.stderr.write(`\n[demo] ${text}\n`);
// Ctrl-C reaches autodev too (same process group): it cancels and exits, then this script cleans up.
process.on('SIGINT', () => undefined);

function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Demo',
      GIT_AUTHOR_EMAIL: 'demo@example.com',
      GIT_COMMITTER_NAME: 'Demo',
      GIT_COMMITTER_EMAIL: 'demo@example.com',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

const work = path.join(dir, 'calc');
const remote = path.join(dir, 'calc.git');
for (const [file, text] of Object.entries(CALC_FILES)) {
  mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
  writeFileSync(path.join(work, file), text);
}
git(dir, 'init', '-q', '-b', 'main', work);
git(work, 'add', '-A');
git(work, 'commit', '-q', '-m', 'calc: add and mul');
git(dir, 'clone', '-q', '--bare', work, remote);
say(`made a Rust crate with a bug in ${work}; its remote (standing in for GitHub's git) is ${remote}`);

const llm = await startOpenAiServer({ replies: [{ content: BROKEN_REPLY }, { content: FIXED_REPLY }], apiKey: 'demo-openai-key' });
const github = await startGitHubServer({ token: 'demo-github-token' });
say(`OpenAI-compatible server at ${llm.baseUrl}; GitHub API at ${github.url}`);

// Your own AUTODEV_* settings and config file would change what the demo shows; neither reaches it.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AUTODEV_')));
const env = {
  ...inherited,
  XDG_STATE_HOME: xdg.state,
  XDG_CACHE_HOME: xdg.cache,
  XDG_CONFIG_HOME: xdg.config,
  OPENAI_API_KEY: 'demo-openai-key',
  GITHUB_TOKEN: 'demo-github-token',
  AUTODEV_LLM_API_URL: llm.baseUrl,
  AUTODEV_LLM_MODEL: 'demo-model',
  AUTODEV_GIT_GITHUB_API_URL: github.url,
  AUTODEV_GIT_GITHUB_REPO: 'acme/calc',
};
const args = [
  path.join(root, 'bin/autodev.js'),
  'run',
  '--repo',
  remote,
  '--title',
  CALC_TASK.title,
  '--description',
  CALC_TASK.description,
];
say(`running: autodev run --repo ${remote} --title "${CALC_TASK.title}"`);
const child = spawn(process.execPath, args, { cwd: dir, env, stdio: 'inherit' });
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 130 : 1))));
const pulls = github.pulls('acme', 'calc');
if (pulls.length) {
  const pull = pulls[0];
  say(
    `the local GitHub server holds pull request #${pull.number} "${pull.title}" (branch ${pull.head}, labels ${pull.labels.join(', ')}): ${github.url}/acme/calc/pull/${pull.number}`,
  );
  say(`branches on the remote: ${git(remote, 'branch', '--format=%(refname:short)').trim().split('\n').join(', ')}`);
}
await llm.close();
await github.close();
const stateDir = path.join(xdg.state, 'autodev');
if (keep) {
  say(
    `kept in ${dir}: the task record, audit trail (${path.join(stateDir, 'audit')}/) and metrics (${path.join(stateDir, 'metrics.prom')})`,
  );
  say(`the demo's task history: XDG_STATE_HOME=${xdg.state} npx autodev tasks list`);
} else {
  rmSync(dir, { recursive: true, force: true });
  say('the task record, audit trail and metrics went to a temporary directory, now removed (npm run demo -- --keep keeps it)');
}
process.exitCode = code;
