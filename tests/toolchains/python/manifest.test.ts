// The dependency check on Python's files: requirements files, pyproject.toml (PEP 621 and Poetry),
// poetry.lock and uv.lock, compared base vs change through the same comparison as every ecosystem.
import { describe, expect, it } from '@jest/globals';
import { compareDependencies, manifestPaths } from '../../../src/depcheck/index.js';
import type { DependencyReader } from '../../../src/depcheck/types.js';
import { python } from '../../../src/toolchains/python/index.js';
import {
  comparePep440,
  parseRequirement,
  pep440Range,
  pep440RequirementChange,
  requirementsDeclared,
} from '../../../src/toolchains/python/manifest.js';

const reader = python.dependencies as DependencyReader;

function compare(base: Record<string, string>, change: Record<string, string>) {
  return compareDependencies({ files: base }, { files: change }, [reader]);
}

describe('PEP 440 and PEP 508', () => {
  it('keeps specifier sets as PEP 440, normalized, and refuses what is not PEP 440', () => {
    expect(pep440Range('==1.16.0')).toBe('==1.16.0');
    expect(pep440Range('>= 1.2, < 2')).toBe('>=1.2,<2');
    expect(pep440Range('~=1.4.2')).toBe('~=1.4.2');
    expect(pep440Range('==1.2.*')).toBe('==1.2.*');
    expect(pep440Range('')).toBe('*');
    expect(pep440Range('>=1,!=1.5')).toBe('>=1,!=1.5');
    expect(pep440Range('^1.2')).toBeNull();
    expect(pep440Range('>=banana')).toBeNull();
  });

  it('orders versions by PEP 440: pre, post and dev releases, epochs', () => {
    const sorted = ['1!0.5', '2.0.0', '2.0.0rc1', '2.0.0.post1', '2.0.0.dev3', '10.0', '2.0.0a1'].sort(comparePep440);
    expect(sorted).toEqual(['2.0.0.dev3', '2.0.0a1', '2.0.0rc1', '2.0.0', '2.0.0.post1', '10.0', '1!0.5']);
  });

  it('tells up-, downgrades and loosening of specifier sets the PEP 440 way', () => {
    const move = (from: string, to: string) => pep440RequirementChange(pep440Range(from), pep440Range(to));
    expect(move('~=1.4', '~=1.6')).toBe('upgraded');
    // Back down within the same major admits more, as `^1.6` → `^1.4` would.
    expect(move('~=1.6', '~=1.4')).toBe('loosened');
    expect(move('~=1.4.2', '~=1.3.0')).toBe('downgraded');
    expect(move('==2.0.0rc1', '==2.0.0')).toBe('upgraded');
    expect(move('==2.0.0', '==2.0.0.post1')).toBe('upgraded');
    expect(move('==2.0.0', '==2.0.0rc1')).toBe('downgraded');
    expect(move('==1!2.0', '==3.0')).toBe('downgraded');
    expect(move('>=1.0', '>=1!0.1')).toBe('upgraded');
    // Dropping an exclusion admits more; adding one only narrows.
    expect(move('>=1.0,!=1.3', '>=1.0')).toBe('loosened');
    expect(move('>=1.0', '>=1.0,!=1.3')).toBeNull();
    expect(move('>=1.0,!=1.3', '>=1.0,!=1.3.*')).toBeNull();
    expect(move('>=1.0,!=1.3', '>=1.1,!=1.3')).toBe('upgraded');
    expect(move('~=1.4.2', '~=1.4')).toBe('loosened');
    expect(move('==1.2.*', '>=1.2,<1.3')).toBeNull();
    expect(move('==1.2.0', '==1.2.*')).toBe('loosened');
    expect(move('>=1.2,<2', '>=1.2')).toBe('loosened');
    expect(move('', '>=2')).toBe('upgraded');
    expect(move('>=2', '')).toBe('loosened');
  });

  it('reads names, extras, markers and direct references', () => {
    expect(parseRequirement('Requests[socks] >= 2.0 ; python_version >= "3.8"')).toMatchObject({
      name: 'Requests',
      requirement: '>= 2.0',
      extras: ['socks'],
      source: { kind: 'registry', location: 'PyPI' },
    });
    expect(parseRequirement('six @ git+https://example.org/six.git@1.16.0')).toMatchObject({
      name: 'six',
      source: { kind: 'git', location: 'https://example.org/six.git' },
    });
    expect(parseRequirement('git+https://example.org/attrs.git@main#egg=attrs')).toMatchObject({ name: 'attrs', source: { kind: 'git' } });
    const lines = requirementsDeclared(
      'requirements-dev.txt',
      '# tools\n-r requirements.txt\n--index-url https://x\npytest==8.0 --hash=sha256:ab\n-e ./vendor/helper\n',
    );
    expect(lines.map((d) => [d.name, d.kind, d.requirement, d.source.kind])).toEqual([
      ['pytest', 'dev', '==8.0', 'registry'],
      ['helper', 'dev', null, 'path'],
    ]);
  });
});

