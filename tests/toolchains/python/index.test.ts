// Detection, commands and image of the Python toolchain, through the planner (pure: no tools run).
import { describe, expect, it } from '@jest/globals';
import { autodevSchema } from '../../../src/config/schema.js';
import { buildPlan } from '../../../src/plan/planner.js';
import { targetTests } from '../../../src/steps/verify.js';
import type { Plan } from '../../../src/plan/types.js';
import type { RepoFacts } from '../../../src/toolchains/types.js';

function repo(files: Record<string, string>, extra: string[] = []): RepoFacts {
  return { files: [...Object.keys(files), ...extra].sort(), manifests: files, branch: 'main' };
}

function plan(files: Record<string, string>, extra: string[] = [], cfg: Record<string, unknown> = {}): Plan {
  return buildPlan({
    request: { repo: 'https://github.com/acme/py.git', title: 'Fix', description: 'x', risk: 'medium', noPr: false, keepWorkspace: false },
    config: autodevSchema.parse(cfg),
    repo: repo(files, extra),
    host: { programs: { git: true, python3: true, bwrap: true }, autoSandbox: 'bwrap', installed: {} },
    forge: { owner: 'acme', repo: 'py' },
  });
}

function command(p: Plan, id: string): string[] {
  const found = p.steps.find((s) => s.id === id);
  if (!found?.command) throw new Error(`no ${id} command in ${p.steps.map((s) => s.id).join(',')}`);
  return found.command;
}

const PEP621 =
  '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n[project]\nname = "p"\ndependencies = ["six"]\n[project.optional-dependencies]\ntest = ["pytest"]\ndocs = ["sphinx"]\n';

describe('detection', () => {
  it.each([
    ['pyproject.toml', { 'pyproject.toml': PEP621 }],
    ['setup.py', { 'setup.py': 'from setuptools import setup\nsetup(name="p")\n' }],
    ['setup.cfg', { 'setup.cfg': '[metadata]\nname = p\n' }],
    ['requirements.txt', { 'requirements.txt': 'six\n' }],
    ['requirements-dev.txt', { 'requirements-dev.txt': 'pytest\n' }],
  ])('recognises a project by %s', (file, files) => {
    const p = plan(files);
    expect(p.toolchain).toBe('python');
    expect(p.notes.join('\n') + JSON.stringify(p)).toContain(file);
  });
});

