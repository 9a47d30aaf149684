// The package manager's commands for a repository: install (by its lockfile), the build and lint
// scripts (or tsc when TypeScript is installed), and a test run that names every test.
import type { HostFacts, RepoFacts, ToolchainCommand, ToolchainCommands } from '../types.js';

export function nodeCommands(repo: RepoFacts, host: HostFacts): ToolchainCommands {
  const pkg = readJson(repo.manifests['package.json']);
  const scripts = (pkg?.scripts ?? {}) as Record<string, string>;
  const manager = nodePackageManager(repo, host);
  const hasDeps = Object.keys({ ...(pkg?.dependencies ?? {}), ...(pkg?.devDependencies ?? {}) }).length > 0;
  const deps: ToolchainCommand | null = !hasDeps
    ? null
    : manager === 'pnpm'
      ? { argv: ['pnpm', 'install', '--frozen-lockfile'], format: 'plain' }
      : manager === 'yarn'
        ? { argv: ['yarn', 'install', '--frozen-lockfile'], format: 'plain' }
        : { argv: repo.files.includes('package-lock.json') ? ['npm', 'ci'] : ['npm', 'install'], format: 'plain' };
  const run = manager === 'npm' ? ['npm', 'run'] : [manager, 'run'];
  const devDeps = { ...(pkg?.dependencies ?? {}), ...(pkg?.devDependencies ?? {}) } as Record<string, unknown>;
  // `tsc` only when the project installs TypeScript; `--offline`, because without it npx asks the
  // registry for a missing package and, in a sandbox with no network, waits until the step times out.
  const lint: ToolchainCommand | null = scripts.lint
    ? { argv: [...run, 'lint'], format: 'plain' }
    : repo.files.includes('tsconfig.json') && 'typescript' in devDeps
      ? { argv: ['npx', '--no-install', '--offline', 'tsc', '--noEmit'], format: 'tsc' }
      : null;
  return {
    deps,
    build: scripts.build ? { argv: [...run, 'build'], format: 'plain' } : null,
    test: { argv: testArgv(manager, verboseTestArgs(scripts.test)), format: 'node-test' },
    lint,
    notes: manager !== 'npm' ? [`lockfile says ${manager}`] : [],
  };
}

/**
 * Arguments that make the project's test runner name every test it ran, passing ones included: the
 * verdict needs the names (a test that failed on the base must be seen passing, not just absent).
 * jest names passing tests only with --verbose when it runs several files; vitest's default reporter
 * names none. Added only when the script is the runner alone, where `npm test -- …` reaches it.
 */
function verboseTestArgs(script: string | undefined): string[] {
  const words = (script ?? '').trim().split(/\s+/);
  if (!script || /[;&|<>`$]/.test(script)) return [];
  if (words[0] === 'jest' && !words.includes('--verbose')) return ['--verbose'];
  if (words[0] === 'vitest' && !words.some((w) => w.startsWith('--reporter'))) {
    return [...(words[1] === 'run' || words.includes('--run') ? [] : ['--run']), '--reporter=verbose'];
  }
  return [];
}

// npm needs `--` before arguments meant for the script; pnpm and yarn pass them on as they are (and
// would hand the script a literal `--`, which jest reads as the end of its options).
function testArgv(manager: string, extra: string[]): string[] {
  if (manager === 'npm') return ['npm', 'test', ...(extra.length ? ['--', ...extra] : [])];
  return [manager, 'test', ...extra];
}

function nodePackageManager(repo: RepoFacts, host: HostFacts): 'npm' | 'pnpm' | 'yarn' {
  if (repo.files.includes('pnpm-lock.yaml') && host.programs.pnpm) return 'pnpm';
  if (repo.files.includes('yarn.lock') && host.programs.yarn) return 'yarn';
  return 'npm';
}

function readJson(text: string | undefined): Record<string, any> | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    return null;
  }
}
