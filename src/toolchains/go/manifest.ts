// go.mod, go.work and go.sum as data. The go command's own parser (golang.org/x/mod/modfile) is Go
// code, not a package we can import, so the few directives the dependency check and the workspace
// need are read here: `module`, `require`, `replace` (one line or a block each) and go.work's `use`.
import path from 'node:path';
import type { DeclaredDependency, DependencySource, LockedPackage } from '../../depcheck/types.js';

/** One directive: its verb and its arguments (quoted ones unquoted), `// indirect` noted. */
interface Directive {
  verb: string;
  args: string[];
  indirect: boolean;
}

/** The directives of a go.mod or go.work, blocks (`require ( … )`) flattened into one per line. */
export function goDirectives(text: string): Directive[] {
  const out: Directive[] = [];
  let block: string | null = null;
  for (const raw of text.split('\n')) {
    const comment = raw.indexOf('//');
    const indirect = comment >= 0 && /^\/\/\s*indirect\b/.test(raw.slice(comment).trim());
    const line = (comment >= 0 ? raw.slice(0, comment) : raw).trim();
    if (line === '') continue;
    if (block !== null) {
      if (line === ')') block = null;
      else out.push({ verb: block, args: words(line), indirect });
      continue;
    }
    const [verb, ...args] = words(line);
    if (args.length === 1 && args[0] === '(') block = verb;
    else out.push({ verb, args, indirect });
  }
  return out;
}

function words(line: string): string[] {
  return (line.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|\S+/g) ?? []).map((w) => (/^["`]/.test(w) ? w.slice(1, -1) : w));
}

/** The module path a go.mod declares; null when it declares none. */
export function goModulePath(text: string): string | null {
  return goDirectives(text).find((d) => d.verb === 'module')?.args[0] ?? null;
}

/** The modules a go.mod requires (path → version). */
export function goRequires(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of goDirectives(text)) if (d.verb === 'require' && d.args.length >= 2) out.set(d.args[0], d.args[1]);
  return out;
}

/** The directories go.work's `use` directives name, relative to the repository root (`.` for the root). */
export function goWorkUses(text: string): string[] {
  const dirs = goDirectives(text)
    .filter((d) => d.verb === 'use' && d.args[0])
    .map((d) => path.posix.normalize(d.args[0].replace(/\\/g, '/')).replace(/\/+$/, '') || '.');
  return [...new Set(dirs.filter((dir) => !dir.startsWith('..') && !path.posix.isAbsolute(dir)))];
}

interface Replacement {
  /** The version the replacement applies to; null for every version. */
  version: string | null;
  source: DependencySource;
  /** The replacing module's version (a module replacement), or null (a directory). */
  toVersion: string | null;
}

/**
 * A go.mod's `replace` directives by module path. A replacement is a source switch: a directory
 * (`=> ../fork`) is a path source, another module (`=> github.com/me/fork v1.2.3`) another
 * registry location.
 */
export function goReplacements(text: string): Map<string, Replacement[]> {
  const out = new Map<string, Replacement[]>();
  for (const d of goDirectives(text)) {
    if (d.verb !== 'replace') continue;
    const arrow = d.args.indexOf('=>');
    if (arrow < 1) continue;
    const [from, fromVersion] = d.args.slice(0, arrow);
    const [to, toVersion] = d.args.slice(arrow + 1);
    if (!from || !to) continue;
    const local = to.startsWith('./') || to.startsWith('../') || to.startsWith('/') || to === '.' || to === '..';
    const source: DependencySource = local ? { kind: 'path', location: to } : { kind: 'registry', location: to };
    const list = out.get(from) ?? [];
    list.push({ version: fromVersion ?? null, source, toVersion: local ? null : (toVersion ?? null) });
    out.set(from, list);
  }
  return out;
}

/** The source a module is fetched from: the proxy, or what a `replace` switches it to. */
function sourceOf(module: string, version: string | null, replacements: Map<string, Replacement[]>, registry: string): DependencySource {
  const list = replacements.get(module) ?? [];
  const hit = list.find((r) => r.version !== null && r.version === version) ?? list.find((r) => r.version === null);
  if (!hit) return { kind: 'registry', location: registry };
  if (hit.source.kind === 'path') return hit.source;
  return { kind: 'registry', location: `${hit.source.location}${hit.toVersion ? `@${hit.toVersion}` : ''}` };
}

/**
 * A Go requirement as a node-semver range: the exact version. Minimal version selection builds
 * with that version unless another module asks for a newer one, so a lower one is a downgrade (as
 * a minimum, `>=`, it would read as a loosening).
 */
function goRange(version: string): string | null {
  const m = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?:\+incompatible)?$/.exec(version);
  return m ? m[1] : null;
}

/**
 * Every module a go.mod requires, with the source its `replace` directives give it. An `// indirect`
 * requirement is listed too (go.mod pins it; a change to it is a change to the build), as kind
 * `normal` like the rest: Go has no dev or build dependencies.
 */
export function goDeclared(manifest: string, text: string, registry: string): DeclaredDependency[] {
  const member = goModulePath(text) ?? (path.posix.dirname(manifest) === '.' ? 'module' : path.posix.dirname(manifest));
  const replacements = goReplacements(text);
  const out: DeclaredDependency[] = [];
  const required = goRequires(text);
  for (const [module, version] of required) {
    out.push({
      ecosystem: 'go',
      manifest,
      member,
      kind: 'normal',
      target: null,
      name: module,
      package: module,
      requirement: version,
      range: goRange(version),
      source: sourceOf(module, version, replacements, registry),
      features: [],
      defaultFeatures: true,
      optional: false,
      inherited: false,
    });
  }
  return out;
}

/**
 * The module versions go.sum holds checksums for. A `/go.mod`-only line (the module's go.mod was
 * read to resolve the graph, its code never downloaded) is not a package the build uses, so only
 * lines for the module's content count.
 */
export function goSumLocked(text: string, registry: string): LockedPackage[] {
  const out: LockedPackage[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const [module, version] = line.trim().split(/\s+/);
    if (!module || !version || version.endsWith('/go.mod')) continue;
    const key = `${module}@${version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ecosystem: 'go', name: module, version, source: { kind: 'registry', location: registry } });
  }
  return out;
}