describe('commands', () => {
  it('installs the project editable with its test extras, tests with pytest into a JUnit report, offline after deps', () => {
    const p = plan({ 'pyproject.toml': PEP621 }, ['tests/', 'src/']);
    const deps = p.steps.find((s) => s.id === 'deps')!;
    expect(deps.network).toBe(true);
    expect(deps.command!.slice(4)).toEqual(['-e', '.[test]', 'pytest']);
    expect(deps.inputs.caches).toEqual([
      expect.objectContaining({ dir: 'python-venv', perTask: true, writer: 'deps', env: 'VIRTUAL_ENV' }),
      expect.objectContaining({ dir: 'pip', writer: 'deps', env: 'PIP_CACHE_DIR' }),
    ]);
    expect(deps.inputs.offlineEnv).toEqual({ PIP_NO_INDEX: '1' });
    const test = command(p, 'test');
    expect(test).toContain('--junitxml={reports}/junit.xml');
    expect(test).toContain('junit_family=xunit1');
    for (const id of ['build', 'test']) expect(p.steps.find((s) => s.id === id)!.network).toBe(false);
    // No linter configured: no lint step.
    expect(p.steps.map((s) => s.id)).not.toContain('lint');
  });

  it('falls back to unittest when nothing mentions pytest, starting in the tests package', () => {
    const p = plan({ 'setup.py': 'from setuptools import setup\nsetup(name="p")\n' }, ['tests/', 'tests/__init__.py']);
    expect(command(p, 'test').slice(4)).toEqual(['discover', '-v', '-s', 'tests', '-t', '.']);
    expect(p.steps.find((s) => s.id === 'test')!.inputs.format).toBe('unittest');
  });

  it('tests with pytest when a conftest.py says so, even with no other sign of pytest', () => {
    const p = plan({ 'setup.py': 'from setuptools import setup\nsetup(name="p")\n' }, ['tests/', 'tests/conftest.py']);
    expect(p.steps.find((s) => s.id === 'test')!.inputs.format).toBe('pytest');
    expect(command(p, 'deps').slice(4)).toEqual(['-e', '.', 'pytest']);
  });

  it('lints with the linters the project configures, and installs them', () => {
    const files = {
      'pyproject.toml': `${PEP621}[tool.ruff]\nline-length = 100\n[tool.mypy]\nstrict = true\n`,
      'requirements-dev.txt': 'ruff\n',
    };
    const p = plan(files, ['src/']);
    const lint = command(p, 'lint');
    expect(lint[2]).toContain('-m ruff check --no-cache --output-format=concise .');
    expect(lint[2]).toContain('-m mypy --cache-dir=/dev/null');
    expect(lint[2]).toContain(' src || rc=1');
    expect(lint[2]).not.toContain('flake8');
    expect(command(p, 'deps').slice(4)).toEqual(['-e', '.[test]', '-r', 'requirements-dev.txt', 'pytest', 'ruff', 'mypy']);
    const flake8 = plan({ 'setup.cfg': '[metadata]\nname = p\n[flake8]\nmax-line-length = 100\n' });
    expect(command(flake8, 'lint')[2]).toContain('-m flake8 .');
  });

  it('takes every command from the config', () => {
    const p = plan({ 'requirements.txt': 'six\n' }, [], { toolchains: { python: { test: ['make', 'test'], lint: ['make', 'lint'] } } });
    expect(command(p, 'test')).toEqual(['make', 'test']);
    expect(command(p, 'lint')).toEqual(['make', 'lint']);
  });
});

describe('container image', () => {
  it("uses Python's image unless the config names one (for all toolchains or for python)", () => {
    const image = (cfg: Record<string, unknown>) =>
      plan({ 'requirements.txt': 'six\n' }, [], cfg).steps.find((s) => s.id === 'test')!.inputs.image;
    expect(image({})).toBe('python:3.11-slim');
    expect(image({ sandbox_image: 'my/python:3.12' })).toBe('my/python:3.12');
    expect(image({ sandbox_image: 'my/all', toolchains: { python: { image: 'my/py' } } })).toBe('my/py');
  });
});

describe('the tests a task names', () => {
  it('finds pytest node ids, parametrized ones by their test', () => {
    const failing = ['tests/test_x.py::TestK::test_total[values0-6]', 'tests/test_x.py::test_legacy', 'tests/test_x.py::test_other[a]'];
    expect(targetTests(failing, 'test_total fails for a list; see tests/test_x.py::test_legacy')).toEqual([
      'tests/test_x.py::TestK::test_total[values0-6]',
      'tests/test_x.py::test_legacy',
    ]);
  });
});

describe('re-running suspected flaky tests', () => {
  it('pytest takes the node ids after its options; unittest and names without a file are not narrowed', async () => {
    const { python } = await import('../../../src/toolchains/python/index.js');
    const p = plan({ 'pyproject.toml': PEP621 }, ['tests/', 'src/']);
    const test = p.steps.find((s) => s.id === 'test')!;
    const names = ['tests/test_a.py::test_b', 'tests/test_a.py::test_c[1-2]'];
    expect(python.selectTests!(test.command!, names, String(test.inputs.format))).toEqual([...test.command!, ...names]);
    expect(python.selectTests!(test.command!, ['test_b'], 'pytest')).toBeNull();
    expect(python.selectTests!(test.command!, names, 'unittest')).toBeNull();
  });
});
