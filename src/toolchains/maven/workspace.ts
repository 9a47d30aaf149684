// A multi-module Maven build (a reactor): the module directories of <modules> (nested aggregators
// too), each module's artifactId and the modules it depends on or inherits from, and how a command
// over the whole reactor is narrowed to the touched modules with `-pl <dirs> -am`.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { NarrowedCommand, RepoFacts, TestFailure, Workspace } from '../types.js';
import { moduleDir, parsePom, type Pom } from './pom.js';
import { withDependents } from '../dependents.js';

function pomPath(dir: string): string {
  return dir === '.' ? 'pom.xml' : `${dir}/pom.xml`;
}

/**
 * The module directories a root pom declares, over a file list (the dependency check's view):
 * nested aggregators are followed through the poms `read` can give; a module whose pom is not in
 * `files` is left out.
 */
export function mavenModuleDirs(rootText: string, files: string[], read: (file: string) => string | undefined = () => undefined): string[] {
  const has = new Set(files);
  const out: string[] = [];
  const visit = (dir: string, text: string | undefined): void => {
    if (!text) return;
    let pom: Pom;
    try {
      pom = parsePom(text);
    } catch {
      return;
    }
    for (const module of pom.modules) {
      const child = moduleDir(dir, module);
      if (!child || child === '.' || out.includes(child) || !has.has(pomPath(child))) continue;
      out.push(child);
      visit(child, read(pomPath(child)));
    }
  };
  visit('.', rootText);
  return out.sort();
}

/**
 * The reactor's module directories on disk (`.` first), each module's pom.xml added to
 * `manifests`; empty when the root pom declares no modules.
 */
export async function readMavenMembers(dir: string, manifests: Record<string, string>): Promise<string[]> {
  const root = manifests['pom.xml'];
  if (!root) return [];
  const found: string[] = [];
  const visit = async (at: string, text: string): Promise<void> => {
    let pom: Pom;
    try {
      pom = parsePom(text);
    } catch {
      return;
    }
    for (const module of pom.modules) {
      const child = moduleDir(at, module);
      if (!child || child === '.' || found.includes(child)) continue;
      const file = path.join(dir, pomPath(child));
      const info = await stat(file).catch(() => null);
      if (!info?.isFile() || info.size >= 2_000_000) continue;
      const childText = await readFile(file, 'utf8');
      manifests[pomPath(child)] = childText;
      found.push(child);
      await visit(child, childText);
    }
  };
  await visit('.', root);
  return found.length ? ['.', ...found.sort()] : [];
}

/** The reactor's modules with their artifactIds and the modules each depends on (or inherits from); null when not multi-module. */
export function mavenWorkspace(repo: RepoFacts): Workspace | null {
  const dirs = repo.members?.maven ?? [];
  if (dirs.length < 2) return null;
  const poms: { dir: string; pom: Pom }[] = [];
  for (const dir of dirs) {
    try {
      poms.push({ dir, pom: parsePom(repo.manifests[pomPath(dir)] ?? '') });
    } catch {
      // A module whose pom does not parse is left to Maven to report.
    }
  }
  const byCoords = new Map<string, string>();
  for (const { pom } of poms) if (pom.artifactId) byCoords.set(`${pom.groupId ?? ''}:${pom.artifactId}`, pom.artifactId);
  const members = poms
    .filter(({ pom }) => pom.artifactId)
    .map(({ dir, pom }) => {
      const uses = [
        ...pom.dependencies,
        ...(pom.parent ? [{ groupId: pom.parent.groupId ?? '', artifactId: pom.parent.artifactId ?? '' }] : []),
      ]
        .map((d) => byCoords.get(`${d.groupId}:${d.artifactId}`))
        .filter((name): name is string => !!name && name !== pom.artifactId);
      return { name: pom.artifactId!, dir, dependsOn: [...new Set(uses)] };
    });
  return members.length >= 2 ? { members } : null;
}

/**
 * The modules a change touches plus every module that depends on one of them (a broken API shows
 * in its users); null when a changed file belongs to the root (its pom is every module's parent)
 * or to no module.
 */
function touchedModules(workspace: Workspace, changedFiles: string[]): string[] | null {
  if (changedFiles.length === 0) return null;
  const nested = workspace.members.filter((m) => m.dir !== '.').sort((a, b) => b.dir.length - a.dir.length);
  const touched = new Set<string>();
  for (const file of changedFiles) {
    const owner = nested.find((m) => file.startsWith(`${m.dir}/`));
    if (!owner) return null;
    touched.add(owner.name);
  }
  return withDependents(workspace, touched);
}

/** The modules `-am` adds: everything the named ones depend on or inherit from, transitively. */
function withUpstream(workspace: Workspace, names: string[]): string[] {
  const all = new Set(names);
  const queue = [...names];
  while (queue.length) {
    const member = workspace.members.find((m) => m.name === queue.pop());
    for (const dep of member?.dependsOn ?? []) {
      if (!all.has(dep)) {
        all.add(dep);
        queue.push(dep);
      }
    }
  }
  return workspace.members.filter((m) => all.has(m.name)).map((m) => m.name);
}

/**
 * `mvn … <goals>` narrowed to the touched modules and their dependents (`-pl <dirs> -am`: the
 * modules they need are built in the same reactor, since nothing is installed); `packages` names
 * every module the narrowed run covers. Null when the whole reactor must run, or the command is
 * not mvn, or already names its projects.
 */
export function narrowMaven(argv: string[], workspace: Workspace, changedFiles: string[]): NarrowedCommand | null {
  if (path.basename(argv[0] ?? '') !== 'mvn' || argv.some((a) => a === '-pl' || a === '--projects' || a.startsWith('-pl='))) return null;
  const touched = touchedModules(workspace, changedFiles);
  if (!touched) return null;
  const covered = withUpstream(workspace, touched);
  if (covered.length === workspace.members.length) return null;
  const dirs = workspace.members.filter((m) => touched.includes(m.name)).map((m) => m.dir);
  const list = dirs.join(',');
  return { argv: [argv[0], '-pl', list, '-am', ...argv.slice(1)], packages: covered, label: `-pl ${list} -am` };
}

/**
 * The base's failures as the narrowed run names them: a failure of a module outside the run is
 * dropped (it neither ran nor was fixed). Test names carry their module's directory in a reactor
 * (`core/com.acme.CalcTest#divides`), so the module is known from the name.
 */
export function scopeMavenFailures(failures: TestFailure[], scope: { packages: string[]; workspace: Workspace }): TestFailure[] {
  const dirs = new Set(scope.workspace.members.filter((m) => scope.packages.includes(m.name)).map((m) => m.dir));
  return failures.filter((f) => {
    const slash = f.name.lastIndexOf('/', f.name.indexOf('#') >= 0 ? f.name.indexOf('#') : f.name.length);
    return dirs.has(slash < 0 ? '.' : f.name.slice(0, slash));
  });
}
