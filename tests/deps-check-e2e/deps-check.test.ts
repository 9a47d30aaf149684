// deps-check end to end: the built bin against the local OpenAI and GitHub servers, real git
// repositories and real cargo/npm runs in bubblewrap. Each scripted patch changes the dependencies
// in one way and the run must say so: in --json, the PR body, the policy decision, the exit code.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CALC_FILES, CALC_TASK, reply } from '../support/calc-crate.js';
import { makeRepo } from '../support/fixture-repo.js';
import { auditFiles, e2eSuite, git, makeBareRepo, parseJson, runArgs } from '../e2e/harness.js';
import { makeRunDir, runCli, taskEnv } from '../support/cli.js';

type Tree = Record<string, string>;
interface Finding {
  type: string;
  name: string;
  kind: string | null;
  member: string | null;
  from: string | null;
  to: string | null;
  buildScript?: boolean | null;
  procMacro?: boolean | null;
}
interface DepsJson {
  dependencies: { summary: string; findings: Finding[]; warnings: string[] } | null;
}

const RUN_TIMEOUT = 180_000;
const execFileAsync = promisify(execFile);
const { cache, startServers } = e2eSuite();
// The sandbox has a private /tmp: a file:// git dependency must live elsewhere to be read by cargo.
const visible: string[] = [];

