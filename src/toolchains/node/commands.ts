// The package manager's commands for a repository: install (by its lockfile), the build and lint
// scripts (or tsc when TypeScript is installed), and a test run that names every test.
import type { HostFacts, RepoFacts, ToolchainCommand, ToolchainCommands, WorkspaceMember } from '../types.js';
import { YARN1_MEMBERS, nodeWorkspace } from './workspace.js';

export function nodeCommands(repo: RepoFacts, host: HostFacts): ToolchainCommands {
  const pkg = readJson(repo.manifests['package.json']);
  const scripts = (pkg?.scripts ?? {}) as Record<string, string>;
  const manager = nodePackageManager(repo, host);
  const notes = [...manager.notes];
  const workspace = nodeWorkspace(repo);
  const memberPkgs = (workspace?.members ?? []).map((m) => readJson(repo.manifests[`${m.dir}/package.json`]));
  const hasDeps = [pkg, ...memberPkgs].some((p) => Object.keys({ ...(p?.dependencies ?? {}), ...(p?.devDependencies ?? {}) }).length > 0);
  const run = manager.kind === 'npm' ? ['npm', 'run'] : [...manager.argv, 'run'];
  const devDeps = { ...(pkg?.dependencies ?? {}), ...(pkg?.devDependencies ?? {}) } as Record<string, unknown>;
  // `tsc` only when the project installs TypeScript; `--offline`, because without it npx asks the
  // registry for a missing package and, in a sandbox with no network, waits until the step times out.
  // Yarn's Plug'n'Play leaves no node_modules/.bin for npx: yarn runs the binary itself.
  const tsc =
    manager.kind === 'yarn' && manager.berry
      ? [...manager.argv, 'tsc', '--noEmit']
      : ['npx', '--no-install', '--offline', 'tsc', '--noEmit'];
  const lint: ToolchainCommand | null = scripts.lint
    ? { argv: [...run, 'lint'], format: 'plain' }
    : repo.files.includes('tsconfig.json') && 'typescript' in devDeps
      ? { argv: tsc, format: 'tsc' }
      : null;
  const testedMembers = (workspace?.members ?? []).filter((_, i) => typeof memberPkgs[i]?.scripts?.test === 'string');
  const recursive = workspace ? recursiveTest(manager, scripts.test, testedMembers) : null;
  if (workspace) {
    const names = workspace.members.map((m) => m.name);
    const list = `${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}`;
    notes.push(
      recursive
        ? `${manager.kind} workspace with ${names.length} member(s) (${list}): the tests run in every member, narrowed to the touched packages at run time (and the members that depend on them); the baseline covers the whole workspace.`
        : `${manager.kind} workspace with ${names.length} member(s) (${list}): the root's test script runs as it is, not narrowed.`,
    );
    // Yarn 2+ stops at the first member whose tests fail; the members after it do not run.
    if (recursive && manager.berry)
      notes.push(
        'Yarn runs the members one after the other and stops at the first whose tests fail: the members after it report no tests.',
      );
    else if (recursive && manager.kind === 'yarn')
      notes.push(
        "Yarn 1's `workspaces run` has no filter and stops at the first failing member: each member's tests run as `yarn --cwd <member> run test`, one after the other, all of them even when one fails.",
      );
  }
  return {
    // A workspace installs even without dependencies: the install links the members to each other.
    deps: hasDeps || workspace ? installCommand(manager, repo) : null,
    build: scripts.build ? { argv: [...run, 'build'], format: 'plain' } : null,
    test: recursive ?? { argv: testArgv(manager, verboseTestArgs(scripts.test)), format: 'node-test' },
    lint,
    notes,
    ...(workspace && recursive ? { workspace } : {}),
  };
}

interface PackageManager {
  kind: 'npm' | 'pnpm' | 'yarn';
  /** Yarn 2 and later ("berry"), whose flags and layout differ from Yarn 1's. */
  berry: boolean;
  /** How the package manager is started: `corepack pnpm@10.28.1+sha1.…`, `corepack yarn` (pinned), `pnpm`. */
  argv: string[];
  notes: string[];
}

/**
 * Versions used when the project pins none, by what its lockfile needs: corepack's own defaults
 * (0.34), with the hash corepack knows them by, so the download is checked against a hash rather
 * than the registry's signatures. pnpm 10 reads lockfile v9 (pnpm 9's too); v6 is pnpm 8's, v5 pnpm 7's.
 */
