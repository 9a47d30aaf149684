// The commands for a Python project. Everything runs in a virtual environment the `deps` step
// creates in the task's workspace, beside the repository (VIRTUAL_ENV, see index.ts): the project
// installed into it (editable, with its test extras) and its dev requirements, fetched once with
// network; build (byte-compile, import), test (pytest's JUnit XML, or unittest) and lint (the
// linters the project configures) then run offline with that environment's interpreter.
import type { RepoFacts, ToolchainCommand, ToolchainCommands } from '../types.js';
import { readPythonProject, type PythonProject } from './project.js';

/** The environment's interpreter; the commands run it through `sh -c`, which expands VIRTUAL_ENV. */
const PY = '"$VIRTUAL_ENV/bin/python"';

/**
 * Create the environment with the interpreter on PATH (the system's: a pyenv shim under a home
 * is not visible in the sandbox) and install into it: with that interpreter's own pip when it has
 * one (`--python` targets the environment, and seeding the environment with pip of its own costs
 * half a minute), else with the pip `ensurepip` seeds. Then drop the `*.egg-info` a setuptools
 * editable install leaves in the checkout (untracked metadata that would show up in the change).
 */
const DEPS_SCRIPT = [
  'set -e',
  'if python3 -m pip --version >/dev/null 2>&1; then',
  '  python3 -m venv --without-pip "$VIRTUAL_ENV"',
  '  pip() { python3 -m pip --python "$VIRTUAL_ENV/bin/python" "$@"; }',
  'else',
  '  python3 -m venv "$VIRTUAL_ENV"',
  `  pip() { ${PY} -m pip "$@"; }`,
  'fi',
  '[ $# -eq 0 ] || pip install --disable-pip-version-check --no-input --progress-bar off "$@"',
  'find . -path ./.git -prune -o -type d -name "*.egg-info" -prune -print | while read -r d; do',
  '  git ls-files --error-unmatch "$d" >/dev/null 2>&1 || rm -rf "$d"',
  'done',
].join('\n');

/**
 * Imports each top-level package (under src/ when there is one) from the working tree, and names
 * the file and line where an import fails: `path:line: error: ImportError: message (importing pkg)`.
 */
const IMPORT_CHECK = [
  'import importlib, os, sys, traceback',
  "root = 'src' if os.path.isdir('src') else '.'",
  'sys.path.insert(0, os.path.abspath(root))',
  "skip = {'tests', 'test', 'docs', 'doc', 'examples', 'benchmarks', 'scripts', 'build', 'dist'}",
  "names = sorted(d for d in os.listdir(root) if d.isidentifier() and d not in skip and os.path.isfile(os.path.join(root, d, '__init__.py')))",
  'failed = 0',
  'for name in names:',
  '    try:',
  '        importlib.import_module(name)',
  '    except BaseException as e:',
  '        failed = 1',
  "        file, line = getattr(e, 'filename', None), getattr(e, 'lineno', None)",
  '        if not isinstance(e, SyntaxError) or not file:',
  '            here = [f for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename).startswith(os.getcwd() + os.sep)]',
  '            file, line = (here[-1].filename, here[-1].lineno) if here else (None, None)',
  "        where = f'{os.path.relpath(file)}:{line}: ' if file and line else ''",
  "        msg = str(e.msg if isinstance(e, SyntaxError) else e).splitlines()[0] if str(e) else ''",
  "        print(f'{where}error: {type(e).__name__}: {msg} (importing {name})')",
  'sys.exit(failed)',
].join('\n');

/** What compileall skips: hidden directories and what builds and installs leave behind. */
const COMPILE_EXCLUDE = String.raw`/\.|/(build|dist|node_modules|site-packages|__pypackages__)/`;

const BUILD_SCRIPT = ['rc=0', `${PY} -m compileall -q -x '${COMPILE_EXCLUDE}' . || rc=1`, `${PY} -c "$1" || rc=1`, 'exit $rc'].join('\n');

function inVenv(script: string, args: string[], format: string, extra: Partial<ToolchainCommand> = {}): ToolchainCommand {
  return { argv: ['sh', '-c', script, 'python', ...args], format, ...extra };
}

export function pythonCommands(repo: RepoFacts): ToolchainCommands {
  const project = readPythonProject(repo);
  const notes: string[] = [];
  return {
    deps: depsCommand(project, notes),
    build: inVenv(BUILD_SCRIPT, [IMPORT_CHECK], 'python-build'),
    test: testCommand(project, notes),
    lint: lintCommand(project, repo, notes),
    notes,
  };
}

function depsCommand(project: PythonProject, notes: string[]): ToolchainCommand {
  const args: string[] = [];
  if (project.installable) {
    args.push('-e', project.extras.length ? `.[${project.extras.join(',')}]` : '.');
    notes.push(`installed editable into a virtual environment${project.extras.length ? ` with extras ${project.extras.join(', ')}` : ''}`);
  }
  for (const file of project.requirements) args.push('-r', file);
  // The runner and the linters the project configures, where it does not install them itself.
  if (project.pytest) args.push('pytest');
  if (project.ruff) args.push('ruff');
  if (project.flake8) args.push('flake8');
  if (project.mypy) args.push('mypy');
  return inVenv(DEPS_SCRIPT, args, 'plain');
}

function testCommand(project: PythonProject, notes: string[]): ToolchainCommand {
  if (project.pytest) {
    // xunit1 writes each case's file, which makes the name a pytest node id; a module that fails to
    // import is one failure, not the end of the run (the base's broken module must not hide the rest).
    return inVenv(
      `exec ${PY} -m pytest "$@"`,
      ['-p', 'no:cacheprovider', '--continue-on-collection-errors', '-o', 'junit_family=xunit1', '--junitxml={reports}/junit.xml'],
      'pytest',
    );
  }
  notes.push('no pytest configuration or dependency: the tests run with unittest');
  const dir = project.testDir;
  const start = dir ? (project.testDirIsPackage ? ['-s', dir, '-t', '.'] : ['-s', dir]) : [];
  return inVenv(`exec ${PY} -m unittest "$@"`, ['discover', '-v', ...start], 'unittest');
}

function lintCommand(project: PythonProject, repo: RepoFacts, notes: string[]): ToolchainCommand | null {
  const lines: string[] = [];
  if (project.ruff) lines.push(`${PY} -m ruff check --no-cache --output-format=concise . || rc=1`);
  if (project.flake8) lines.push(`${PY} -m flake8 . || rc=1`);
  if (project.mypy) {
    // mypy's own `files` setting when there is one; else the sources. No cache: it would land in the checkout.
    const configured = /^\s*files\s*=/m.test(mypyConfigText(repo));
    const target = configured ? '' : repo.files.includes('src/') ? ' src' : ' .';
    lines.push(`${PY} -m mypy --cache-dir=/dev/null --show-column-numbers --no-error-summary --no-color-output${target} || rc=1`);
  }
  if (lines.length === 0) return null;
  notes.push(`lint: ${[project.ruff && 'ruff', project.flake8 && 'flake8', project.mypy && 'mypy'].filter(Boolean).join(', ')}`);
  return inVenv(['rc=0', ...lines, 'exit $rc'].join('\n'), [], 'python-lint');
}

function mypyConfigText(repo: RepoFacts): string {
  const m = repo.manifests;
  const pyproject = m['pyproject.toml'] ?? '';
  const section = /^\[tool\.mypy\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(pyproject)?.[1] ?? '';
  return [section, m['mypy.ini'] ?? '', m['.mypy.ini'] ?? ''].join('\n');
}
