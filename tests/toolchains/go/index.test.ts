// The Go toolchain's answers through the Toolchain interface: detection, commands, go.work
// workspaces, the dependency check's readers and the context hints, on text and temp dirs.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { autodevSchema } from '../../../src/config/schema.js';
import { compareDependencies, manifestPaths, policyDependencies } from '../../../src/depcheck/index.js';
import { buildPlan } from '../../../src/plan/planner.js';
import { targetTests } from '../../../src/steps/verify.js';
import { go } from '../../../src/toolchains/go/index.js';
import { goDirectives } from '../../../src/toolchains/go/manifest.js';
import { dependencyReaders } from '../../../src/toolchains/registry.js';
import type { HostFacts, RepoFacts } from '../../../src/toolchains/types.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const HOST: HostFacts = { programs: { go: true }, autoSandbox: 'bwrap', installed: {} };

function repo(manifests: Record<string, string>, extraFiles: string[] = [], members?: string[]): RepoFacts {
  return {
    files: [...Object.keys(manifests), ...extraFiles],
    manifests,
    branch: 'main',
    ...(members ? { members: { go: members } } : {}),
  };
}

const GO_MOD = 'module example.com/demo\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n';

describe('go toolchain: detection and commands', () => {
  it('detects go.mod and go.work, and nothing else', () => {
    expect(go.detect(repo({ 'go.mod': GO_MOD }))).toBe('go.mod');
    expect(go.detect(repo({ 'go.work': 'go 1.22\n\nuse ./a\n' }))).toBe('go.work');
    expect(go.detect(repo({ 'package.json': '{}' }))).toBeNull();
  });

  it('downloads modules only when some are required, and builds, tests and vets every package with -mod=mod', () => {
    const commands = go.commands(repo({ 'go.mod': GO_MOD }), HOST);
    expect(commands.deps).toEqual({ argv: ['go', 'mod', 'download'], format: 'plain' });
    expect(commands.build).toEqual({ argv: ['go', 'build', '-mod=mod', './...'], format: 'go-build' });
    expect(commands.test).toEqual({ argv: ['go', 'test', '-mod=mod', '-json', './...'], format: 'go-test' });
    expect(commands.lint).toEqual({ argv: ['go', 'vet', '-mod=mod', './...'], format: 'go-vet' });
    expect(go.commands(repo({ 'go.mod': 'module example.com/lonely\n\ngo 1.22\n' }), HOST).deps).toBeNull();
  });

  it('reads a vendor directory instead of downloading', () => {
    const commands = go.commands(repo({ 'go.mod': GO_MOD }, ['vendor/modules.txt']), HOST);
    expect(commands.deps).toBeNull();
    expect(commands.build?.argv).toEqual(['go', 'build', './...']);
    expect(commands.notes.join('\n')).toMatch(/vendor/);
  });

  it('lints with golangci-lint or staticcheck when the repository configures one and it is installed, else with go vet and a note', () => {
    const golangci = repo({ 'go.mod': GO_MOD }, ['.golangci.yml']);
    expect(go.commands(golangci, { ...HOST, programs: { go: true, 'golangci-lint': true } }).lint).toEqual({
      argv: ['golangci-lint', 'run', './...'],
      format: 'go-lint',
    });
    const missing = go.commands(golangci, HOST);
    expect(missing.lint?.argv[0]).toBe('go');
    expect(missing.notes.join('\n')).toMatch(/\.golangci\.yml configures golangci-lint, which is not installed/);
    const staticcheck = repo({ 'go.mod': GO_MOD }, ['staticcheck.conf']);
    expect(go.commands(staticcheck, { ...HOST, programs: { go: true, staticcheck: true } }).lint?.argv).toEqual(['staticcheck', './...']);
  });

  it('knows a test by its function, which the task names (`TestSum` covers its subtests)', () => {
    expect(go.testLeaf!('example.com/ledger/calc.TestSum/two_values')).toBe('TestSum');
    expect(go.testLeaf!('example.com/ledger/calc.TestSum')).toBe('TestSum');
    expect(go.testLeaf!('gopkg.in/yaml.v3.TestDecode/v1.2')).toBe('TestDecode');
    expect(go.testLeaf!('example.com/ledger/calc')).toBe('');
    // So the verify step holds the change to the tests the task names.
    const failing = ['example.com/l/calc.TestSum/empty', 'example.com/l/calc.TestSum/two_values', 'example.com/l/legacy.TestRounding'];
    const leaf = (name: string) => go.testLeaf!(name);
    expect(targetTests(failing, 'Fix calc.Sum\nTestSum fails: the total is off by one', leaf)).toEqual(failing.slice(0, 2));
    expect(targetTests(failing, 'Fix calc.Sum', leaf)).toEqual([]);
  });

  it('asks go for its version as go does (`go version`), other linters with --version', () => {
    expect(go.versionArgv!(['go', 'vet', './...'])).toEqual(['go', 'version']);
    expect(go.versionArgv!(['staticcheck', './...'])).toEqual(['staticcheck', '--version']);
  });

  it('runs offline after deps: no proxy, no checksum database, no toolchain download, caches as cargo has them', () => {
    expect(go.sandbox.offlineEnv).toEqual({ GOPROXY: 'off', GOSUMDB: 'off' });
    expect(go.sandbox.env.GOTOOLCHAIN).toBe('local');
    expect(go.sandbox.caches).toEqual([
      { dir: 'go-mod', perRepository: false, writer: 'deps', env: 'GOMODCACHE' },
      { dir: 'go-build', perRepository: true, writer: 'baseline', env: 'GOCACHE', privateCopy: 'go-build' },
    ]);
  });
});

