// pnpm-lock.yaml and yarn.lock in the dependency check, beside package-lock.json.
import { describe, expect, it } from '@jest/globals';
import { compareDependencies, manifestPaths } from '../../../src/depcheck/compare.js';
import { dependencyReaders } from '../../../src/toolchains/registry.js';
import { node } from '../../../src/toolchains/node/index.js';

const PNPM_V9 = `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      is-number:
        specifier: ^7.0.0
        version: 7.0.0
      left-pad:
        specifier: github:stevemao/left-pad#abc
        version: https://codeload.github.com/stevemao/left-pad/tar.gz/abc

packages:

  '@types/node@20.1.0':
    resolution: {integrity: sha512-AAAA}

  is-number@7.0.0:
    resolution: {integrity: sha512-BBBB}
    engines: {node: '>=0.12.0'}

  left-pad@https://codeload.github.com/stevemao/left-pad/tar.gz/abc:
    resolution: {tarball: https://codeload.github.com/stevemao/left-pad/tar.gz/abc}
    name: left-pad
    version: 1.3.0

snapshots:

  is-number@7.0.0: {}
`;

const PNPM_V6 = `lockfileVersion: '6.0'

packages:

  /esbuild@0.19.0:
    resolution: {integrity: sha512-CCCC}
    requiresBuild: true
    dev: true

  /react-dom@18.2.0(react@18.2.0):
    resolution: {integrity: sha512-DDDD}
`;

const BERRY = `__metadata:
  version: 8
  cacheKey: 10c0

"is-number@npm:^7.0.0":
  version: 7.0.0
  resolution: "is-number@npm:7.0.0"
  languageName: node
  linkType: hard

"@scope/x@git+https://example.com/x.git#commit=abc":
  version: 1.0.0
  resolution: "@scope/x@git+https://example.com/x.git#commit=abc"
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  languageName: unknown
  linkType: soft
`;

function reader(lockfile: string) {
  return dependencyReaders().find((r) => r.lockfile === lockfile)!;
}

describe('pnpm-lock.yaml', () => {
  it('pins each package with its source, scoped names and peer suffixes handled, v9 and v6', () => {
    expect(reader('pnpm-lock.yaml').locked(PNPM_V9, 'pnpm-lock.yaml')).toEqual([
      { ecosystem: 'npm', name: '@types/node', version: '20.1.0', source: { kind: 'registry', location: 'npm' }, installScript: false },
      { ecosystem: 'npm', name: 'is-number', version: '7.0.0', source: { kind: 'registry', location: 'npm' }, installScript: false },
      {
        ecosystem: 'npm',
        name: 'left-pad',
        version: '1.3.0',
        source: { kind: 'url', location: 'https://codeload.github.com/stevemao/left-pad/tar.gz/abc' },
        installScript: false,
      },
    ]);
    expect(
      reader('pnpm-lock.yaml')
        .locked(PNPM_V6, 'pnpm-lock.yaml')
        .map((p) => [p.name, p.version, p.installScript]),
    ).toEqual([
      ['esbuild', '0.19.0', true],
      ['react-dom', '18.2.0', false],
    ]);
  });

  it('shows a package the change adds to the lockfile, as the npm lockfile does', () => {
    const pkg = (deps: Record<string, string>) => JSON.stringify({ name: 'app', dependencies: deps });
    const base = { files: { 'package.json': pkg({ 'is-number': '^7.0.0' }), 'pnpm-lock.yaml': PNPM_V6 } };
    const change = {
      files: {
        'package.json': pkg({ 'is-number': '^7.0.0', 'is-odd': '^3.0.1' }),
        'pnpm-lock.yaml': `${PNPM_V6}\n  /is-odd@3.0.1:\n    resolution: {integrity: sha512-EEEE}\n`,
      },
    };
    const report = compareDependencies(base, change, dependencyReaders());
    expect(report.warnings).toEqual([]);
    const added = report.findings.filter((f) => f.type === 'added');
    expect(added.map((f) => [f.name, f.manifest, f.locked])).toEqual([['is-odd', 'package.json', { from: null, to: '3.0.1' }]]);
  });
});

describe('a pnpm workspace', () => {
  it('has its members named by pnpm-workspace.yaml, and a dependency a member adds shows in that member', () => {
    const files = (a: Record<string, string>) => ({
      'package.json': JSON.stringify({ name: 'mono', private: true }),
      'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n",
      'packages/a/package.json': JSON.stringify({ name: 'a', dependencies: a }),
      'pnpm-lock.yaml': PNPM_V6,
    });
    const readers = dependencyReaders();
    const pnpm = readers.find((r) => r.manifest === 'pnpm-workspace.yaml')!;
    expect(
      pnpm.memberManifests("packages:\n  - 'packages/*'\n", [
        'packages/a/package.json',
        'packages/a/node_modules/x/package.json',
        'docs/package.json',
      ]),
    ).toEqual(['packages/a/package.json']);
    // what deps-check reads: the workspace file, the root and member manifests, the lockfile
    const base = files({});
    const roots = { 'package.json': base['package.json'], 'pnpm-workspace.yaml': base['pnpm-workspace.yaml'] };
    expect(manifestPaths(Object.keys(base), readers, roots)).toEqual([
      'package.json',
      'packages/a/package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
    ]);
    const report = compareDependencies({ files: base }, { files: files({ 'is-odd': '^3.0.1' }) }, readers);
    expect(report.findings.map((f) => [f.type, f.name, f.manifest, f.member])).toEqual([
      ['added', 'is-odd', 'packages/a/package.json', 'a'],
    ]);
  });
});

