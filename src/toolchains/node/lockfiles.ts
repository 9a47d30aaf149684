// pnpm-lock.yaml and Yarn 2+'s yarn.lock, read with a YAML parser, and Yarn 1's yarn.lock, read with
// Yarn's own parser, into the packages they pin (the dependency check compares them as it compares
// package-lock.json).
import { yamlLib, yarnLockfileLib } from '../../util/libs.js';
import type { DependencySource, LockedPackage } from '../../depcheck/types.js';
import { lockSource } from './manifest.js';

type Json = Record<string, unknown>;

function object(value: unknown): Json | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

/** `name@version` (the name may be scoped), a pnpm key's peer suffix `(react@18.0.0)` left out. */
function splitNameVersion(spec: string): { name: string; version: string } | null {
  const bare = spec.replace(/^\//, '').replace(/\(.*$/, '');
  const at = bare.indexOf('@', 1);
  if (at > 0) return { name: bare.slice(0, at), version: bare.slice(at + 1).replace(/_.*$/, '') };
  // lockfile v5: `/name/1.2.3` and `/@scope/name/1.2.3`
  const slash = bare.lastIndexOf('/');
  return slash > 0 ? { name: bare.slice(0, slash), version: bare.slice(slash + 1).replace(/_.*$/, '') } : null;
}

function pnpmSource(resolution: Json | null): DependencySource {
  if (!resolution) return { kind: 'other', location: '' };
  if (resolution.type === 'git' && typeof resolution.repo === 'string') return { kind: 'git', location: resolution.repo };
  if (typeof resolution.directory === 'string') return { kind: 'path', location: resolution.directory };
  if (typeof resolution.tarball === 'string') return lockSource(resolution.tarball);
  return { kind: 'registry', location: 'npm' };
}

/** The packages a pnpm-lock.yaml (v5, v6, v9) pins; workspace members (linked, not in `packages`) are not among them. */
export function pnpmLocked(text: string): LockedPackage[] {
  const doc = object(yamlLib().parse(text));
  if (!doc) throw new Error('not a YAML mapping');
  const out: LockedPackage[] = [];
  for (const [key, raw] of Object.entries(object(doc.packages) ?? {})) {
    const entry = object(raw) ?? {};
    const id =
      typeof entry.name === 'string' && typeof entry.version === 'string'
        ? { name: entry.name, version: entry.version }
        : splitNameVersion(key);
    if (!id) continue;
    out.push({
      ecosystem: 'npm',
      name: id.name,
      version: id.version,
      source: pnpmSource(object(entry.resolution)),
      // pnpm 6–8 mark packages with install scripts; lockfile v9 no longer says.
      installScript: entry.requiresBuild === true,
    });
  }
  return out;
}

/** Where a Yarn 2+ `resolution` (`is-number@npm:7.0.0`, `a@workspace:packages/a`) comes from; null for the project's own. */
function berrySource(resolution: string): DependencySource | null {
  const protocol = resolution.slice(resolution.indexOf('@', 1) + 1);
  if (protocol.startsWith('workspace:')) return null;
  if (protocol.startsWith('npm:')) return { kind: 'registry', location: 'npm' };
  if (/^(file|portal|link):/.test(protocol)) return { kind: 'path', location: protocol.replace(/^\w+:/, '') };
  if (/^(git|github|git\+\w+):|\.git#|#commit=/.test(protocol)) return { kind: 'git', location: protocol.replace(/#.*$/, '') };
  if (/^https?:/.test(protocol)) return { kind: 'url', location: protocol };
  return { kind: 'other', location: protocol };
}

/** Where a Yarn 1 entry comes from: its `resolved` URL, else (a `file:`/`link:` spec has none) its key's spec. */
function classicSource(spec: string, resolved: string | undefined): DependencySource {
  if (!resolved) {
    const protocol = spec.slice(spec.indexOf('@', 1) + 1);
    if (/^(file|link):/.test(protocol)) return { kind: 'path', location: protocol.replace(/^\w+:/, '') };
    return { kind: 'local', location: '' };
  }
  // `#<sha1>` after a tarball URL is its checksum; after a git URL, the commit (left out, as for npm).
  const source = lockSource(resolved.replace(/#.*$/, ''));
  // Yarn 1's default registry is npm's, under another host name.
  if (source.kind === 'registry' && source.location === 'registry.yarnpkg.com') return { kind: 'registry', location: 'npm' };
  return source;
}

/**
 * The packages a Yarn 1 yarn.lock pins. Each entry is keyed by every spec it satisfies
 * (`a@^1.0.0, a@^1.1.0`), so one name@version is listed once. Workspace members are not in it.
 */
function classicLocked(text: string): LockedPackage[] {
  const parsed = yarnLockfileLib().parse(text);
  if (parsed.type === 'conflict') throw new Error('it has unresolved merge conflicts');
  const out = new Map<string, LockedPackage>();
  for (const [spec, entry] of Object.entries(parsed.object)) {
    const name = spec.slice(0, spec.indexOf('@', 1));
    if (!name || typeof entry.version !== 'string') continue;
    const key = `${name}@${entry.version}`;
    if (!out.has(key)) out.set(key, { ecosystem: 'npm', name, version: entry.version, source: classicSource(spec, entry.resolved) });
  }
  return [...out.values()];
}

/** The packages a yarn.lock pins: Yarn 2+ (YAML, with `__metadata`) or Yarn 1 (its own format). */
export function yarnLocked(text: string): LockedPackage[] {
  if (!/^__metadata:/m.test(text)) return classicLocked(text);
  const doc = object(yamlLib().parse(text));
  if (!doc) throw new Error('not a YAML mapping');
  const out: LockedPackage[] = [];
  for (const [key, raw] of Object.entries(doc)) {
    const entry = object(raw);
    if (key === '__metadata' || !entry || typeof entry.resolution !== 'string' || typeof entry.version !== 'string') continue;
    const source = berrySource(entry.resolution);
    if (!source) continue;
    const name = entry.resolution.slice(0, entry.resolution.indexOf('@', 1));
    // Yarn 2+ keeps packages with install scripts under `dependenciesMeta`/`built` in the project, not in the lockfile.
    out.push({ ecosystem: 'npm', name, version: entry.version, source });
  }
  return out;
}
