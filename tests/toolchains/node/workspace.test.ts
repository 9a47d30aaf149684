// pnpm and Yarn through corepack, and Node workspaces narrowed to the touched packages.
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { node } from '../../../src/toolchains/node/index.js';
import type { HostFacts, RepoFacts, Workspace } from '../../../src/toolchains/types.js';

const PNPM_DEFAULT = 'pnpm@10.28.1+sha1.20817ab95fb7f61154ba5ff3bcb61f27defb6142';

function host(programs: Record<string, boolean>): HostFacts {
  return { programs, autoSandbox: 'bwrap', installed: {} };
}

function repo(manifests: Record<string, string>, members?: string[]): RepoFacts {
  return { files: Object.keys(manifests), manifests, branch: 'main', ...(members ? { members: { node: members } } : {}) };
}

const pkg = (doc: Record<string, unknown>) => JSON.stringify({ name: 'app', version: '1.0.0', ...doc });
const DEPS = { dependencies: { 'is-number': '^7.0.0' }, scripts: { test: 'node --test', build: 'tsc' } };

describe('the package manager', () => {
  it('runs the version package.json pins through corepack, whatever the lockfile', () => {
    const cmds = node.commands(
      repo({ 'package.json': pkg({ ...DEPS, packageManager: 'yarn@4.5.0+sha512.abc' }), 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" }),
      host({ corepack: true, pnpm: true }),
    );
    // no yarn.lock, nothing to freeze (CI mode would refuse to write one)
    expect(cmds.deps?.argv).toEqual(['corepack', 'yarn', 'install', '--no-immutable']);
    expect(cmds.test.argv).toEqual(['corepack', 'yarn', 'test']);
    expect(cmds.build?.argv).toEqual(['corepack', 'yarn', 'run', 'build']);
    expect(cmds.notes.join('\n')).toContain('package.json pins yarn@4.5.0+sha512.abc');
  });

  it('without a pin, takes the manager from the lockfile and a hashed default version that reads it', () => {
    const v9 = node.commands(repo({ 'package.json': pkg(DEPS), 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" }), host({ corepack: true }));
    expect(v9.deps?.argv).toEqual(['corepack', PNPM_DEFAULT, 'install', '--frozen-lockfile']);
    expect(v9.test.argv).toEqual(['corepack', PNPM_DEFAULT, 'test']);
    const v6 = node.commands(repo({ 'package.json': pkg(DEPS), 'pnpm-lock.yaml': "lockfileVersion: '6.0'\n" }), host({ corepack: true }));
    expect(v6.deps?.argv[1]).toMatch(/^pnpm@8\.15\.9\+sha1\./);
    const classic = node.commands(
      repo({ 'package.json': pkg(DEPS), 'yarn.lock': '# yarn lockfile v1\n\nis-number@^7.0.0:\n  version "7.0.0"\n' }),
      host({ corepack: true }),
    );
    expect(classic.deps?.argv).toEqual([
      'corepack',
      expect.stringMatching(/^yarn@1\.22\.22\+sha1\./),
      'install',
      '--frozen-lockfile',
      '--non-interactive',
    ]);
    const berry = node.commands(
      repo({ 'package.json': pkg(DEPS), 'yarn.lock': '__metadata:\n  version: 8\n  cacheKey: 10c0\n' }),
      host({ corepack: true }),
    );
    expect(berry.deps?.argv).toEqual(['corepack', expect.stringMatching(/^yarn@4\.12\.0\+sha224\./), 'install', '--immutable']);
    expect(berry.notes.join('\n')).toContain('yarn.lock says yarn and pins no version');
  });

  it('without corepack uses the pnpm on PATH, and npm when there is neither', () => {
    const files = { 'package.json': pkg(DEPS), 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" };
    expect(node.commands(repo(files), host({ pnpm: true })).deps?.argv).toEqual(['pnpm', 'install', '--frozen-lockfile']);
    const none = node.commands(repo(files), host({}));
    expect(none.deps?.argv).toEqual(['npm', 'install']);
    expect(none.notes.join('\n')).toContain('neither corepack nor pnpm is on PATH: npm is used');
  });

  it("names pnpm's own version, and shares corepack's downloads and the stores, written by deps only", () => {
    expect(node.versionArgv!(['corepack', PNPM_DEFAULT, 'test'])).toEqual(['corepack', PNPM_DEFAULT, '--version']);
    expect(node.versionArgv!(['npm', 'test'])).toEqual(['npm', '--version']);
    expect(node.sandbox.caches.map((c) => [c.env, c.writer])).toEqual([
      ['COREPACK_HOME', 'deps'],
      ['npm_config_store_dir', 'deps'],
      ['YARN_CACHE_FOLDER', 'deps'],
      ['YARN_GLOBAL_FOLDER', 'deps'],
    ]);
    // never a pin written into the user's package.json; nothing downloaded once offline
    expect(node.sandbox.env.COREPACK_ENABLE_AUTO_PIN).toBe('0');
    expect(node.sandbox.offlineEnv.COREPACK_ENABLE_NETWORK).toBe('0');
  });
});

describe('a Node workspace', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'node-ws-'));
    dirs.push(dir);
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    return dir;
  }

  it('reads the members pnpm-workspace.yaml names on disk (negations and node_modules left out)', async () => {
    const manifests: Record<string, string> = {
      'package.json': pkg({ name: 'root' }),
      'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n  - '!packages/skip'\n",
    };
    const dir = await tree({
      'packages/a/package.json': pkg({ name: 'a' }),
      'packages/b/package.json': pkg({ name: 'b', dependencies: { a: 'workspace:*' } }),
      'packages/skip/package.json': pkg({ name: 'skip' }),
      'packages/docs/README.md': 'no package here',
      'packages/a/node_modules/x/package.json': pkg({ name: 'x' }),
    });
    expect(await node.readMembers!(dir, manifests)).toEqual(['packages/a', 'packages/b']);
    expect(Object.keys(manifests)).toContain('packages/b/package.json');
  });

  it("reads package.json's workspaces (npm, yarn), the `{ packages }` form too", async () => {
    const dir = await tree({ 'apps/web/package.json': pkg({ name: 'web' }), 'libs/ui/package.json': pkg({ name: 'ui' }) });
    expect(await node.readMembers!(dir, { 'package.json': pkg({ workspaces: ['apps/*', 'libs/*'] }) })).toEqual(['apps/web', 'libs/ui']);
    expect(await node.readMembers!(dir, { 'package.json': pkg({ workspaces: { packages: ['libs/*'] } }) })).toEqual(['libs/ui']);
    expect(await node.readMembers!(dir, { 'package.json': pkg({}) })).toEqual([]);
  });

  const MEMBERS = {
    'package.json': pkg({ name: 'root', private: true, scripts: { test: 'pnpm -r test' } }),
    'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n",
    'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    'packages/a/package.json': pkg({ name: 'a', dependencies: { 'is-number': '^7.0.0' }, scripts: { test: 'node --test' } }),
    'packages/b/package.json': pkg({ name: 'b', dependencies: { a: 'workspace:*' }, scripts: { test: 'node --test' } }),
    'packages/c/package.json': pkg({ name: 'c', scripts: { test: 'node --test' } }),
  };

  it('tests every member in one recursive run that verify narrows to the touched packages and their dependents', () => {
    const cmds = node.commands(repo(MEMBERS, ['packages/a', 'packages/b', 'packages/c']), host({ corepack: true }));
    expect(cmds.test).toEqual({
      argv: ['corepack', PNPM_DEFAULT, '-r', '--no-bail', '--workspace-concurrency=1', 'test'],
      format: 'node-test-workspace',
    });
    const ws = cmds.workspace!;
    expect(ws.members).toEqual([
      { name: 'a', dir: 'packages/a', dependsOn: [] },
      { name: 'b', dir: 'packages/b', dependsOn: ['a'] },
      { name: 'c', dir: 'packages/c', dependsOn: [] },
    ]);
    expect(node.narrow!(cmds.test.argv, ws, ['packages/b/index.js'])).toEqual({
      argv: ['corepack', PNPM_DEFAULT, '--filter', 'b', '--no-bail', '--workspace-concurrency=1', 'test'],
      packages: ['b'],
      label: '--filter b',
    });
    // a touched `a` takes `b`, which depends on it; a root file takes everything
    expect(node.narrow!(cmds.test.argv, ws, ['packages/a/index.js'])?.packages).toEqual(['a', 'b']);
    expect(node.narrow!(cmds.test.argv, ws, ['pnpm-lock.yaml'])).toBeNull();
    // npm's --workspaces narrows to --workspace=<name>
    const npm = node.commands(
      repo({ ...MEMBERS, 'package.json': pkg({ name: 'root', workspaces: ['packages/*'] }), 'pnpm-lock.yaml': '' }, [
        'packages/a',
        'packages/c',
      ]),
      host({}),
    );
    expect(npm.test.argv).toEqual(['npm', 'test', '--workspaces', '--if-present']);
    expect(node.narrow!(npm.test.argv, npm.workspace!, ['packages/c/x.js'])?.argv).toEqual([
      'npm',
      'test',
      '--workspace=c',
      '--if-present',
    ]);
  });

  const YARN4 = 'yarn@4.12.0+sha224.877304a94a6946ab1d58a358df5ff8af2f7c9d86ea506f05f5c9df05';
  const YARN_MEMBERS = {
    ...MEMBERS,
    'package.json': pkg({ name: 'root', private: true, workspaces: ['packages/*'] }),
    'pnpm-workspace.yaml': undefined,
    'pnpm-lock.yaml': undefined,
    'yarn.lock': '__metadata:\n  version: 8\n  cacheKey: 10c0\n',
  };
  const yarnFiles = Object.fromEntries(Object.entries(YARN_MEMBERS).filter((e): e is [string, string] => e[1] !== undefined));

  it("runs Yarn 2+'s members with `workspaces foreach --all`, narrowed with `--include` to the touched packages and their dependents", () => {
    const cmds = node.commands(repo(yarnFiles, ['packages/a', 'packages/b', 'packages/c']), host({ corepack: true }));
    expect(cmds.test).toEqual({
      argv: ['corepack', YARN4, 'workspaces', 'foreach', '--all', '--verbose', 'run', 'test'],
      format: 'node-test-workspace',
    });
    expect(cmds.notes.join('\n')).toMatch(/stops at the first whose tests fail/);
    const ws = cmds.workspace!;
    expect(node.narrow!(cmds.test.argv, ws, ['packages/a/index.js'])).toEqual({
      argv: ['corepack', YARN4, 'workspaces', 'foreach', '--all', '--include', 'a', '--include', 'b', '--verbose', 'run', 'test'],
      packages: ['a', 'b'],
      label: '--include a --include b',
    });
    expect(node.narrow!(cmds.test.argv, ws, ['packages/c/index.js'])?.packages).toEqual(['c']);
    expect(node.narrow!(cmds.test.argv, ws, ['yarn.lock'])).toBeNull();
    // `foreach` somewhere else in a command is not Yarn's
    expect(node.narrow!(['node', 'foreach', '--all'], ws, ['packages/c/index.js'])).toBeNull();
  });

  it("runs Yarn 1's members one by one with `--cwd` (its `workspaces run` has no filter), narrowed to the touched ones", () => {
    const classic = { ...yarnFiles, 'yarn.lock': '# yarn lockfile v1\n\n' };
    const cmds = node.commands(repo(classic, ['packages/a', 'packages/b', 'packages/c']), host({ corepack: true }));
    const yarn1 = expect.stringMatching(/^yarn@1\.22\.22\+/);
    expect(cmds.test).toEqual({
      argv: ['node', '-e', expect.any(String), 'corepack', yarn1, '--members', 'a=packages/a', 'b=packages/b', 'c=packages/c'],
      format: 'node-test-workspace',
    });
    expect(cmds.notes.join('\n')).toMatch(/yarn --cwd <member> run test/);
    const ws = cmds.workspace!;
    expect(node.narrow!(cmds.test.argv, ws, ['packages/c/index.js'])).toEqual({
      argv: ['node', '-e', expect.any(String), 'corepack', yarn1, '--members', 'c=packages/c'],
      packages: ['c'],
      label: 'members c',
    });
    expect(node.narrow!(cmds.test.argv, ws, ['packages/a/index.js'])?.packages).toEqual(['a', 'b']);
    expect(node.narrow!(cmds.test.argv, ws, ['yarn.lock'])).toBeNull();
  });

  it("Yarn 1's member driver runs every member even after one fails, each under the header the parser reads", async () => {
    const classic = { ...yarnFiles, 'yarn.lock': '# yarn lockfile v1\n\n' };
    const cmds = node.commands(repo(classic, ['packages/a', 'packages/b', 'packages/c']), host({ corepack: true }));
    // A stand-in for yarn that prints a TAP line per member and fails in b: the driver is real node.
    const dir = await tree({
      'fake-yarn.js': `const dir = process.argv[process.argv.indexOf('--cwd') + 1];
const ok = !dir.endsWith('/b');
console.log('TAP version 13');
console.log((ok ? 'ok' : 'not ok') + ' 1 - works in ' + dir);
process.exit(ok ? 0 : 1);
`,
    });
    const [, flag, script, , , ...rest] = cmds.test.argv;
    const run = spawnSync(process.execPath, [flag, script, process.execPath, path.join(dir, 'fake-yarn.js'), ...rest], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    const report = node.parse('node-test-workspace', { stdout: run.stdout, stderr: run.stderr, exitCode: run.status }).tests!;
    expect(report.passed).toEqual(['a: works in packages/a', 'c: works in packages/c']);
    expect(report.failed.map((f) => f.name)).toEqual(['b: works in packages/b']);
  });

  it("names each test of Yarn's `[member]: ` prefixed output by its member, Yarn's own lines left out", () => {
    // Recorded from `yarn workspaces foreach --all --verbose --include a --include b run test` (Yarn 4.12, node --test).
    const member = (name: string, lines: string[]) => lines.map((l) => `[${name}]: ${l}`);
    const stdout = [
      ...member('a', [
        'TAP version 13',
        '# Subtest: a works',
        'ok 1 - a works',
        '  ---',
        '  duration_ms: 2.0',
        '  ...',
        '1..1',
        '# pass 1',
        '# fail 0',
      ]),
      ...member('@scope/b', [
        'TAP version 13',
        '# Subtest: b works',
        'ok 1 - b works',
        '  ---',
        '  duration_ms: 6.6',
        '  ...',
        '# Subtest: b fails',
        'not ok 2 - b fails',
        '  ---',
        "  error: 'x'",
        '  ...',
        '1..2',
        '# pass 1',
        '# fail 1',
      ]),
      'The command failed in workspace @scope/b@workspace:packages/b with exit code 1',
      'Failed with errors in 1s 468ms',
    ].join('\n');
    const tests = node.parse('node-test-workspace', { stdout, stderr: '', exitCode: 1 }).tests!;
    expect(tests.passed).toEqual(['a: a works', '@scope/b: b works']);
    expect(tests.failed.map((f) => f.name)).toEqual(['@scope/b: b fails']);
    expect(tests.failed[0].output).toContain("error: 'x'");
  });

  it('runs a root test script of its own as it is, not narrowed', () => {
    const own = { ...MEMBERS, 'package.json': pkg({ name: 'root', scripts: { test: 'node --test' } }) };
    const cmds = node.commands(repo(own, ['packages/a']), host({ corepack: true }));
    expect(cmds.test.argv).toEqual(['corepack', PNPM_DEFAULT, 'test']);
    expect(cmds.workspace).toBeUndefined();
  });

  it("names each test by its member, and scopes the base's failures to the narrowed run", () => {
    const tap = (ok: string, name: string) =>
      `TAP version 13\n# Subtest: ${name}\n${ok} 1 - ${name}\n  ---\n  error: 'boom'\n  ...\n1..1\n`;
    const stdout = [
      'Scope: 2 of 3 workspace projects',
      '',
      '> a@1.0.0 test /tmp/ws/packages/a',
      '> node --test',
      '',
      tap('ok', 'double'),
      '> b@1.0.0 test /tmp/ws/packages/b',
      '> node --test',
      '',
      tap('not ok', 'quad'),
    ].join('\n');
    const tests = node.parse('node-test-workspace', { stdout, stderr: ' ERR_PNPM_RECURSIVE_FAIL', exitCode: 1 }).tests!;
    expect(tests.passed).toEqual(['a: double']);
    expect(tests.failed.map((f) => f.name)).toEqual(['b: quad']);
    const ws: Workspace = {
      members: [
        { name: 'a', dir: 'packages/a', dependsOn: [] },
        { name: 'b', dir: 'packages/b', dependsOn: ['a'] },
      ],
    };
    const failures = [
      { name: 'a: double', output: '' },
      { name: 'b: quad', output: '' },
    ];
    expect(node.scopeBaselineFailures!(failures, { packages: ['b'], workspace: ws }, []).map((f) => f.name)).toEqual(['b: quad']);
  });
});

describe('a failed install', () => {
  it("says the package manager's error, not the source line Node prints above a thrown one", () => {
    const corepack = [
      '/usr/lib/node_modules/corepack/dist/lib/corepack.cjs:22089',
      '    throw new Error(',
      '          ^',
      '',
      'Error: Error when performing the request to https://registry.npmjs.org/pnpm/10.28.1',
      '  [cause]: TypeError: fetch failed',
    ].join('\n');
    expect(node.depsFailureLine!(corepack, 1)).toBe(
      'dependencies could not be fetched: Error: Error when performing the request to https://registry.npmjs.org/pnpm/10.28.1',
    );
    expect(node.depsFailureLine!('Lockfile is up to date\n ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with "frozen-lockfile"', 1)).toBe(
      'dependencies could not be fetched: ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with "frozen-lockfile"',
    );
    expect(node.depsFailureLine!('npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/nope', 1)).toBe(
      'dependencies could not be fetched: npm error 404 Not Found - GET https://registry.npmjs.org/nope',
    );
    expect(node.depsFailureLine!('', null)).toBe('dependencies could not be fetched: the install exited with a signal');
    expect(node.depsFailureLine!('Error: No compatible signature found in package metadata\n    at verifySignature', 1)).toMatch(
      /^dependencies could not be fetched: Error: No compatible signature found in package metadata \(the registry sent no signatures: pin .*\+sha512/,
    );
  });

  it("passes the host's extra CA file (a trust setting, never a secret) to the sandbox, when it exists", () => {
    expect(node.hostInstall!({ NODE_EXTRA_CA_CERTS: '/etc/hostname' }, '/home/x')).toEqual({
      path: [],
      env: { NODE_EXTRA_CA_CERTS: '/etc/hostname' },
    });
    expect(node.hostInstall!({ NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' }, '/home/x')).toBeNull();
    expect(node.hostInstall!({}, '/home/x')).toBeNull();
  });
});