const CLASSIC_ENTRIES = `"@scope/x@^1.0.0", "@scope/x@^1.0.1":
  version "1.0.2"
  resolved "https://registry.yarnpkg.com/@scope/x/-/x-1.0.2.tgz#abc"
  integrity sha512-x

is-number@^7.0.0:
  version "7.0.0"
  resolved "https://registry.yarnpkg.com/is-number/-/is-number-7.0.0.tgz#abc"

"left-pad@git+https://example.com/left-pad.git#v1":
  version "1.3.0"
  resolved "git+https://example.com/left-pad.git#deadbeef"

"loc@file:./loc":
  version "0.1.0"

"tar@https://example.com/tar-1.0.0.tgz":
  version "1.0.0"
  resolved "https://example.com/tar-1.0.0.tgz#abc"
`;

const CLASSIC = `# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


${CLASSIC_ENTRIES}`;

describe('yarn.lock', () => {
  it("reads Yarn 2+'s lockfile, the project's own workspaces left out", () => {
    expect(reader('yarn.lock').locked(BERRY, 'yarn.lock')).toEqual([
      { ecosystem: 'npm', name: 'is-number', version: '7.0.0', source: { kind: 'registry', location: 'npm' } },
      { ecosystem: 'npm', name: '@scope/x', version: '1.0.0', source: { kind: 'git', location: 'git+https://example.com/x.git' } },
    ]);
  });

  it("reads Yarn 1's format with Yarn's parser: one entry per name@version, the registry called npm", () => {
    expect(reader('yarn.lock').locked(CLASSIC, 'yarn.lock')).toEqual([
      { ecosystem: 'npm', name: '@scope/x', version: '1.0.2', source: { kind: 'registry', location: 'npm' } },
      { ecosystem: 'npm', name: 'is-number', version: '7.0.0', source: { kind: 'registry', location: 'npm' } },
      { ecosystem: 'npm', name: 'left-pad', version: '1.3.0', source: { kind: 'git', location: 'https://example.com/left-pad.git' } },
      { ecosystem: 'npm', name: 'loc', version: '0.1.0', source: { kind: 'path', location: './loc' } },
      { ecosystem: 'npm', name: 'tar', version: '1.0.0', source: { kind: 'url', location: 'https://example.com/tar-1.0.0.tgz' } },
    ]);
  });

  it('compares Yarn 1 lockfiles: upgraded, added, removed and a registry → git source switch', () => {
    const base = '# yarn lockfile v1\n\n' + CLASSIC_ENTRIES;
    const change = `# yarn lockfile v1

"@scope/x@^1.0.0", "@scope/x@^1.0.1":
  version "1.1.0"
  resolved "https://registry.yarnpkg.com/@scope/x/-/x-1.1.0.tgz#abc"
  integrity sha512-x

"is-number@git+https://example.com/is-number.git#v7":
  version "7.0.0"
  resolved "git+https://example.com/is-number.git#0123456789abcdef"

"left-pad@git+https://example.com/left-pad.git#v1":
  version "1.3.0"
  resolved "git+https://example.com/left-pad.git#deadbeef"

"tar@https://example.com/tar-1.0.0.tgz":
  version "1.0.0"
  resolved "https://example.com/tar-1.0.0.tgz#abc"

new-dep@^2:
  version "2.0.0"
  resolved "https://registry.yarnpkg.com/new-dep/-/new-dep-2.0.0.tgz#abc"
`;
    const report = compareDependencies(
      { files: { 'package.json': '{"name":"a"}', 'yarn.lock': base } },
      { files: { 'package.json': '{"name":"a"}', 'yarn.lock': change } },
      dependencyReaders(),
    );
    expect(report.warnings).toEqual([]);
    expect(report.findings.map((f) => [f.type, f.name, f.from, f.to, f.manifest])).toEqual([
      ['upgraded', '@scope/x', '1.0.2', '1.1.0', 'yarn.lock'],
      ['source_changed', 'is-number', 'npm', 'git https://example.com/is-number.git', 'yarn.lock'],
      ['removed', 'loc', '0.1.0', null, 'yarn.lock'],
      ['added', 'new-dep', null, '2.0.0', 'yarn.lock'],
    ]);
  });

  it('reports a Yarn 1 lockfile it cannot parse as a warning, the package.json files still compared', () => {
    const broken = '# yarn lockfile v1\n\nx@1:\n  version "1.0.0"\n  resolved {\n';
    const report = compareDependencies(
      { files: { 'package.json': '{"name":"a"}', 'yarn.lock': '# yarn lockfile v1\n' } },
      { files: { 'package.json': '{"name":"a","dependencies":{"x":"1"}}', 'yarn.lock': broken } },
      dependencyReaders(),
    );
    expect(report.findings.map((f) => [f.type, f.name])).toEqual([['added', 'x']]);
    expect(report.warnings.join('\n')).toMatch(/yarn\.lock \(change\) could not be parsed/);
  });

  it('are readers of the node toolchain, beside package-lock.json', () => {
    expect([node.dependencies, ...(node.otherLockfiles ?? [])].map((r) => r?.lockfile)).toEqual([
      'package-lock.json',
      'pnpm-lock.yaml',
      'yarn.lock',
    ]);
  });
});