describe('comparing base and change', () => {
  it('finds requirements files without a pyproject.toml, and the lockfiles', () => {
    const files = ['requirements.txt', 'requirements/dev.txt', 'docs/requirements.txt', 'uv.lock', 'src/'];
    expect(manifestPaths(files, [reader], {})).toEqual(['requirements.txt', 'requirements/dev.txt', 'uv.lock']);
  });

  it('flags added, removed, upgraded, downgraded and source-switched requirements', () => {
    const report = compare(
      { 'requirements.txt': 'six==1.16.0\nattrs>=22.1\nidna==3.6\nurllib3==2.0\n' },
      { 'requirements.txt': 'six==1.15.0\nattrs>=23.1\nidna @ git+https://example.org/idna.git@v3\ncharset-normalizer==3.3.2\n' },
    );
    const seen = report.findings.map((f) => [f.type, f.name, f.from, f.to]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['downgraded', 'six', '==1.16.0', '==1.15.0'],
        ['upgraded', 'attrs', '>=22.1', '>=23.1'],
        ['source_changed', 'idna', 'PyPI', 'git https://example.org/idna.git'],
        ['added', 'charset-normalizer', null, '==3.3.2'],
        ['removed', 'urllib3', '==2.0', null],
      ]),
    );
    expect(report.findings).toHaveLength(5);
  });

  it('compares requirements by PEP 440 through the reader: ~=, release candidates, !=, epochs', () => {
    const report = compare(
      { 'requirements.txt': 'attrs~=1.4\nsix==2.0.0rc1\nidna>=1.0,!=1.3\nurllib3==1!2.0\n' },
      { 'requirements.txt': 'attrs~=1.6\nsix==2.0.0\nidna>=1.0\nurllib3==3.0\n' },
    );
    expect(report.findings.map((f) => [f.type, f.name, f.from, f.to])).toEqual([
      ['upgraded', 'attrs', '~=1.4', '~=1.6'],
      ['upgraded', 'six', '==2.0.0rc1', '==2.0.0'],
      ['requirement_loosened', 'idna', '>=1.0,!=1.3', '>=1.0'],
      ['downgraded', 'urllib3', '==1!2.0', '==3.0'],
    ]);
    expect(report.warnings).toEqual([]);
  });

  it('compares Poetry constraints as the PEP 440 sets they mean', () => {
    const poetry = (requests: string) =>
      `[tool.poetry]\nname = "p"\n[tool.poetry.dependencies]\npython = "^3.9"\nrequests = "${requests}"\n`;
    const moved = (from: string, to: string) =>
      compare({ 'pyproject.toml': poetry(from) }, { 'pyproject.toml': poetry(to) }).findings.map((f) => f.type);
    expect(moved('^2.28', '^2.31')).toEqual(['upgraded']);
    expect(moved('^0.2', '^0.3')).toEqual(['upgraded']);
    expect(moved('~1.2', '^1.2')).toEqual(['requirement_loosened']);
    expect(moved('2.0.0', '2.0.0rc1')).toEqual(['downgraded']);
  });

  it('orders poetry.lock pins by PEP 440: a release candidate to its release is an upgrade, an epoch outranks', () => {
    const lock = (v: string) => `[[package]]\nname = "six"\nversion = "${v}"\n`;
    const moved = (from: string, to: string) =>
      compare({ 'poetry.lock': lock(from) }, { 'poetry.lock': lock(to) }).findings.map((f) => [f.type, f.from, f.to]);
    expect(moved('2.0.0rc1', '2.0.0')).toEqual([['upgraded', '2.0.0rc1', '2.0.0']]);
    expect(moved('1!1.0', '2.0')).toEqual([['downgraded', '1!1.0', '2.0']]);
    expect(moved('1.0.post1', '1.0')).toEqual([['downgraded', '1.0.post1', '1.0']]);
  });

  it('reads PEP 621 dependencies and extras, and Poetry tables', () => {
    const base = {
      'pyproject.toml':
        '[project]\nname = "tally"\ndependencies = ["six==1.16.0"]\n[project.optional-dependencies]\ntest = ["pytest>=7"]\n',
    };
    const change = {
      'pyproject.toml':
        '[project]\nname = "tally"\ndependencies = ["six==1.16.0", "attrs>=23"]\n[project.optional-dependencies]\ntest = ["pytest>=8"]\n',
    };
    const report = compare(base, change);
    expect(report.findings.map((f) => [f.type, f.name, f.kind, f.member])).toEqual([
      ['added', 'attrs', 'normal', 'tally'],
      ['upgraded', 'pytest', 'optional', 'tally'],
    ]);
    const poetry = compare(
      { 'pyproject.toml': '[tool.poetry]\nname = "p"\n[tool.poetry.dependencies]\npython = "^3.9"\nrequests = "^2.28"\n' },
      {
        'pyproject.toml':
          '[tool.poetry]\nname = "p"\n[tool.poetry.dependencies]\npython = "^3.9"\nrequests = { git = "https://example.org/requests.git", tag = "v2" }\n[tool.poetry.group.dev.dependencies]\npytest = "^8"\n',
      },
    );
    expect(poetry.findings.map((f) => [f.type, f.name, f.kind])).toEqual([
      ['source_changed', 'requests', 'normal'],
      ['added', 'pytest', 'dev'],
    ]);
  });

  it('compares poetry.lock and uv.lock pins, the project itself left out', () => {
    const poetryLock = (v: string) => `[[package]]\nname = "six"\nversion = "${v}"\n\n[[package]]\nname = "idna"\nversion = "3.6"\n`;
    const locks = compare({ 'poetry.lock': poetryLock('1.16.0') }, { 'poetry.lock': poetryLock('1.17.0') });
    expect(locks.findings.map((f) => [f.type, f.name, f.from, f.to, f.manifest])).toEqual([
      ['upgraded', 'six', '1.16.0', '1.17.0', 'poetry.lock'],
    ]);
    const uv = (extra: string) =>
      `version = 1\nrevision = 2\n\n[[package]]\nname = "tally"\nversion = "0.1.0"\nsource = { editable = "." }\n\n[[package]]\nname = "six"\nversion = "1.16.0"\nsource = { registry = "https://pypi.org/simple" }\n${extra}`;
    const added = compare(
      { 'uv.lock': uv('') },
      {
        'uv.lock': uv(
          '\n[[package]]\nname = "attrs"\nversion = "23.2.0"\nsource = { git = "https://example.org/attrs.git?rev=main#abc" }\n',
        ),
      },
    );
    expect(added.findings.map((f) => [f.type, f.name, f.to, f.source])).toEqual([
      ['added', 'attrs', '23.2.0', { kind: 'git', location: 'https://example.org/attrs.git' }],
    ]);
  });
});