const DEFAULT_VERSIONS = {
  pnpm10: 'pnpm@10.28.1+sha1.20817ab95fb7f61154ba5ff3bcb61f27defb6142',
  pnpm8: 'pnpm@8.15.9+sha1.aa4bc353b5f59fe1f1df5d802ce049ddf7f3c60e',
  pnpm7: 'pnpm@7.33.7+sha1.0a91240fea52ec90d7ed374186f4688e1d13efa7',
  yarn1: 'yarn@1.22.22+sha1.ac34549e6aa8e7ead463a7407e1c7390f61a6610',
  yarn4: 'yarn@4.12.0+sha224.877304a94a6946ab1d58a358df5ff8af2f7c9d86ea506f05f5c9df05',
};

/**
 * The package manager and how to start it: the one package.json's `packageManager` pins, else the
 * one whose lockfile is there. pnpm and yarn run through corepack (the pinned version, or a default
 * the lockfile fits), which the deps step downloads into the shared COREPACK_HOME; without corepack,
 * a pnpm or yarn on PATH; without either, npm.
 */
function nodePackageManager(repo: RepoFacts, host: HostFacts): PackageManager {
  const pin = /^(npm|pnpm|yarn)@(\d+)[^\s]*$/.exec(String(readJson(repo.manifests['package.json'])?.packageManager ?? '').trim());
  const kind = pin
    ? (pin[1] as PackageManager['kind'])
    : repo.files.includes('pnpm-lock.yaml')
      ? 'pnpm'
      : repo.files.includes('yarn.lock')
        ? 'yarn'
        : 'npm';
  const yarnLock = repo.manifests['yarn.lock'] ?? '';
  const berry = kind === 'yarn' && (pin ? Number(pin[2]) >= 2 : /^__metadata:/m.test(yarnLock));
  if (kind === 'npm') return { kind, berry: false, argv: ['npm'], notes: [] };
  const why = pin ? `package.json pins ${pin[0]}` : `${kind === 'pnpm' ? 'pnpm-lock.yaml' : 'yarn.lock'} says ${kind}`;
  if (host.programs.corepack) {
    if (pin) return { kind, berry, argv: ['corepack', kind], notes: [`${why}; run through corepack`] };
    const version =
      kind === 'pnpm'
        ? DEFAULT_VERSIONS[pnpmForLockfile(repo.manifests['pnpm-lock.yaml'] ?? '')]
        : DEFAULT_VERSIONS[berry ? 'yarn4' : 'yarn1'];
    return {
      kind,
      berry,
      argv: ['corepack', version],
      notes: [`${why} and pins no version (packageManager); ${version.split('+')[0]} is used, through corepack`],
    };
  }
  if (host.programs[kind]) return { kind, berry, argv: [kind], notes: [`${why}; corepack is not on PATH, so the ${kind} on PATH is used`] };
  return { kind: 'npm', berry: false, argv: ['npm'], notes: [`${why}, but neither corepack nor ${kind} is on PATH: npm is used`] };
}