describe('go toolchain: container image', () => {
  function imageOf(cfg: Record<string, unknown>, manifests: Record<string, string> = { 'go.mod': GO_MOD }): unknown {
    const plan = buildPlan({
      request: {
        repo: 'https://github.com/acme/demo.git',
        title: 'Fix',
        description: 'x',
        risk: 'medium',
        noPr: false,
        keepWorkspace: false,
      },
      config: autodevSchema.parse(cfg),
      repo: repo(manifests),
      host: { ...HOST, autoSandbox: 'docker' },
      forge: { owner: 'acme', repo: 'demo' },
    });
    return plan.steps.find((s) => s.id === 'build')?.inputs.image;
  }

  it("runs a Go project in golang:1 unless the config names another (the toolchain's key first, then sandbox_image)", () => {
    expect(imageOf({})).toBe('golang:1');
    expect(imageOf({ sandbox_image: 'corp/all:1' })).toBe('corp/all:1');
    expect(imageOf({ sandbox_image: 'corp/all:1', toolchains: { go: { image: 'golang:1.26-bookworm' } } })).toBe('golang:1.26-bookworm');
    // Another toolchain's key does not apply; a toolchain with no image of its own keeps rust:1-slim.
    expect(imageOf({ toolchains: { rust: { image: 'rust:1' } } })).toBe('golang:1');
    expect(imageOf({}, { 'Cargo.toml': '[package]\nname = "x"\nversion = "0.1.0"\n' })).toBe('rust:1-slim');
  });
});