afterAll(async () => {
  await Promise.all(visible.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function makePatch(before: Tree, after: Tree): Promise<string> {
  const dir = await makeRepo(before);
  for (const [file, text] of Object.entries(after)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  await git(dir, ['add', '-A']);
  return `${await git(dir, ['diff', '--cached', '--no-color', '--no-renames'])}\n`;
}

async function run(bare: string, content: string, task = CALC_TASK, repo = 'acme/calc') {
  const { llm, github } = await startServers({ replies: [{ content }] });
  const runDir = await makeRunDir();
  const outcome = await runCli(runArgs(bare, task), {
    cwd: runDir.cwd,
    env: taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_GIT_GITHUB_REPO: repo } }),
  });
  const json = parseJson(outcome) as ReturnType<typeof parseJson> & DepsJson;
  const [owner, name] = repo.split('/');
  return { outcome, json, github, pulls: github.pulls(owner, name), runDir };
}

function explain(outcome: { code: number; stderr: string }): string {
  return outcome.code === 0 ? '' : outcome.stderr.split('\n').slice(-25).join('\n');
}

const FIXED_LIB = CALC_FILES['src/lib.rs'].replace('    a - b\n', '    a + b\n');
const HELPER: Tree = {
  'helper/Cargo.toml': '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n',
  'helper/src/lib.rs': '//! Shared helpers.\n\n/// The number one.\npub fn one() -> i32 {\n    1\n}\n',
};
const withDependency = (spec: string): string => CALC_FILES['Cargo.toml'].replace('[dependencies]\n', `[dependencies]\nhelper = ${spec}\n`);

describe('deps-check in a full run', () => {
  it(
    'a patch that adds a path dependency: draft PR labelled needs-review whose body names it (exit 0)',
    async () => {
      const bare = await makeBareRepo();
      const after = { 'Cargo.toml': withDependency('{ path = "helper" }'), 'src/lib.rs': FIXED_LIB, ...HELPER };
      const { outcome, json, pulls, runDir } = await run(bare, reply('Fix add, with a helper crate', await makePatch(CALC_FILES, after)));

      expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: '' });
      expect(json.status).toBe('pr_created');
      const deps = json.steps.find((s) => s.id === 'deps-check' && s.mode === 'change');
      // The base commits no Cargo.lock, so only the manifests are compared: no pinned version.
      expect(deps).toMatchObject({ status: 'ok', summary: '1 added (helper path normal), 0 removed' });
      expect(json.dependencies?.findings).toEqual([
        expect.objectContaining({ type: 'added', name: 'helper', kind: 'normal', member: 'calc', buildScript: false, procMacro: false }),
      ]);
      expect(json.policy).toMatchObject({
        decision: 'review',
        reasons: [{ code: 'new_dependency', message: expect.stringContaining('helper') }],
      });

      expect(pulls).toHaveLength(1);
      expect(pulls[0].draft).toBe(true);
      expect(json.pr?.draft).toBe(true);
      expect(pulls[0].labels).toEqual(expect.arrayContaining(['needs-review']));
      const body = pulls[0].body ?? '';
      expect(body).toMatch(/^\| dependencies \| 👀 1 added \(helper path normal\), 0 removed \|$/m);
      expect(body).toContain('### Dependency changes');
      expect(body).toMatch(/^\| added \| `helper` \| normal \| calc \| {2}\| path helper \|$/m);
      // The audit trail carries the finding through the step's summary.
      const [audit] = await auditFiles(runDir);
      expect(await readFile(audit, 'utf8')).toContain('1 added (helper path normal)');
    },
    RUN_TIMEOUT,
  );

  it(
    'a patch that switches a dependency from its path to a git source is denied: exit 3, dependency_source_changed',
    async () => {
      // The base already depends on helper by path, so it builds offline.
      const base: Tree = { ...CALC_FILES, 'Cargo.toml': withDependency('{ path = "helper" }'), ...HELPER };
      const bare = await makeBareRepo(base);
      const holder = await mkdtemp('/var/tmp/autodev-depcheck-');
      visible.push(holder);
      const helperRepo = path.join(holder, 'helper.git');
      await git(holder, [
        'clone',
        '-q',
        '--bare',
        await makeRepo({ 'Cargo.toml': HELPER['helper/Cargo.toml'], 'src/lib.rs': HELPER['helper/src/lib.rs'] }),
        helperRepo,
      ]);
      const spec = `{ git = "file://${helperRepo}" }`;
      // The build runs offline with a read-only CARGO_HOME: fetch the git source into the run's cargo
      // cache first, as the deps step does for dependencies the base already has.
      const scratch = await mkdtemp(path.join(holder, 'fetch-'));
      await writeFile(
        path.join(scratch, 'Cargo.toml'),
        '[package]\nname = "prefetch"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nhelper = ' + spec + '\n',
      );
      await mkdir(path.join(scratch, 'src'));
      await writeFile(path.join(scratch, 'src', 'lib.rs'), '');
      await execFileAsync('cargo', ['fetch'], {
        cwd: scratch,
        env: { ...process.env, CARGO_HOME: path.join(cache, 'autodev', 'cargo-home') },
      });

      const after = { 'Cargo.toml': withDependency(spec), 'src/lib.rs': FIXED_LIB };
      const { outcome, json, pulls } = await run(bare, reply('Fix add, take helper from its repository', await makePatch(base, after)));

      expect({ code: outcome.code, status: json.status }).toEqual({ code: 3, status: 'denied' });
      expect(
        json.steps.filter((s) => s.mode === 'change' && ['build', 'test', 'deps-check'].includes(s.id)).map((s) => `${s.id}:${s.status}`),
      ).toEqual(['build:ok', 'test:ok', 'deps-check:ok']);
      expect(json.dependencies?.findings).toEqual([
        expect.objectContaining({ type: 'source_changed', name: 'helper', from: 'path helper', to: `git file://${helperRepo}` }),
      ]);
      expect(json.policy).toMatchObject({ decision: 'deny', reasons: [expect.objectContaining({ code: 'dependency_source_changed' })] });
      expect(json.reason ?? '').toContain('dependency_source_changed');
      expect(pulls).toHaveLength(0);
    },
    RUN_TIMEOUT,
  );

  it(
    'a Node project whose patch adds a postinstall script: the finding is reported',
    async () => {
      const files: Tree = {
        'package.json': `${JSON.stringify({ name: 'greeter', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2)}\n`,
        '.gitignore': 'node_modules/\n',
        'src/greet.js': "export function greet(name) {\n  return 'Hello ' + name;\n}\n",
        'test/greet.test.js':
          "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { greet } from '../src/greet.js';\n\ntest('greets', () => {\n  assert.equal(greet('Ada'), 'Hello, Ada');\n});\n",
      };
      const after: Tree = {
        'package.json': `${JSON.stringify({ name: 'greeter', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test', postinstall: 'node scripts/setup.js' } }, null, 2)}\n`,
        'scripts/setup.js': "console.log('setting up');\n",
        'src/greet.js': "export function greet(name) {\n  return 'Hello, ' + name;\n}\n",
      };
      const bare = await makeBareRepo(files);
      const task = { title: 'Fix greet punctuation', description: 'greet() must put a comma after Hello.' };
      const { outcome, json, pulls } = await run(bare, reply('Fix greet', await makePatch(files, after)), task, 'acme/greeter');

      expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: '' });
      expect(json.dependencies?.findings).toEqual([
        expect.objectContaining({
          type: 'install_script',
          name: 'scripts.postinstall',
          member: 'greeter',
          from: null,
          to: 'node scripts/setup.js',
        }),
      ]);
      expect(json.steps.find((s) => s.id === 'deps-check')?.summary).toBe('0 added, 0 removed, 1 install script (scripts.postinstall)');
      expect(pulls[0].body).toMatch(/^\| install script \| `scripts\.postinstall` \|.*node scripts\/setup\.js \|$/m);
    },
    RUN_TIMEOUT,
  );

  it(
    'a change that touches no manifest: no findings, no review, no table',
    async () => {
      const bare = await makeBareRepo();
      const { outcome, json, pulls } = await run(bare, reply('Fix add', await makePatch(CALC_FILES, { 'src/lib.rs': FIXED_LIB })));

      expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: '' });
      expect(json.steps.find((s) => s.id === 'deps-check')).toMatchObject({ status: 'ok', summary: 'no dependency changes' });
      expect(json.dependencies).toEqual({ summary: 'no dependency changes', findings: [], warnings: [] });
      expect(json.policy).toMatchObject({ decision: 'allow', reasons: [] });
      expect(pulls[0].draft).toBe(false);
      expect(pulls[0].body).toMatch(/^\| dependencies \| ✅ no dependency changes \|$/m);
      expect(pulls[0].body).not.toContain('### Dependency changes');
    },
    RUN_TIMEOUT,
  );
});
