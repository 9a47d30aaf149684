// What a Python project's own files say about how it is installed, tested and linted: the build
// backend, the extras that hold its test tools, its requirements files, and which of pytest, ruff,
// flake8 and mypy it configures. Read from the manifests the repository facts keep.
import { tomlLib } from '../../util/libs.js';
import type { RepoFacts } from '../types.js';
import { REQUIREMENTS_PATTERN } from './manifest.js';

/** Files whose text the facts keep (top level, or one directory down). */
export const PYTHON_MANIFESTS = [
  'pyproject.toml',
  'setup.py',
  'setup.cfg',
  'requirements.txt',
  'requirements-dev.txt',
  'requirements-test.txt',
  'requirements_dev.txt',
  'requirements_test.txt',
  'dev-requirements.txt',
  'test-requirements.txt',
  'tox.ini',
  'pytest.ini',
  'conftest.py',
  'ruff.toml',
  '.ruff.toml',
  '.flake8',
  'mypy.ini',
  '.mypy.ini',
  'poetry.lock',
  'uv.lock',
];

/** Extras that, by the usual names, hold what the tests need. */
const TEST_EXTRAS = ['test', 'tests', 'testing', 'dev', 'develop', 'development'];

export interface PythonProject {
  /** Why this is a Python project (the file that told us), or null. */
  reason: string | null;
  /** The project can be installed (`pip install -e .`): it has a build backend or a setup.py. */
  installable: boolean;
  /** Extras it declares for tests and development (installed with the project). */
  extras: string[];
  /** Requirements files at the top level, or in a requirements/ directory, that name dev/test tools. */
  requirements: string[];
  /** pytest is configured or depended on (else unittest runs the tests). */
  pytest: boolean;
  ruff: boolean;
  flake8: boolean;
  mypy: boolean;
  /** Dependency groups (PEP 735 `[dependency-groups]`, Poetry groups) named like test/dev groups. */
  groups: string[];
  /** The tests directory (`tests`, `test`), or null for discovery from the top. */
  testDir: string | null;
  /** The tests directory is a package (has `__init__.py`). */
  testDirIsPackage: boolean;
}

type Table = Record<string, unknown>;

function table(value: unknown): Table {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Table) : {};
}

/** The parsed pyproject.toml, or an empty table when there is none or it does not parse. */
export function readPyproject(text: string | undefined): Table {
  if (!text) return {};
  try {
    return tomlLib().parse(text) as Table;
  } catch {
    return {};
  }
}

/** An INI file has this section (`[flake8]`, `[tool:pytest]`). */
function iniSection(text: string | undefined, name: string): boolean {
  if (!text) return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\s*\\[${escaped}(?:[.:-][^\\]]*)?\\]\\s*$`, 'm').test(text);
}

/** Requirements files worth installing: top-level `requirements*.txt` and the like, and `requirements/*.txt`. */
export function requirementsFiles(files: string[]): string[] {
  return files.filter((f) => REQUIREMENTS_PATTERN.test(f)).sort((a, b) => a.length - b.length || a.localeCompare(b));
}

/** Whether a requirements file is for development or tests (besides the plain `requirements.txt`). */
function devRequirements(file: string): boolean {
  return /requirements\.txt$/i.test(file) || /(dev|test|ci|lint|check)/i.test(file);
}

export function readPythonProject(repo: RepoFacts): PythonProject {
  const m = repo.manifests;
  const has = (f: string) => repo.files.includes(f);
  const doc = readPyproject(m['pyproject.toml']);
  const tool = table(doc.tool);
  const project = table(doc.project);
  const poetry = table(tool.poetry);
  const requirements = requirementsFiles(repo.files);
  const reason = has('pyproject.toml')
    ? 'pyproject.toml'
    : has('setup.py')
      ? 'setup.py'
      : has('setup.cfg')
        ? 'setup.cfg'
        : (requirements[0] ?? null);
  const backend = typeof table(doc['build-system']).backend === 'string' || 'build-system' in doc;
  const installable = has('setup.py') || (has('pyproject.toml') && (backend || Object.keys(poetry).length > 0));
  const declaredExtras = new Set([
    ...Object.keys(table(project['optional-dependencies'])),
    ...Object.keys(table(poetry.extras)),
    ...setupCfgExtras(m['setup.cfg']),
    ...setupPyExtras(m['setup.py']),
  ]);
  const extras = TEST_EXTRAS.filter((e) => declaredExtras.has(e));
  const groupNames = new Set([...Object.keys(table(doc['dependency-groups'])), ...Object.keys(table(poetry.group))]);
  const groups = TEST_EXTRAS.filter((g) => groupNames.has(g));
  const allText = Object.entries(m)
    .filter(([f]) => !f.endsWith('.lock'))
    .map(([, t]) => t)
    .join('\n');
  const pytest =
    has('pytest.ini') ||
    repo.files.some((f) => /^(?:[^/]+\/)?conftest\.py$/.test(f)) ||
    'pytest' in tool ||
    iniSection(m['setup.cfg'], 'tool:pytest') ||
    iniSection(m['tox.ini'], 'pytest') ||
    /(^|[\s"'[,])pytest\b/m.test(allText);
  const ruff = has('ruff.toml') || has('.ruff.toml') || 'ruff' in tool;
  const flake8 = !ruff && (has('.flake8') || iniSection(m['setup.cfg'], 'flake8') || iniSection(m['tox.ini'], 'flake8'));
  const mypy = has('mypy.ini') || has('.mypy.ini') || 'mypy' in tool || iniSection(m['setup.cfg'], 'mypy');
  const testDir = ['tests', 'test'].find((d) => has(`${d}/`)) ?? null;
  return {
    reason,
    installable,
    extras,
    requirements: requirements.filter(devRequirements),
    pytest,
    ruff,
    flake8,
    mypy,
    groups,
    testDir,
    testDirIsPackage: testDir !== null && has(`${testDir}/__init__.py`),
  };
}

// setup.cfg: `[options.extras_require]` keys.
function setupCfgExtras(text: string | undefined): string[] {
  if (!text) return [];
  const section = /^\s*\[options\.extras_require\]\s*$([\s\S]*?)(?=^\s*\[|(?![\s\S]))/m.exec(text);
  if (!section) return [];
  return [...section[1].matchAll(/^([A-Za-z0-9_.-]+)\s*=/gm)].map((x) => x[1]);
}

// setup.py: the keys of an `extras_require={...}` literal, as far as a look at the text can tell.
function setupPyExtras(text: string | undefined): string[] {
  if (!text) return [];
  const at = text.indexOf('extras_require');
  if (at < 0) return [];
  return [...text.slice(at, at + 2000).matchAll(/["']([A-Za-z0-9_.-]+)["']\s*:/g)].map((x) => x[1]);
}
