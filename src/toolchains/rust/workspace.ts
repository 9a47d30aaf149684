// A Cargo workspace, worked out once: its member directories (from `[workspace] members` minus
// `exclude`, on disk when the facts are read and over git's file lists for the dependency check,
// by the same matcher), their names and path dependencies on each other, and how a command over
// the whole workspace is narrowed to the packages a change touches.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { picomatchLib, tomlLib } from '../../util/libs.js';
import type { NarrowedCommand, RepoFacts, TestFailure, Workspace } from '../types.js';
import { withDependents } from '../dependents.js';

type Table = Record<string, unknown>;

function table(value: unknown): Table | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Table) : null;
}

/** The member directories of a workspace root, expanded over the file list (members minus exclude). */
export function cargoMemberDirs(rootText: string, files: string[]): string[] {
  const workspace = table(tomlLib().parse(rootText).workspace);
  if (!workspace) return [];
  const members = (Array.isArray(workspace.members) ? workspace.members : [])
    .filter((m): m is string => typeof m === 'string')
    .map(normalizeMember);
  const excludes = (Array.isArray(workspace.exclude) ? workspace.exclude : [])
    .filter((m): m is string => typeof m === 'string')
    .map(normalizeMember);
  if (members.length === 0) return [];
  const isMember = picomatchLib()(members);
  const isExcluded = excludes.length ? picomatchLib()(excludes) : () => false;
  return files
    .filter((f) => f.endsWith('/Cargo.toml'))
    .map((f) => f.slice(0, -'/Cargo.toml'.length))
    .filter((dir) => !dir.split('/').includes('..') && isMember(dir) && !isExcluded(dir))
    .sort();
}

/**
 * The workspace's member directories on disk (`.` first for a root package), each member's
 * Cargo.toml added to `manifests`. The patterns are expanded on disk segment by segment, then
 * matched by cargoMemberDirs, the same function the dependency check uses on git's file lists.
 */
export async function readCargoMembers(dir: string, manifests: Record<string, string>): Promise<string[]> {
  const root = manifests['Cargo.toml'];
  if (!root) return [];
  let workspace: { members?: unknown; exclude?: unknown } | undefined;
  let hasPackage = false;
  try {
    const doc = tomlLib().parse(root) as Record<string, any>;
    workspace = doc.workspace;
    hasPackage = !!doc.package;
  } catch {
    return [];
  }
  if (!workspace) return [];
  const patterns = Array.isArray(workspace.members) ? workspace.members.filter((m): m is string => typeof m === 'string') : [];
  const candidates = new Set<string>();
  for (const pattern of patterns) {
    for (const rel of await expandSegments(dir, normalizeMember(pattern).split('/'))) {
      if (rel !== '.') candidates.add(`${rel}/Cargo.toml`);
    }
  }
  const members: string[] = [];
  for (const rel of cargoMemberDirs(root, [...candidates])) {
    const manifest = path.join(dir, rel, 'Cargo.toml');
    const info = await stat(manifest).catch(() => null);
    if (!info?.isFile() || info.size >= 2_000_000) continue;
    manifests[`${rel}/Cargo.toml`] = await readFile(manifest, 'utf8');
    members.push(rel);
  }
  if (members.length === 0) return [];
  return [...(hasPackage ? ['.'] : []), ...members];
}

function normalizeMember(pattern: string): string {
  return path.posix.normalize(pattern.replace(/\\/g, '/')).replace(/^\.\//, '').replace(/\/+$/, '');
}

// Cargo matches members segment by segment (`crates/*`, `libs/*/core`); a path that leaves the
// repository is not followed.
async function expandSegments(dir: string, segments: string[], prefix = ''): Promise<string[]> {
  if (segments.length === 0) return [prefix || '.'];
  const [head, ...rest] = segments;
  if (head === '..' || head === '') return [];
  if (!picomatchLib().scan(head).isGlob) return expandSegments(dir, rest, prefix ? `${prefix}/${head}` : head);
  const match = picomatchLib()(head);
  const entries = await readdir(path.join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === '.git' || !match(entry.name)) continue;
    found.push(...(await expandSegments(dir, rest, prefix ? `${prefix}/${entry.name}` : entry.name)));
  }
  return found;
}