describe('go toolchain: go.work workspaces', () => {
  async function workspaceRepo(): Promise<RepoFacts> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-go-work-'));
    dirs.push(dir);
    const work = 'go 1.22\n\nuse (\n\t./core\n\t./app // the binary\n\t./tools\n\t./missing\n)\n';
    await writeFile(path.join(dir, 'go.work'), work);
    const mods: Record<string, string> = {
      core: 'module example.com/core\n\ngo 1.22\n',
      app: 'module example.com/app\n\ngo 1.22\n\nrequire (\n\texample.com/core v0.0.0\n\tgithub.com/google/uuid v1.6.0\n)\n\nreplace example.com/core => ../core\n',
      tools: 'module example.com/tools\n\ngo 1.22\n',
    };
    for (const [name, text] of Object.entries(mods)) {
      await mkdir(path.join(dir, name));
      await writeFile(path.join(dir, name, 'go.mod'), text);
    }
    const manifests: Record<string, string> = { 'go.work': work };
    const members = await go.readMembers!(dir, manifests);
    expect(members).toEqual(['core', 'app', 'tools']);
    expect(Object.keys(manifests).sort()).toEqual(['app/go.mod', 'core/go.mod', 'go.work', 'tools/go.mod']);
    return { files: ['go.work', 'core', 'app', 'tools'], manifests, branch: 'main', members: { go: members } };
  }

  it('names each module in the commands and narrows them to the touched modules and the modules requiring them', async () => {
    const commands = go.commands(await workspaceRepo(), HOST);
    expect(commands.workspace?.members).toEqual([
      { name: 'example.com/core', dir: 'core', dependsOn: [] },
      { name: 'example.com/app', dir: 'app', dependsOn: ['example.com/core'] },
      { name: 'example.com/tools', dir: 'tools', dependsOn: [] },
    ]);
    // Workspace mode refuses -mod=mod.
    expect(commands.test.argv).toEqual(['go', 'test', '-json', './core/...', './app/...', './tools/...']);
    expect(commands.deps?.argv).toEqual(['go', 'mod', 'download']);
    const workspace = commands.workspace!;
    expect(go.narrow!(commands.test.argv, workspace, ['core/core.go'])).toEqual({
      argv: ['go', 'test', '-json', './core/...', './app/...'],
      packages: ['example.com/core', 'example.com/app'],
      label: './core/... ./app/...',
    });
    expect(go.narrow!(commands.build!.argv, workspace, ['tools/gen.go'])?.argv).toEqual(['go', 'build', './tools/...']);
    // go.work itself, or a file outside every module, runs everything.
    expect(go.narrow!(commands.test.argv, workspace, ['go.work'])).toBeNull();
    expect(go.narrow!(commands.test.argv, workspace, ['README.md'])).toBeNull();
    // The base's failures outside the narrowed modules did not run: neither fixed nor failing.
    const failures = [
      { name: 'example.com/core.TestA', output: '' },
      { name: 'example.com/core/sub.TestB/case', output: '' },
      { name: 'example.com/tools.TestC', output: '' },
      { name: 'example.com/tools', output: '' },
    ];
    expect(
      go.scopeBaselineFailures!(failures, { packages: ['example.com/core', 'example.com/app'], workspace }, []).map((f) => f.name),
    ).toEqual(['example.com/core.TestA', 'example.com/core/sub.TestB/case']);
  });
});

