// package.json and package-lock.json (lockfile v1, v2 and v3). Specs are read with npm's own parser.
import path from 'node:path';
import type npa from 'npm-package-arg';
import { npaLib, picomatchLib, semverLib } from '../../util/libs.js';
import type { DeclaredDependency, DependencyKind, DependencySource, InstallScript, LockedPackage } from '../../depcheck/types.js';

type Json = Record<string, unknown>;

const TABLES: [string, DependencyKind][] = [
  ['dependencies', 'normal'],
  ['devDependencies', 'dev'],
  ['optionalDependencies', 'optional'],
  ['peerDependencies', 'peer'],
];

/** Lifecycle scripts npm runs on install (of the project, or of the package once published). */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'] as const;

function object(value: unknown): Json | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

/** An npm registry spec (`^1.2`, `1.x`, a dist-tag) as a range; a tag allows whatever it points at. */
function npmRange(spec: string, isTag: boolean): string | null {
  if (isTag) return '*';
  return semverLib().validRange(spec);
}

function parsePackageJson(text: string): Json {
  const doc = object(JSON.parse(text));
  if (!doc) throw new Error('not a JSON object');
  return doc;
}

/** The workspace package directories of a root package.json (`workspaces`), over the file list. */
export function npmWorkspaceDirs(rootText: string, files: string[]): string[] {
  const doc = parsePackageJson(rootText);
  const raw = Array.isArray(doc.workspaces) ? doc.workspaces : object(doc.workspaces)?.packages;
  const patterns = (Array.isArray(raw) ? raw : [])
    .filter((p): p is string => typeof p === 'string')
    .map((p) => p.replace(/^\.\//, '').replace(/\/+$/, ''));
  if (patterns.length === 0) return [];
  const match = picomatchLib()(patterns);
  return files
    .filter((f) => f.endsWith('/package.json') && !f.split('/').includes('node_modules'))
    .map((f) => f.slice(0, -'/package.json'.length))
    .filter((dir) => match(dir))
    .sort();
}

/** What an npm spec points at: the registry (a range, a tag, an alias), git, a path, a URL. */
function npmSpec(
  name: string,
  spec: string,
): { source: DependencySource; requirement: string | null; range: string | null; package: string } {
  if (spec.startsWith('workspace:'))
    return { source: { kind: 'workspace', location: spec }, requirement: spec, range: null, package: name };
  if (spec.startsWith('link:')) return { source: { kind: 'path', location: spec.slice(5) }, requirement: null, range: null, package: name };
  let parsed: npa.Result;
  try {
    // `where` only matters for relative paths, which are reported as written.
    parsed = npaLib().resolve(name, spec, '/');
  } catch {
    return { source: { kind: 'other', location: spec }, requirement: spec, range: null, package: name };
  }
  switch (parsed.type) {
    case 'version':
    case 'range':
    case 'tag':
      return {
        source: { kind: 'registry', location: 'npm' },
        requirement: spec,
        range: npmRange(spec, parsed.type === 'tag'),
        package: name,
      };
    case 'alias': {
      const sub = (parsed as npa.AliasResult).subSpec;
      const target = sub.name ?? name;
      return {
        source: { kind: 'registry', location: target === name ? 'npm' : `npm:${target}` },
        requirement: sub.rawSpec || '*',
        range: npmRange(sub.rawSpec || '*', sub.type === 'tag'),
        package: target,
      };
    }
    case 'git': {
      // hosted-git-info has `https()`; the bundled typings of npm-package-arg leave it out.
      const hosted = parsed.hosted as unknown as { https(options: { noCommittish: boolean }): string } | undefined;
      const url = hosted ? hosted.https({ noCommittish: true }) : (parsed.fetchSpec ?? spec);
      return {
        source: { kind: 'git', location: url },
        requirement: parsed.gitCommittish ?? parsed.gitRange ?? null,
        range: null,
        package: name,
      };
    }
    case 'file':
    case 'directory':
      return { source: { kind: 'path', location: spec.replace(/^file:/, '') }, requirement: null, range: null, package: name };
    case 'remote':
      return { source: { kind: 'url', location: parsed.fetchSpec ?? spec }, requirement: null, range: null, package: name };
    default:
      return { source: { kind: 'other', location: spec }, requirement: spec, range: null, package: name };
  }
}

export function npmDeclared(manifest: string, text: string): { declared: DeclaredDependency[]; scripts: InstallScript[] } {
  const doc = parsePackageJson(text);
  const member = typeof doc.name === 'string' ? doc.name : path.posix.dirname(manifest);
  const declared: DeclaredDependency[] = [];
  for (const [key, kind] of TABLES) {
    for (const [name, raw] of Object.entries(object(doc[key]) ?? {})) {
      if (typeof raw !== 'string') continue;
      const spec = npmSpec(name, raw);
      declared.push({
        ecosystem: 'npm',
        manifest,
        member,
        kind,
        target: null,
        name,
        package: spec.package,
        requirement: spec.requirement,
        range: spec.range,
        source: spec.source,
        features: [],
        defaultFeatures: true,
        optional: kind === 'optional',
        inherited: false,
      });
    }
  }
  const scripts: InstallScript[] = [];
  const table = object(doc.scripts) ?? {};
  for (const script of INSTALL_SCRIPTS) {
    const command = table[script];
    if (typeof command === 'string') scripts.push({ manifest, member, script, command });
  }
  return { declared, scripts };
}

/** A lockfile's `resolved` URL as a source: the npm registry (a tarball under `/-/`), git, a path, a URL. */
export function lockSource(resolved: unknown, link = false): DependencySource {
  if (link || typeof resolved !== 'string' || resolved === '') return { kind: 'local', location: '' };
  if (resolved.startsWith('file:')) return { kind: 'path', location: resolved.slice(5) };
  if (/^git(\+[a-z]+)?:/.test(resolved)) return { kind: 'git', location: resolved.replace(/^git\+/, '').replace(/#.*$/, '') };
  try {
    const url = new URL(resolved);
    // A registry tarball: `<registry>/<name>/-/<name>-<version>.tgz`.
    if (url.pathname.includes('/-/')) return { kind: 'registry', location: url.host === 'registry.npmjs.org' ? 'npm' : url.host };
    return { kind: 'url', location: resolved };
  } catch {
    return { kind: 'other', location: resolved };
  }
}

/** The packages a package-lock.json (or npm-shrinkwrap.json) pins; workspace links are left out. */
export function npmLocked(text: string): LockedPackage[] {
  const doc = parsePackageJson(text);
  const out: LockedPackage[] = [];
  const packages = object(doc.packages);
  if (packages) {
    for (const [key, raw] of Object.entries(packages)) {
      const entry = object(raw);
      const at = key.lastIndexOf('node_modules/');
      if (!entry || at < 0) continue;
      const name = typeof entry.name === 'string' ? entry.name : key.slice(at + 'node_modules/'.length);
      if (entry.link === true) continue;
      const version = typeof entry.version === 'string' ? entry.version : '';
      out.push({
        ecosystem: 'npm',
        name,
        version,
        source: lockSource(entry.resolved, false),
        installScript: entry.hasInstallScript === true,
      });
    }
    return out;
  }
  // Lockfile v1: nested `dependencies`.
  const walk = (deps: Json | null): void => {
    for (const [name, raw] of Object.entries(deps ?? {})) {
      const entry = object(raw);
      if (!entry) continue;
      const version = typeof entry.version === 'string' ? entry.version : '';
      const local = version.startsWith('file:');
      out.push({
        ecosystem: 'npm',
        name,
        version: local ? '' : version,
        source: local ? { kind: 'path', location: version.slice(5) } : lockSource(entry.resolved, false),
      });
      walk(object(entry.dependencies));
    }
  };
  walk(object(doc.dependencies));
  return out;
}
