// A go.work workspace: its modules (go.work's `use` directories), which of them require which, and
// how a command over every module is narrowed to the modules a change touches (and those that
// require them, since a changed API shows in its users).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { NarrowedCommand, RepoFacts, TestFailure, Workspace } from '../types.js';
import { goModulePath, goRequires, goWorkUses } from './manifest.js';
import { withDependents } from '../dependents.js';

/** The package pattern covering one module directory (`./...` for the root). */
export function modulePattern(dir: string): string {
  return dir === '.' ? './...' : `./${dir}/...`;
}

/** go.work's module directories on disk, each one's go.mod added to `manifests`. */
export async function readGoMembers(dir: string, manifests: Record<string, string>): Promise<string[]> {
  const work = manifests['go.work'];
  if (!work) return [];
  const members: string[] = [];
  for (const rel of goWorkUses(work)) {
    const file = rel === '.' ? 'go.mod' : `${rel}/go.mod`;
    const info = await stat(path.join(dir, file)).catch(() => null);
    if (!info?.isFile() || info.size >= 2_000_000) continue;
    manifests[file] = await readFile(path.join(dir, file), 'utf8');
    members.push(rel);
  }
  return members;
}

/** The workspace's modules, named by module path, with the members each requires; null without go.work. */
export function goWorkspace(repo: RepoFacts): Workspace | null {
  const dirs = repo.members?.go ?? [];
  if (dirs.length === 0) return null;
  const parsed = dirs.flatMap((dir) => {
    const text = repo.manifests[dir === '.' ? 'go.mod' : `${dir}/go.mod`] ?? '';
    const name = goModulePath(text);
    return name ? [{ dir, name, requires: [...goRequires(text).keys()] }] : [];
  });
  if (parsed.length === 0) return null;
  const names = new Set(parsed.map((m) => m.name));
  return {
    members: parsed.map((m) => ({ name: m.name, dir: m.dir, dependsOn: m.requires.filter((r) => names.has(r) && r !== m.name) })),
  };
}

/** The member owning a file (the deepest directory holding it); null for a workspace-wide file. */
function owner(workspace: Workspace, file: string): string | null {
  // The deepest directory first; the root (`.`) owns only what no other member does.
  const byDepth = [...workspace.members].sort((a, b) => (a.dir === '.' ? 1 : b.dir === '.' ? -1 : b.dir.length - a.dir.length));
  for (const m of byDepth) if (m.dir === '.' || file.startsWith(`${m.dir}/`)) return m.name;
  return null;
}

/** The touched modules plus every member requiring one of them; null when the whole workspace must run. */
export function touchedModules(workspace: Workspace, changedFiles: string[]): string[] | null {
  if (changedFiles.length === 0) return null;
  const touched = new Set<string>();
  for (const file of changedFiles) {
    if (file === 'go.work' || file === 'go.work.sum') return null;
    const name = owner(workspace, file);
    if (!name) return null;
    touched.add(name);
  }
  return withDependents(workspace, touched);
}

/** The command with its module patterns (`./a/...`) cut down to the touched modules'; null when it must cover all. */
export function narrowGoCommand(argv: string[], workspace: Workspace, changedFiles: string[]): NarrowedCommand | null {
  const patterns = new Set(workspace.members.map((m) => modulePattern(m.dir)));
  if (!argv.some((a) => patterns.has(a))) return null;
  const modules = touchedModules(workspace, changedFiles);
  if (!modules || modules.length === workspace.members.length) return null;
  const keep = new Set(workspace.members.filter((m) => modules.includes(m.name)).map((m) => modulePattern(m.dir)));
  const at = argv.findIndex((a) => patterns.has(a));
  const narrowed = [...argv.slice(0, at).filter((a) => !patterns.has(a)), ...keep, ...argv.slice(at).filter((a) => !patterns.has(a))];
  return { argv: narrowed, packages: modules, label: [...keep].join(' ') };
}

/**
 * The base's failures as a run over `packages` (module paths) names them: tests are named by
 * import path, which does not change with the scope, so failures of modules outside it are dropped
 * (they did not run) and the rest kept as they are.
 */
export function scopeGoBaselineFailures(failures: TestFailure[], scope: { packages: string[]; workspace: Workspace }): TestFailure[] {
  const all = [...scope.workspace.members.map((m) => m.name)].sort((a, b) => b.length - a.length);
  const moduleOf = (name: string): string | null =>
    all.find((m) => name === m || name.startsWith(`${m}/`) || name.startsWith(`${m}.`)) ?? null;
  return failures.filter((f) => {
    const module = moduleOf(f.name);
    return module === null || scope.packages.includes(module);
  });
}