describe('go toolchain: dependency check (go.mod, go.sum)', () => {
  const READERS = dependencyReaders();
  const base = {
    'go.mod':
      'module example.com/demo\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/uuid v1.5.0\n\tgolang.org/x/mod v0.43.0 // indirect\n\tgolang.org/x/text v0.20.0\n)\n',
    'go.sum':
      'github.com/google/uuid v1.5.0 h1:aaa=\ngithub.com/google/uuid v1.5.0/go.mod h1:bbb=\ngolang.org/x/mod v0.43.0 h1:ccc=\ngolang.org/x/text v0.20.0 h1:ddd=\ngolang.org/x/text v0.20.0/go.mod h1:eee=\n',
  };

  it('reads directives in blocks and on one line, with comments and // indirect', () => {
    expect(goDirectives('module x\n\nrequire (\n\ta v1 // indirect\n\t"b" v2\n)\nreplace c => ../c // local fork\n')).toEqual([
      { verb: 'module', args: ['x'], indirect: false },
      { verb: 'require', args: ['a', 'v1'], indirect: true },
      { verb: 'require', args: ['b', 'v2'], indirect: false },
      { verb: 'replace', args: ['c', '=>', '../c'], indirect: false },
    ]);
  });

  it('finds added, removed, upgraded and downgraded modules, in go.mod and go.sum', () => {
    const change = {
      'go.mod':
        'module example.com/demo\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\tgolang.org/x/mod v0.42.0 // indirect\n\tgithub.com/pkg/errors v0.9.1\n)\n',
      'go.sum':
        'github.com/google/uuid v1.6.0 h1:NIv=\ngithub.com/google/uuid v1.6.0/go.mod h1:TIy=\ngolang.org/x/mod v0.42.0 h1:zzz=\ngithub.com/pkg/errors v0.9.1 h1:yyy=\n',
    };
    expect(manifestPaths(['go.mod', 'go.sum', 'main.go', 'tools/go.mod'], READERS, { 'go.mod': change['go.mod'] })).toEqual([
      'go.mod',
      'go.sum',
      'tools/go.mod',
    ]);
    const report = compareDependencies({ files: base }, { files: change }, READERS);
    const found = report.findings.map((f) => [f.type, f.name, f.from, f.to, f.manifest]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['upgraded', 'github.com/google/uuid', 'v1.5.0', 'v1.6.0', 'go.mod'],
        ['downgraded', 'golang.org/x/mod', 'v0.43.0', 'v0.42.0', 'go.mod'],
        ['added', 'github.com/pkg/errors', null, 'v0.9.1', 'go.mod'],
        ['removed', 'golang.org/x/text', 'v0.20.0', null, 'go.mod'],
      ]),
    );
    expect(found).toHaveLength(4);
    // The lockfile's versions are attached to the manifest's findings.
    expect(report.findings.find((f) => f.name === 'github.com/google/uuid')?.locked).toEqual({ from: 'v1.5.0', to: 'v1.6.0' });
    const policy = policyDependencies(report);
    expect(policy.added.map((d) => [d.ecosystem, d.name, d.source])).toEqual([
      ['go', 'github.com/pkg/errors', { kind: 'registry', location: 'Go module proxy' }],
    ]);
    expect(policy.changed.map((c) => c.change).sort()).toEqual(['downgraded', 'upgraded']);
  });

  it('reads a replace directive as a source switch (a directory, or another module)', () => {
    const local = { 'go.mod': `${base['go.mod']}\nreplace github.com/google/uuid => ../uuid-fork\n` };
    const forked = { 'go.mod': `${base['go.mod']}\nreplace github.com/google/uuid v1.5.0 => github.com/evil/uuid v1.5.1\n` };
    for (const [change, to] of [
      [local, { kind: 'path', location: '../uuid-fork' }],
      [forked, { kind: 'registry', location: 'github.com/evil/uuid@v1.5.1' }],
    ] as const) {
      const report = compareDependencies({ files: { 'go.mod': base['go.mod'] } }, { files: change }, READERS);
      expect(report.findings.map((f) => [f.type, f.name])).toEqual([['source_changed', 'github.com/google/uuid']]);
      expect(policyDependencies(report).sources).toEqual([
        expect.objectContaining({
          ecosystem: 'go',
          name: 'github.com/google/uuid',
          from: { kind: 'registry', location: 'Go module proxy' },
          to,
        }),
      ]);
    }
  });
});

describe('go toolchain: context hints', () => {
  it('knows func, method, type and top-level var/const definitions, and x_test.go beside x.go', () => {
    const d = go.context.definitions;
    expect(d('func Sum(xs ...int) int {')).toEqual(['Sum']);
    expect(d('func (s *Store) Get(key string) (string, error) {')).toEqual(['Get']);
    expect(d('func (List[T]) Len() int {')).toEqual(['Len']);
    expect(d('type Store struct {')).toEqual(['Store']);
    expect(d('\ttype inner int')).toEqual(['inner']);
    expect(d('type (')).toEqual([]);
    expect(d('var ErrMissing = errors.New("missing")')).toEqual(['ErrMissing']);
    expect(d('\tx := Sum(1, 2)')).toEqual([]);
    expect(d('// func Fake() {}')).toEqual([]);
    expect(go.context.testFileNames.some((re) => re.test('store_test.go'))).toBe(true);
    expect(go.context.lockfiles).toContain('go.sum');
  });
});
