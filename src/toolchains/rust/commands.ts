// The toolchain table: how to recognise a project and which commands build, test and lint it.
// Adding a language is a new row here (and parsers in src/toolchains/), not new control flow.
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { Config } from '../config/schema.js';
import type { ToolchainId } from './types.js';
import type { HostFacts, RepoFacts } from './facts.js';

export type OutputFormat = 'cargo-json' | 'cargo-test' | 'node-test' | 'tsc' | 'plain';

export interface ToolchainCommand {
  argv: string[];
  /** How the verify step reads the command's output. */
  format: OutputFormat;
}

export interface ToolchainPlan {
  id: ToolchainId;
  reason: string;
  deps: ToolchainCommand | null;
  build: ToolchainCommand | null;
  test: ToolchainCommand;
  lint: ToolchainCommand | null;
  notes: string[];
  /** A Cargo workspace: build/test/lint carry `--workspace`, which verify narrows to touched packages. */
  workspace?: CargoWorkspace;
}

export interface CargoMember {
  /** Package name as in its Cargo.toml (`-p <name>`). */
  name: string;
  /** Directory relative to the repository root; `.` for a root package. */
  dir: string;
  /** Names of the workspace members this one depends on through a path (or workspace path) dependency. */
  dependsOn: string[];
}

export interface CargoWorkspace {
  members: CargoMember[];
}

interface ToolchainRow {
  id: ToolchainId;
  /** Returns the reason (the file that told us) when the repo is of this kind. */
  detect(repo: RepoFacts): string | null;
  commands(repo: RepoFacts, host: HostFacts): Omit<ToolchainPlan, 'id' | 'reason'>;
}

const rust: ToolchainRow = {
  id: 'rust',
  detect: (repo) => (repo.files.includes('Cargo.toml') ? 'Cargo.toml' : null),
  commands(repo, host) {
    const notes: string[] = [];
    const locked = repo.files.includes('Cargo.lock');
    const toolchain = pinnedRustToolchain(repo);
    const plus: string[] = [];
    if (toolchain) {
      const installed = host.rustToolchains.some((t) => t === toolchain || t.startsWith(`${toolchain}-`));
      if (installed) {
        plus.push(`+${toolchain}`);
        notes.push(`rust-toolchain pins ${toolchain}; it is installed and used.`);
      } else {
        notes.push(
          `rust-toolchain pins ${toolchain}, which is not installed; the default toolchain is used (run \`rustup toolchain install ${toolchain}\` to honour it; nothing is downloaded in the sandbox).`,
        );
      }
    }
    const needsFetch = rustHasDependencies(repo);
    const workspace = cargoWorkspace(repo);
    // The plan exists before the change does, so it names the whole workspace; verify narrows it.
    const scope = workspace ? ['--workspace'] : [];
    if (workspace) {
      const names = workspace.members.map((m) => m.name);
      notes.push(
        `Cargo workspace with ${names.length} member(s) (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}): build, test and lint run with --workspace, narrowed to the touched packages at run time (-p <name>, plus the members that depend on them); the baseline covers the whole workspace.`,
      );
    }
    return {
      deps: needsFetch ? { argv: ['cargo', ...plus, 'fetch', ...(locked ? ['--locked'] : [])], format: 'plain' } : null,
      build: { argv: ['cargo', ...plus, 'build', '--offline', ...scope, '--all-targets', '--message-format=json'], format: 'cargo-json' },
      test: { argv: ['cargo', ...plus, 'test', '--offline', ...scope, '--no-fail-fast'], format: 'cargo-test' },
      lint: {
        argv: ['cargo', ...plus, 'clippy', '--offline', ...scope, '--all-targets', '--message-format=json'],
        format: 'cargo-json',
      },
      notes,
      ...(workspace ? { workspace } : {}),
    };
  },
};

