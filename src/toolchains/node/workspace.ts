// A Node workspace (pnpm-workspace.yaml, or package.json `workspaces` for npm and yarn), worked out
// once: its member directories on disk, their names and dependencies on each other, and how a
// recursive run over every member is narrowed to the packages a change touches.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { picomatchLib, yamlLib } from '../../util/libs.js';
import type { NarrowedCommand, RepoFacts, TestFailure, Workspace } from '../types.js';
import { withDependents } from '../dependents.js';

type Json = Record<string, unknown>;

/**
 * The marker after which the Yarn 1 driver's argv (src/toolchains/node/commands.ts) lists the
 * members as `name=dir`; narrowing keeps the touched ones.
 */
export const YARN1_MEMBERS = '--members';

function object(value: unknown): Json | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The member patterns: pnpm-workspace.yaml's `packages`, else package.json's `workspaces` (array or `{ packages }`). */
function workspacePatterns(manifests: Record<string, string>): string[] {
  const yamlText = manifests['pnpm-workspace.yaml'];
  if (yamlText !== undefined) {
    try {
      return strings(object(yamlLib().parse(yamlText))?.packages).map(normalizePattern);
    } catch {
      return [];
    }
  }
  try {
    const doc = object(JSON.parse(manifests['package.json'] ?? ''));
    const raw = Array.isArray(doc?.workspaces) ? doc.workspaces : object(doc?.workspaces)?.packages;
    return strings(raw).map(normalizePattern);
  } catch {
    return [];
  }
}

function normalizePattern(pattern: string): string {
  const negated = pattern.startsWith('!');
  const body = path.posix
    .normalize((negated ? pattern.slice(1) : pattern).replace(/\\/g, '/'))
    .replace(/^\.\//, '')
    .replace(/\/+$/, '');
  return negated ? `!${body}` : body;
}

/** Member directories matching the patterns (`!` ones exclude), over a list of candidate directories. */
function matchMembers(patterns: string[], dirs: string[]): string[] {
  const include = patterns.filter((p) => !p.startsWith('!'));
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  if (include.length === 0) return [];
  const isMember = picomatchLib()(include);
  const isExcluded = exclude.length ? picomatchLib()(exclude) : () => false;
  return dirs.filter((d) => d !== '.' && !d.split('/').includes('..') && isMember(d) && !isExcluded(d)).sort();
}

/** The members' package.json files a pnpm-workspace.yaml names, over a file list (the dependency check's). */
export function pnpmMemberManifests(yamlText: string, files: string[]): string[] {
  const dirs = files
    .filter((f) => f.endsWith('/package.json') && !f.split('/').includes('node_modules'))
    .map((f) => f.slice(0, -'/package.json'.length));
  return matchMembers(workspacePatterns({ 'pnpm-workspace.yaml': yamlText }), dirs).map((dir) => `${dir}/package.json`);
}

/** The workspace's member directories on disk, each member's package.json added to `manifests`. */
export async function readNodeMembers(dir: string, manifests: Record<string, string>): Promise<string[]> {
  const patterns = workspacePatterns(manifests);
  if (!patterns.some((p) => !p.startsWith('!'))) return [];
  const candidates = new Set<string>();
  for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
    for (const rel of await expandSegments(dir, pattern.split('/'))) candidates.add(rel);
  }
  const members: string[] = [];
  for (const rel of matchMembers(patterns, [...candidates])) {
    const manifest = path.join(dir, rel, 'package.json');
    const info = await stat(manifest).catch(() => null);
    if (!info?.isFile() || info.size >= 2_000_000) continue;
    manifests[`${rel}/package.json`] = await readFile(manifest, 'utf8');
    members.push(rel);
  }
  return members;
}

// Patterns are expanded segment by segment (`packages/*`, `apps/*/web`); `**` walks a few levels
// down. node_modules and paths leaving the repository are not followed.
async function expandSegments(dir: string, segments: string[], prefix = '', depth = 0): Promise<string[]> {
  if (segments.length === 0) return prefix ? [prefix] : [];
  const [head, ...rest] = segments;
  if (head === '..' || head === '' || head === '.') return head === '.' ? expandSegments(dir, rest, prefix, depth) : [];
  const join = (name: string) => (prefix ? `${prefix}/${name}` : name);
  if (!picomatchLib().scan(head).isGlob) return expandSegments(dir, rest, join(head), depth);
  const entries = await readdir(path.join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  const match = picomatchLib()(head);
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === '.git' || entry.name === 'node_modules') continue;
    if (head === '**') {
      // `**` matches here (nothing), or one more directory and `**` again.
      if (depth < 4) found.push(...(await expandSegments(dir, segments, join(entry.name), depth + 1)));
      continue;
    }
    if (match(entry.name)) found.push(...(await expandSegments(dir, rest, join(entry.name), depth)));
  }
  if (head === '**') found.push(...(await expandSegments(dir, rest, prefix, depth)));
  return [...new Set(found)];
}