export function dependencyTables(doc: Record<string, any>): Record<string, unknown>[] {
  const tables = [doc.dependencies, doc['dev-dependencies'], doc['build-dependencies']];
  for (const target of Object.values((doc.target ?? {}) as Record<string, any>)) {
    tables.push(target?.dependencies, target?.['dev-dependencies'], target?.['build-dependencies']);
  }
  return tables.filter((t): t is Record<string, unknown> => !!t && typeof t === 'object');
}

/** The workspace's members with their names and path dependencies on each other; null when not a workspace. */
export function cargoWorkspace(repo: RepoFacts): Workspace | null {
  const dirs = repo.members?.rust ?? [];
  if (dirs.length === 0) return null;
  let workspaceDeps: Record<string, unknown> = {};
  try {
    workspaceDeps = ((tomlLib().parse(repo.manifests['Cargo.toml'] ?? '') as Record<string, any>).workspace?.dependencies ?? {}) as Record<
      string,
      unknown
    >;
  } catch {
    return null;
  }
  const parsed: { dir: string; name: string; paths: string[] }[] = [];
  for (const dir of dirs) {
    const text = repo.manifests[dir === '.' ? 'Cargo.toml' : `${dir}/Cargo.toml`];
    let doc: Record<string, any>;
    try {
      doc = tomlLib().parse(text ?? '') as Record<string, any>;
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
export function touchedCargoPackages(workspace: Workspace, changedFiles: string[]): string[] | null {
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
  return withDependents(workspace, touched);
}

/** `--workspace` replaced by `-p <name>` for each package; the argv unchanged when it has no `--workspace`. */
export function narrowCargoArgv(argv: string[], packages: string[]): string[] {
  const at = argv.indexOf('--workspace');
  if (at < 0 || packages.length === 0) return argv;
  return [...argv.slice(0, at), ...packages.flatMap((p) => ['-p', p]), ...argv.slice(at + 1)];
}

/** The command narrowed to the touched packages; null when the whole workspace must run. */
export function narrowCommand(argv: string[], workspace: Workspace, changedFiles: string[]): NarrowedCommand | null {
  if (!argv.includes('--workspace')) return null;
  const packages = touchedCargoPackages(workspace, changedFiles);
  if (!packages || packages.length === workspace.members.length) return null;
  return { argv: narrowCargoArgv(argv, packages), packages, label: packages.map((p) => `-p ${p}`).join(' ') };
}

/**
 * The base's failing tests as the narrowed run would name them: failures of packages outside the
 * scope are dropped (they did not run, so they are neither fixed nor still failing), and because
 * the test parser prefixes `lib`/`main` with the crate only when a run covers several packages,
 * `alpha/lib::t` becomes `lib::t` when the change's run did not prefix. Doc tests carry their
 * workspace-relative file, and other targets are named alike in both runs.
 */
export function scopeBaselineFailures(
  failures: TestFailure[],
  scope: { packages: string[]; workspace: Workspace },
  changeNames: string[],
): TestFailure[] {
  const crate = (name: string) => name.replace(/-/g, '_');
  const inScope = new Set(scope.packages.map(crate));
  const prefixed = changeNames.some((n) => /^[A-Za-z0-9_]+\/(?:lib|main)(?:::|$)/.test(n));
  const nested = scope.workspace.members.filter((m) => m.dir !== '.').sort((a, b) => b.dir.length - a.dir.length);
  const root = scope.workspace.members.find((m) => m.dir === '.');
  const scoped: TestFailure[] = [];
  for (const failure of failures) {
    const unit = /^([A-Za-z0-9_]+)\/((?:lib|main)(?:::.*)?)$/.exec(failure.name);
    if (unit) {
      if (inScope.has(unit[1])) scoped.push(prefixed ? failure : { ...failure, name: unit[2] });
      continue;
    }
    const doc = /^(\S+\.rs) - /.exec(failure.name);
    if (doc) {
      const owner = nested.find((m) => doc[1].startsWith(`${m.dir}/`)) ?? root;
      if (!owner || inScope.has(crate(owner.name))) scoped.push(failure);
      continue;
    }
    scoped.push(failure);
  }
  return scoped;
}