const node: ToolchainRow = {
  id: 'node',
  detect: (repo) => (repo.files.includes('package.json') ? 'package.json' : null),
  commands(repo, host) {
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
  },
};

/**
 * Arguments that make the project's test runner name every test it ran, passing ones included: the
 * verdict needs the names (a test that failed on the base must be seen passing, not just absent).
 * jest names passing tests only with --verbose when it runs several files; vitest's default reporter
 * names none. Added only when the script is the runner alone, where `npm test -- …` reaches it.
 */
export function verboseTestArgs(script: string | undefined): string[] {
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

export const TOOLCHAINS: readonly ToolchainRow[] = [rust, node];

/** Picks the first row that recognises the repo, then applies the config's command overrides. */
export function resolveToolchain(repo: RepoFacts, host: HostFacts, config: Config): ToolchainPlan | null {
  for (const row of TOOLCHAINS) {
    const reason = row.detect(repo);
    if (!reason) continue;
    const base = row.commands(repo, host);
    const overrides = config.toolchains[row.id] ?? {};
    const pick = (key: 'deps' | 'build' | 'test' | 'lint', current: ToolchainCommand | null): ToolchainCommand | null =>
      overrides[key] ? { argv: overrides[key]!, format: current?.format ?? 'plain' } : current;
    return {
      id: row.id,
      reason: `found ${reason}`,
      deps: pick('deps', base.deps),
      build: pick('build', base.build),
      test: pick('test', base.test)!,
      lint: pick('lint', base.lint),
      notes: base.notes,
      ...(base.workspace ? { workspace: base.workspace } : {}),
    };
  }
  return null;
}

function pinnedRustToolchain(repo: RepoFacts): string | null {
  const toml = repo.manifests['rust-toolchain.toml'];
  if (toml) {
    try {
      const channel = (parseToml(toml) as { toolchain?: { channel?: unknown } }).toolchain?.channel;
      if (typeof channel === 'string') return channel;
    } catch {
      return null;
    }
  }
  const plain = repo.manifests['rust-toolchain']?.trim();
  return plain && !plain.includes('\n') ? plain : null;
}

/** True when the crate (or any workspace member) declares a dependency that must be fetched. */
function rustHasDependencies(repo: RepoFacts): boolean {
  const lock = repo.manifests['Cargo.lock'];
  if (lock && /source = "/.test(lock)) return true;
  const manifest = repo.manifests['Cargo.toml'];
  if (!manifest) return false;
  let rootDoc: Record<string, any>;
  try {
    rootDoc = parseToml(manifest) as Record<string, any>;
  } catch {
    return true;
  }
  const workspaceDeps = (rootDoc.workspace?.dependencies ?? {}) as Record<string, unknown>;
  // `{ workspace = true }` is as local as the workspace's own entry for that name.
  const remote = (name: string, spec: unknown): boolean => {
    if (!spec || typeof spec !== 'object') return true;
    if ('path' in spec) return false;
    if ((spec as { workspace?: unknown }).workspace === true) return remote(name, workspaceDeps[name]);
    return true;
  };
  const members = (repo.cargoMembers ?? []).filter((dir) => dir !== '.');
  const docs: Record<string, any>[] = [rootDoc];
  for (const dir of members) {
    try {
      docs.push(parseToml(repo.manifests[`${dir}/Cargo.toml`] ?? '') as Record<string, any>);
    } catch {
      return true;
    }
  }
  return docs.some((doc) => dependencyTables(doc).some((t) => Object.entries(t).some(([name, spec]) => remote(name, spec))));
}

function dependencyTables(doc: Record<string, any>): Record<string, unknown>[] {
  const tables = [doc.dependencies, doc['dev-dependencies'], doc['build-dependencies']];
  for (const target of Object.values((doc.target ?? {}) as Record<string, any>)) {
    tables.push(target?.dependencies, target?.['dev-dependencies'], target?.['build-dependencies']);
  }
  return tables.filter((t): t is Record<string, unknown> => !!t && typeof t === 'object');
}

/** The workspace's members with their names and path dependencies on each other; null when not a workspace. */
export function cargoWorkspace(repo: RepoFacts): CargoWorkspace | null {
  const dirs = repo.cargoMembers ?? [];
  if (dirs.length === 0) return null;
  let workspaceDeps: Record<string, unknown> = {};
  try {
    workspaceDeps = ((parseToml(repo.manifests['Cargo.toml'] ?? '') as Record<string, any>).workspace?.dependencies ?? {}) as Record<string, unknown>;
  } catch {
    return null;
  }
  const parsed: { dir: string; name: string; paths: string[] }[] = [];
  for (const dir of dirs) {
    const text = repo.manifests[dir === '.' ? 'Cargo.toml' : `${dir}/Cargo.toml`];
    let doc: Record<string, any>;
    try {
      doc = parseToml(text ?? '') as Record<string, any>;
    } catch {
      continue;
    }
    const name = doc.package?.name;
    if (typeof name !== 'string') continue;
    const paths: string[] = [];
    for (const table of dependencyTables(doc)) {
      for (const [dep, spec] of Object.entries(table)) {
        const own = spec && typeof spec === 'object' ? (spec as { path?: unknown; workspace?: unknown }) : null;
        const shared = own?.workspace === true ? (workspaceDeps[dep] as { path?: unknown } | undefined) : undefined;
        // A member's own path is relative to its dir; a [workspace.dependencies] path to the root.
        if (typeof own?.path === 'string') paths.push(path.posix.normalize(path.posix.join(dir, own.path)));
        else if (shared && typeof shared === 'object' && typeof shared.path === 'string') paths.push(path.posix.normalize(shared.path));
      }
    }
    parsed.push({ dir, name, paths });
  }
  if (parsed.length === 0) return null;
  const byDir = new Map(parsed.map((m) => [m.dir, m.name]));
  return {
    members: parsed.map((m) => ({
      name: m.name,
      dir: m.dir,
      dependsOn: [...new Set(m.paths.map((p) => byDir.get(p.replace(/\/+$/, '') || '.')).filter((n): n is string => !!n && n !== m.name))],
    })),
  };
}

/**
 * The packages a change touches, plus every member that depends on one of them (a broken API
 * shows in its users); null when a changed file belongs to no member (root manifest, lockfile,
 * shared config), so the whole workspace must run.
 */
export function touchedCargoPackages(workspace: CargoWorkspace, changedFiles: string[]): string[] | null {
  if (changedFiles.length === 0) return null;
  const nested = workspace.members.filter((m) => m.dir !== '.').sort((a, b) => b.dir.length - a.dir.length);
  const root = workspace.members.find((m) => m.dir === '.');
  const touched = new Set<string>();
  for (const file of changedFiles) {
    const owner = nested.find((m) => file.startsWith(`${m.dir}/`));
    if (owner) {
      touched.add(owner.name);
      continue;
    }
    // Outside every nested member: the root package owns it, unless it is workspace-wide.
    if (!root || file === 'Cargo.toml' || file === 'Cargo.lock' || file.startsWith('.cargo/') || /^rust-toolchain/.test(file)) return null;
    touched.add(root.name);
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const member of workspace.members) {
      if (!touched.has(member.name) && member.dependsOn.some((d) => touched.has(d))) {
        touched.add(member.name);
        grew = true;
      }
    }
  }
  return workspace.members.map((m) => m.name).filter((n) => touched.has(n));
}

/** `--workspace` replaced by `-p <name>` for each package; the argv unchanged when it has no `--workspace`. */
export function narrowCargoArgv(argv: string[], packages: string[]): string[] {
  const at = argv.indexOf('--workspace');
  if (at < 0 || packages.length === 0) return argv;
  return [...argv.slice(0, at), ...packages.flatMap((p) => ['-p', p]), ...argv.slice(at + 1)];
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