/** The members with their names and dependencies on each other (by name); null when not a workspace. */
export function nodeWorkspace(repo: RepoFacts): Workspace | null {
  const dirs = repo.members?.node ?? [];
  const parsed: { dir: string; name: string; deps: string[] }[] = [];
  for (const dir of dirs) {
    let doc: Json | null;
    try {
      doc = object(JSON.parse(repo.manifests[`${dir}/package.json`] ?? ''));
    } catch {
      continue;
    }
    if (!doc || typeof doc.name !== 'string') continue;
    const deps = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].flatMap((k) =>
      Object.keys(object(doc[k]) ?? {}),
    );
    parsed.push({ dir, name: doc.name, deps });
  }
  if (parsed.length === 0) return null;
  const names = new Set(parsed.map((m) => m.name));
  return {
    members: parsed.map((m) => ({ name: m.name, dir: m.dir, dependsOn: [...new Set(m.deps.filter((d) => names.has(d) && d !== m.name))] })),
  };
}

/**
 * The members a change touches, plus every member that depends on one of them (a broken API shows
 * in its users); null when a changed file belongs to no member (root manifest, lockfile, shared
 * config), so every member must run.
 */
function touchedPackages(workspace: Workspace, changedFiles: string[]): string[] | null {
  if (changedFiles.length === 0) return null;
  const members = [...workspace.members].sort((a, b) => b.dir.length - a.dir.length);
  const touched = new Set<string>();
  for (const file of changedFiles) {
    const owner = members.find((m) => file.startsWith(`${m.dir}/`));
    if (!owner) return null;
    touched.add(owner.name);
  }
  return withDependents(workspace, touched);
}

/**
 * A recursive run narrowed to the touched packages: pnpm's `-r` becomes `--filter <name>` per
 * package, npm's `--workspaces` becomes `--workspace=<name>`, Yarn 2+'s `workspaces foreach --all`
 * gets `--include <name>`, the Yarn 1 driver keeps only their `name=dir` entries. Null when the
 * command is not a recursive run, or the whole workspace must run.
 */
export function narrowNodeCommand(argv: string[], workspace: Workspace, changedFiles: string[]): NarrowedCommand | null {
  const driverAt = argv[0] === 'node' && argv[1] === '-e' ? argv.indexOf(YARN1_MEMBERS) : -1;
  if (driverAt >= 0) {
    const packages = touchedPackages(workspace, changedFiles);
    const listed = argv.slice(driverAt + 1);
    const kept = packages ? listed.filter((entry) => packages.includes(entry.slice(0, entry.indexOf('=')))) : listed;
    if (!packages || kept.length === listed.length) return null;
    const names = kept.map((entry) => entry.slice(0, entry.indexOf('=')));
    // A touched member without a test script has nothing to run: the scope is the members that do.
    return {
      argv: [...argv.slice(0, driverAt + 1), ...kept],
      packages: names,
      label: `members ${names.join(', ') || '(none with tests)'}`,
    };
  }
  const pnpmAt = argv.indexOf('-r');
  const npmAt = argv.indexOf('--workspaces');
  const foreachAt = argv.indexOf('foreach');
  const yarnAt = foreachAt > 0 && argv[foreachAt - 1] === 'workspaces' ? argv.indexOf('--all', foreachAt) : -1;
  if (pnpmAt < 0 && npmAt < 0 && yarnAt < 0) return null;
  const packages = touchedPackages(workspace, changedFiles);
  if (!packages || packages.length === workspace.members.length) return null;
  if (yarnAt >= 0) {
    // `--all` stays: it makes the root the starting point, which `--include` then filters by name.
    const flags = packages.flatMap((p) => ['--include', p]);
    return { argv: [...argv.slice(0, yarnAt + 1), ...flags, ...argv.slice(yarnAt + 1)], packages, label: flags.join(' ') };
  }
  if (pnpmAt >= 0) {
    const flags = packages.flatMap((p) => ['--filter', p]);
    return { argv: [...argv.slice(0, pnpmAt), ...flags, ...argv.slice(pnpmAt + 1)], packages, label: flags.join(' ') };
  }
  const flags = packages.map((p) => `--workspace=${p}`);
  return { argv: [...argv.slice(0, npmAt), ...flags, ...argv.slice(npmAt + 1)], packages, label: flags.join(' ') };
}

/**
 * The base's failing tests as the narrowed run names them: a workspace run names each test
 * `<package>: <test>` (parseWorkspaceTestOutput), so failures of packages outside the scope are
 * dropped (they did not run: neither fixed nor still failing).
 */
export function scopeNodeBaselineFailures(failures: TestFailure[], scope: { packages: string[]; workspace: Workspace }): TestFailure[] {
  const outside = scope.workspace.members.map((m) => m.name).filter((n) => !scope.packages.includes(n));
  return failures.filter((f) => !outside.some((name) => f.name.startsWith(`${name}: `)));
}
