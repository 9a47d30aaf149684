// Python with pip and a virtual environment: everything autodev knows about it, behind the
// Toolchain interface.
import type { Toolchain } from '../types.js';
import { pythonContext } from './context.js';
import { pythonCommands } from './commands.js';
import { isPythonTestFile, parsePytestReports, parsePythonBuild, parsePythonLint, parseUnittest } from './output.js';
import { PEP440_VERSIONS, PYPI, pythonDeclared, pythonLocked, REQUIREMENTS_PATTERN } from './manifest.js';
import { PYTHON_MANIFESTS, readPythonProject } from './project.js';

export const python: Toolchain = {
  id: 'python',
  language: 'Python',
  manifests: PYTHON_MANIFESTS,
  hostPrograms: ['python3'],
  sandboxPrograms: ['python3'],
  // Debian's CPython with pip and venv (ensurepip); the sandbox has no network after deps.
  image: 'python:3.11-slim',
  doctor: [
    {
      name: 'python3',
      command: ['python3', '--version'],
      purpose: 'Python projects',
      fallback: 'none: Python projects cannot be verified',
    },
    {
      name: 'python3 -m pip',
      command: ['python3', '-m', 'pip', '--version'],
      purpose: 'Python dependencies (the venv gets its own pip)',
      fallback: 'none if `python3 -m venv` works (ensurepip); else install python3-venv / python3-pip',
    },
    {
      name: 'python3 -m pytest',
      command: ['python3', '-m', 'pytest', '--version'],
      purpose: 'Python tests on the host (the venv installs its own)',
      fallback: 'the deps step installs pytest into the virtual environment',
    },
  ],
  detect: (repo) => readPythonProject(repo).reason,
  commands: (repo) => pythonCommands(repo),
  sandbox: {
    caches: [
      // The environment belongs to the task (it installs this checkout, editable), beside the repository.
      { dir: 'python-venv', perRepository: false, perTask: true, writer: 'deps', env: 'VIRTUAL_ENV' },
      // Downloaded and built wheels, shared by every task.
      { dir: 'pip', perRepository: false, writer: 'deps', env: 'PIP_CACHE_DIR' },
    ],
    // No bytecode in the checkout (it would show up in the change): compileall and imports write it under /tmp.
    env: { PYTHONPYCACHEPREFIX: '/tmp/autodev-pycache', PYTHONDONTWRITEBYTECODE: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONUTF8: '1' },
    offlineEnv: { PIP_NO_INDEX: '1' },
  },
  // The commands run the environment's interpreter through sh; the environment is made from python3.
  versionArgv: () => ['python3', '--version'],
  parse(format, output) {
    if (format === 'pytest') {
      const tests = parsePytestReports(output);
      // No report: pytest did not get to run (a broken conftest, a bad option); the output says why.
      return { diagnostics: tests ? [] : parsePythonBuild(`${output.stdout}\n${output.stderr}`), tests };
    }
    if (format === 'unittest') return { diagnostics: [], tests: parseUnittest(`${output.stdout}\n${output.stderr}`) };
    if (format === 'python-build') return { diagnostics: parsePythonBuild(`${output.stdout}\n${output.stderr}`), tests: null };
    if (format === 'python-lint') return { diagnostics: parsePythonLint(`${output.stdout}\n${output.stderr}`), tests: null };
    return { diagnostics: [], tests: null };
  },
  isTestFile: isPythonTestFile,
  reproduction: {
    conventions:
      'A new pytest module `tests/test_<name>.py` (or beside the existing tests) with plain `def test_…():` functions and `assert`, importing the package under test as the existing tests do. No new dependencies.',
    // pytest takes the file as an argument after the command's own (`sh -c '… pytest "$@"'`); unittest has no such narrowing here.
    narrowToFile: (argv, file) => (argv.some((a) => a.includes('-m pytest')) ? [...argv, file] : null),
  },
  // pytest's names are its node ids (`tests/test_a.py::test_b`), which its command line takes as they are.
  selectTests: (argv, names, format) => (format === 'pytest' && names.every((n) => n.includes('::')) ? [...argv, ...names] : null),
  dependencies: {
    ecosystem: 'pypi',
    manifest: 'pyproject.toml',
    manifestPattern: REQUIREMENTS_PATTERN,
    lockfile: 'poetry.lock',
    lockfiles: ['poetry.lock', 'uv.lock'],
    registry: PYPI,
    memberManifests: () => [],
    declared: (file, text) => pythonDeclared(file, text),
    locked: pythonLocked,
    // uv.lock lists the project itself (editable / virtual): that is not the supply chain.
    localLockedIsOwnCode: true,
    lockInstallScripts: false,
    buildDependenciesRun: false,
    versions: PEP440_VERSIONS,
  },
  context: pythonContext,
};