function pnpmForLockfile(lock: string): 'pnpm10' | 'pnpm8' | 'pnpm7' {
  const version = Number(/^lockfileVersion:\s*'?(\d+(?:\.\d+)?)/m.exec(lock)?.[1] ?? 9);
  return version >= 7 ? 'pnpm10' : version >= 6 ? 'pnpm8' : 'pnpm7';
}

// The install is frozen to the lockfile when there is one (CI mode would refuse one without).
function installCommand(manager: PackageManager, repo: RepoFacts): ToolchainCommand {
  const locked = (file: string) => repo.files.includes(file);
  if (manager.kind === 'pnpm') {
    return { argv: [...manager.argv, 'install', locked('pnpm-lock.yaml') ? '--frozen-lockfile' : '--no-frozen-lockfile'], format: 'plain' };
  }
  if (manager.kind === 'yarn') {
    const frozen = manager.berry
      ? locked('yarn.lock')
        ? '--immutable'
        : '--no-immutable'
      : locked('yarn.lock')
        ? '--frozen-lockfile'
        : '--no-lockfile';
    return { argv: [...manager.argv, 'install', frozen, ...(manager.berry ? [] : ['--non-interactive'])], format: 'plain' };
  }
  return { argv: locked('package-lock.json') ? ['npm', 'ci'] : ['npm', 'install'], format: 'plain' };
}

/**
 * The workspace's tests as one run over the members, which verify can narrow (pnpm's `-r`, npm's
 * `--workspaces`, Yarn 2+'s `workspaces foreach --all`, the Yarn 1 driver's member list) and whose
 * output names the member of each test: when the root has no test script of its own, or its script
 * only runs the members'. Null otherwise (the root's script runs).
 */
function recursiveTest(manager: PackageManager, script: string | undefined, tested: WorkspaceMember[]): ToolchainCommand | null {
  if (script && !/(^|\s)(-r|--recursive|--filter|--workspaces|-ws)(\s|$)|workspaces (run|foreach)|\b(lerna|turbo|nx)\b/.test(script))
    return null;
  // One member at a time: each one's output stays together under its `> name@version test` header.
  if (manager.kind === 'pnpm')
    return { argv: [...manager.argv, '-r', '--no-bail', '--workspace-concurrency=1', 'test'], format: 'node-test-workspace' };
  if (manager.kind === 'npm') return { argv: ['npm', 'test', '--workspaces', '--if-present'], format: 'node-test-workspace' };
  // Yarn 2+: one member after the other, each output line prefixed `[name]: ` (--verbose); members
  // without a test script are skipped. Yarn 1's `workspaces run` has no filter to narrow it by.
  if (manager.berry)
    return { argv: [...manager.argv, 'workspaces', 'foreach', '--all', '--verbose', 'run', 'test'], format: 'node-test-workspace' };
  // Yarn 1's `workspaces run test` can neither be filtered nor made to go on past a failing member.
  if (tested.length === 0) return null;
  return { argv: yarn1MembersTest(manager.argv, tested), format: 'node-test-workspace' };
}

/**
 * Runs `yarn --cwd <dir> run test` in each member, one after the other, every member even when one
 * fails, each output opened by the `> name test` header the workspace parser reads (npm's own
 * header); exits 1 when any member failed. Node is in every Node sandbox, and a driver in the argv
 * keeps the step one command the plan can show.
 */
const YARN1_DRIVER = [
  "const { spawnSync } = require('node:child_process');",
  'const args = process.argv.slice(1);',
  `const at = args.indexOf('${YARN1_MEMBERS}');`,
  'let failed = 0;',
  'for (const member of args.slice(at + 1)) {',
  "  const eq = member.indexOf('=');",
  "  process.stdout.write('\\n> ' + member.slice(0, eq) + ' test\\n');",
  "  const run = spawnSync(args[0], [...args.slice(1, at), '--cwd', member.slice(eq + 1), 'run', 'test'], { stdio: ['ignore', 'inherit', 'inherit'] });",
  '  if (run.status !== 0) failed = 1;',
  '}',
  'process.exit(failed);',
].join('\n');

function yarn1MembersTest(yarn: string[], members: WorkspaceMember[]): string[] {
  return ['node', '-e', YARN1_DRIVER, ...yarn, YARN1_MEMBERS, ...members.map((m) => `${m.name}=${m.dir}`)];
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
function testArgv(manager: PackageManager, extra: string[]): string[] {
  if (manager.kind === 'npm') return ['npm', 'test', ...(extra.length ? ['--', ...extra] : [])];
  return [...manager.argv, 'test', ...extra];
}

function readJson(text: string | undefined): Record<string, any> | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    return null;
  }
}

/** A test file as the runners print it, safe to pass as their path filter (a regex for jest, a substring for vitest). */
const PLAIN_TEST_FILE = /^[\w@./-]+\.[cm]?[jt]sx?$/;

/**
 * The test command narrowed to the suspected flaky tests, for jest and vitest where the command
 * reaches the runner (the extra arguments the plan gave it, `--verbose` for jest and
 * `--reporter=verbose` for vitest, say which runs and that `npm test -- …` gets to it): `-t` with a
 * pattern matching the tests' own titles at the end of their full names (a test of the same title
 * in another suite runs too, which decides nothing), and their files as path filters. Other runners,
 * a script that is more than the runner, and workspace runs are not narrowed.
 */
export function selectNodeTests(argv: string[], names: string[], format: string): string[] | null {
  if (format !== 'node-test' || names.length === 0) return null;
  if (!argv.includes('--verbose') && !argv.includes('--reporter=verbose')) return null;
  const titles = new Set<string>();
  const files = new Set<string>();
  for (const name of names) {
    const parts = name.split(' > ');
    const title = parts[parts.length - 1].trim();
    if (!title) return null;
    titles.add(title);
    if (parts.length > 1 && PLAIN_TEST_FILE.test(parts[0])) files.add(parts[0]);
    else files.add('');
  }
  const escaped = [...titles].map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // Every name must say its file for the files to narrow the run; else all files run, filtered by title.
  const paths = files.has('') ? [] : [...files];
  return [...argv, '-t', `(?:${escaped.join('|')})$`, ...paths];
}
