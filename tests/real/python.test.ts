// The Python row: a small src-layout project (pyproject.toml with a setuptools backend, one real
// dependency from PyPI: six) run end to end through the built CLI in bubblewrap. `deps` creates a
// virtual environment beside the checkout and installs the project editable with its test extra
// (pytest from PyPI) and flake8, which it configures; then build, test and lint run offline. The tests share one cache dir (pip's cache).
import { describe, expect, it } from '@jest/globals';
import { e2eSuite } from '../e2e/harness.js';
import { replyFor, type Tree } from './fixtures.js';
import { RUN_TIMEOUT, explain, promptsSent, realRun, step } from './helpers.js';

const { cache } = e2eSuite();
// deps installs the project with pip (a build backend fetched into an isolated build env): slower than cargo's fetch.
const PY_TIMEOUT = 2 * RUN_TIMEOUT;

const PYPROJECT = `[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tally"
version = "0.1.0"
dependencies = ["six==1.16.0"]

[project.optional-dependencies]
test = ["pytest"]

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
`;

const TALLY = `import os

import six


def total(values):
    """The sum of the values."""
    result = 0
    for value in values[1:]:
        result += value
    return result


def label(value):
    return six.text_type(value)


def legacy():
    return "old"
`;

const TESTS = `import pytest

from tally import label, legacy, total


class TestTotal:
    @pytest.mark.parametrize("values,expected", [([1, 2, 3], 6), ([], 0)])
    def test_total(self, values, expected):
        assert total(values) == expected


def test_label():
    assert label(3) == "3"


def test_legacy():
    assert legacy() == "new"
`;

const FILES: Tree = {
  'pyproject.toml': PYPROJECT,
  'src/tally/__init__.py': TALLY,
  'tests/test_tally.py': TESTS,
  '.gitignore': '',
  // flake8 is configured, so deps installs it and lint runs it; the base's unused import is lint debt.
  '.flake8': '[flake8]\nmax-line-length = 120\n',
};

const TASK = {
  title: 'Fix total',
  description: 'total() skips the first value: tests/test_tally.py::TestTotal::test_total[values0-6] fails.',
};

const FIXED = TALLY.replace('values[1:]', 'values');
const BROKEN = TALLY.replace('for value in values[1:]:', 'for value in values');
const BROKEN_LINE = TALLY.split('\n').findIndex((l) => l.includes('for value in values[1:]:')) + 1;

describe('a Python project with a PyPI dependency', () => {
  it(
    'repairs a patch that breaks the build, fixes the failing test by node id, does not blame the old failure, and flags the added requirement',
    async () => {
      const run = await realRun({
        files: FILES,
        task: TASK,
        replies: [
          await replyFor('Fix total', FILES, { 'src/tally/__init__.py': BROKEN }),
          await replyFor('Fix total', FILES, {
            'src/tally/__init__.py': FIXED,
            'pyproject.toml': PYPROJECT.replace('dependencies = ["six==1.16.0"]', 'dependencies = ["six==1.16.0", "idna>=3.6"]'),
          }),
        ],
        cache,
        forgeRepo: 'acme/tally',
      });
      expect({ code: run.outcome.code, status: run.json.status, why: run.outcome.code ? explain(run) : '' }).toEqual({
        code: 0,
        status: 'pr_created',
        why: '',
      });

      // deps installed from PyPI once, before the baseline, into a virtual environment beside the
      // checkout: nothing it wrote (egg-info, bytecode) is part of the change.
      const deps = step(run.json, 'deps');
      expect(deps).toHaveLength(1);
      expect(deps[0].status).toBe('ok');
      const order = run.json.steps.map((s) => `${s.id}/${s.mode}`);
      expect(order.indexOf('deps/change')).toBeLessThan(order.indexOf('build/baseline'));

      // The base: the task's test and the old one fail, named by pytest node id.
      expect(run.json.baseline.failingTests.sort()).toEqual([
        'tests/test_tally.py::TestTotal::test_total[values0-6]',
        'tests/test_tally.py::test_legacy',
      ]);

      // Round 0: the syntax error is a build failure located in the file, sent back to the model.
      const first = step(run.json, 'build', { mode: 'change', round: 0 })[0];
      expect(first.status).toBe('failed');
      expect(first.summary).toMatch(/SyntaxError|src\/tally\/__init__\.py/);
      expect(promptsSent(run.llm)[1]).toContain(`src/tally/__init__.py:${BROKEN_LINE}`);

      // Round 1: builds, fixes the named test, and the old failure is reported, not blamed.
      expect(step(run.json, 'build', { mode: 'change', round: 1 })[0].status).toBe('ok');
      const test = step(run.json, 'test', { mode: 'change', round: 1 }).at(-1)!;
      expect(test.status).toBe('ok');
      expect(test.summary).toMatch(/3 passed, 1 failed/);
      expect(test.summary).toContain('tests/test_tally.py::TestTotal::test_total[values0-6]');
      const evidence = (run.json as unknown as { evidence: { fixed: string[] } }).evidence;
      expect(evidence.fixed).toEqual(['tests/test_tally.py::TestTotal::test_total[values0-6]']);
      expect(run.json.change?.files.sort()).toEqual(['pyproject.toml', 'src/tally/__init__.py']);
      // flake8's finding on the base (F401, `os` unused) is not the change's.
      const lint = step(run.json, 'lint', { mode: 'change', round: 1 })[0];
      expect(lint.status).toBe('ok');
      expect(lint.summary).toMatch(/lint clean for the change \(1 already on the base, not blamed\)/);

      // The added requirement is in the PR body's dependency table.
      const body = run.github.pulls('acme', 'tally')[0].body ?? '';
      expect(body).toContain('### Dependency changes');
      expect(body).toMatch(/^\| added \| `idna` \| normal \| tally \|.*>=3\.6/m);
    },
    PY_TIMEOUT,
  );

  it(
    'fails offline, naming the module, when the change imports a requirement deps never installed',
    async () => {
      const needsAttrs = TALLY.replace('import six\n', 'import attrs\nimport six\n').replace('values[1:]', 'values');
      const after = {
        'src/tally/__init__.py': needsAttrs,
        'pyproject.toml': PYPROJECT.replace('dependencies = ["six==1.16.0"]', 'dependencies = ["six==1.16.0", "attrs"]'),
      };
      const reply = await replyFor('Fix total with attrs', FILES, after);
      // The same patch in every round the repair budget allows: it can never pass offline.
      const run = await realRun({ files: FILES, task: TASK, replies: [reply, reply, reply], cache, forgeRepo: 'acme/tally2' });
      expect(run.outcome.code).toBe(1);
      const build = step(run.json, 'build', { mode: 'change' })[0];
      expect(build.status).toBe('failed');
      expect(build.summary).toMatch(/ModuleNotFoundError/);
      expect(run.github.pulls('acme', 'tally2')).toHaveLength(0);
    },
    PY_TIMEOUT,
  );
});
