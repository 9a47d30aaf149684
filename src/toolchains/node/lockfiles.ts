// pnpm-lock.yaml and Yarn 2+'s yarn.lock, read with a YAML parser into the packages they pin (the
// dependency check compares them as it compares package-lock.json). Yarn 1's yarn.lock has a format
// of its own, for which no parser is installed: it is reported as not read, never guessed at.
import { parse as parseYaml } from 'yaml';
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
  const doc = object(parseYaml(text));
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

/** The packages a yarn.lock pins: Yarn 2+ (YAML, with `__metadata`); Yarn 1's format is refused with a reason. */
export function yarnLocked(text: string): LockedPackage[] {
  if (!/^__metadata:/m.test(text)) {
    throw new Error('a Yarn 1 lockfile, whose format is not read (no parser for it is installed); the package.json files were compared');
  }
  const doc = object(parseYaml(text));
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
