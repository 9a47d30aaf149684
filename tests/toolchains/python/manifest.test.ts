// The dependency check on Python's files: requirements files, pyproject.toml (PEP 621 and Poetry),
// poetry.lock and uv.lock, compared base vs change through the same comparison as every ecosystem.
import { describe, expect, it } from '@jest/globals';
import { compareDependencies, manifestPaths } from '../../../src/depcheck/index.js';
import type { DependencyReader } from '../../../src/depcheck/types.js';
import { python } from '../../../src/toolchains/python/index.js';
import { parseRequirement, pep440Range, requirementsDeclared } from '../../../src/toolchains/python/manifest.js';

const reader = python.dependencies as DependencyReader;

function compare(base: Record<string, string>, change: Record<string, string>) {
  return compareDependencies({ files: base }, { files: change }, [reader]);
}

describe('PEP 440 and PEP 508', () => {
  it('turns specifier sets into ranges that order like PyPI versions', () => {
    expect(pep440Range('==1.16.0')).toBe('1.16.0');
    expect(pep440Range('>=1.2,<2')).toBe('>=1.2.0 <2.0.0');
    expect(pep440Range('~=1.4.2')).toBe('>=1.4.2 <1.5.0');
    expect(pep440Range('~=1.4')).toBe('>=1.4.0 <2.0.0');
    expect(pep440Range('==1.2.*')).toBe('>=1.2.0 <1.3.0-0');
    expect(pep440Range('')).toBe('*');
    expect(pep440Range('>=1,!=1.5')).toBe('>=1.0.0');
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
