// pnpm and Yarn projects for real: corepack downloads the package manager in `deps` (network on) into
// the shared cache, the install fetches a real package from the npm registry, and build/test run
// offline in bubblewrap. The pnpm workspace's test run is narrowed to the package the fix touches.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { e2eSuite } from '../e2e/harness.js';
import { replyFor, type Tree } from './fixtures.js';
import { RUN_TIMEOUT, explain, realRun, step } from './helpers.js';

const { cache } = e2eSuite();

const PNPM_PIN = 'pnpm@10.28.1+sha1.20817ab95fb7f61154ba5ff3bcb61f27defb6142';
const json = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;
const TEST_SCRIPT = { test: 'node --test' };

const QUAD_BUGGY = `import { double } from 'a';

export function quad(x) {
  return double(x) + x;
}
`;

const WORKSPACE: Tree = {
  'package.json': json({ name: 'mono', private: true, packageManager: PNPM_PIN, scripts: { test: 'pnpm -r test' } }),
  'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n",
  '.gitignore': 'node_modules/\n',
  // What pnpm 10 writes for this workspace: the install is frozen to it.
  'pnpm-lock.yaml': `lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .: {}

  packages/a:
    dependencies:
      is-number:
        specifier: ^7.0.0
        version: 7.0.0

  packages/b:
    dependencies:
      a:
        specifier: workspace:*
        version: link:../a

packages:

  is-number@7.0.0:
    resolution: {integrity: sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==}
    engines: {node: '>=0.12.0'}

snapshots:

  is-number@7.0.0: {}
`,
  'packages/a/package.json': json({
    name: 'a',
    version: '1.0.0',
    type: 'module',
    main: 'index.js',
    scripts: TEST_SCRIPT,
    dependencies: { 'is-number': '^7.0.0' },
  }),
  'packages/a/index.js': `import isNumber from 'is-number';

export function double(x) {
  return isNumber(x) ? x * 2 : NaN;
}
`,
  'packages/a/test/a.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { double } from '../index.js';

test('doubles a number', () => {
  assert.equal(double(2), 4);
});
`,
  'packages/b/package.json': json({
    name: 'b',
    version: '1.0.0',
    type: 'module',
    main: 'index.js',
    scripts: TEST_SCRIPT,
    dependencies: { a: 'workspace:*' },
  }),
  'packages/b/index.js': QUAD_BUGGY,
  'packages/b/test/b.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quad } from '../index.js';

test('quadruples a number', () => {
  assert.equal(quad(3), 12);
});
`,
};

const FIX: Tree = { 'packages/b/index.js': QUAD_BUGGY.replace('double(x) + x', 'double(double(x))') };

describe('a pnpm workspace', () => {
  it(
    'installs with the pinned pnpm through corepack, fixes the failing test and verifies it in the touched package only',
    async () => {
      const run = await realRun({
        files: WORKSPACE,
        task: { title: 'Fix quad', description: 'quad(3) is 9, not 12: the test "quadruples a number" in packages/b fails.' },
        replies: [await replyFor('Make quad double twice', WORKSPACE, FIX)],
        cache,
        forgeRepo: 'acme/mono',
      });
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
      expect(run.json.status).toBe('pr_created');
      expect(step(run.json, 'deps')[0].status).toBe('ok');
      // The baseline ran every member; the base's failure is named by its package.
      expect(run.json.baseline.failingTests).toEqual(['b: quadruples a number']);
      const test = step(run.json, 'test', { mode: 'change' }).at(-1)!;
      expect(test.status).toBe('ok');
      // Narrowed to b (nothing depends on it): a's test did not run for the change.
      expect(test.summary).toMatch(/--filter b/);
      expect(test.summary).toMatch(/1 passed, 0 failed.*fixes 1 test\(s\) failing on the base: b: quadruples a number/);
      expect(run.json.change?.files).toEqual(['packages/b/index.js']);
      // corepack's pnpm and the package store sit in the shared cache, which only deps wrote: the
      // offline steps (no network in the sandbox) found pnpm and is-number there.
      const shared = path.join(cache, 'autodev');
      expect(existsSync(path.join(shared, 'corepack', 'v1', 'pnpm', '10.28.1'))).toBe(true);
      expect((await readdir(path.join(shared, 'pnpm-store'))).length).toBeGreaterThan(0);
    },
    RUN_TIMEOUT,
  );
});

// A Yarn 1 (Classic) workspace: `b` depends on `a` (by version, which Yarn 1 links to the member),
// `b`'s test fails on the base and `c` comes after it, so the baseline shows the driver goes on.
const YARN_WORKSPACE: Tree = {
  'package.json': json({ name: 'mono', private: true, workspaces: ['packages/*'] }),
  '.gitignore': 'node_modules/\n',
  // Yarn 1's lockfile, as `yarn install` writes it (members are not in it).
  'yarn.lock': `# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


is-number@^7.0.0:
  version "7.0.0"
  resolved "https://registry.yarnpkg.com/is-number/-/is-number-7.0.0.tgz#7535345b896734d5f80c4d06c50955527a14f12b"
  integrity sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==
`,
  'packages/a/package.json': WORKSPACE['packages/a/package.json'],
  'packages/a/index.js': WORKSPACE['packages/a/index.js'],
  'packages/a/test/a.test.js': WORKSPACE['packages/a/test/a.test.js'],
  'packages/b/package.json': json({
    name: 'b',
    version: '1.0.0',
    type: 'module',
    main: 'index.js',
    scripts: TEST_SCRIPT,
    dependencies: { a: '1.0.0' },
  }),
  'packages/b/index.js': QUAD_BUGGY,
  'packages/b/test/b.test.js': WORKSPACE['packages/b/test/b.test.js'],
  'packages/c/package.json': json({ name: 'c', version: '1.0.0', type: 'module', scripts: TEST_SCRIPT }),
  'packages/c/test/c.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';

test('adds', () => {
  assert.equal(1 + 1, 2);
});
`,
};

describe('a Yarn 1 workspace', () => {
  it(
    "is installed by the yarn its yarn.lock calls for (corepack's default, frozen), tests every member and narrows to the touched one",
    async () => {
      const run = await realRun({
        files: YARN_WORKSPACE,
        task: { title: 'Fix quad', description: 'quad(3) is 9, not 12: the test "quadruples a number" in packages/b fails.' },
        replies: [await replyFor('Make quad double twice', YARN_WORKSPACE, FIX)],
        cache,
        forgeRepo: 'acme/mono',
      });
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
      expect(step(run.json, 'deps')[0].status).toBe('ok');
      // Every member ran on the base, c after the failing b: 2 passed, 1 failed.
      expect(run.json.baseline.failingTests).toEqual(['b: quadruples a number']);
      expect(run.json.baseline.test).toMatch(/2 passed, 1 failed/);
      const test = step(run.json, 'test', { mode: 'change' }).at(-1)!;
      expect(test.summary).toMatch(/members b\]/);
      expect(test.summary).toMatch(/1 passed, 0 failed.*fixes 1 test\(s\) failing on the base: b: quadruples a number/);
      expect(existsSync(path.join(cache, 'autodev', 'corepack', 'v1', 'yarn', '1.22.22'))).toBe(true);
      expect((await readdir(path.join(cache, 'autodev', 'yarn-cache'))).length).toBeGreaterThan(0);
    },
    RUN_TIMEOUT,
  );
});
