// The dependencies a pom.xml declares, for the dependency check: `groupId:artifactId`, the version
// with `${...}` resolved from <properties> (the module's over its parent's, when the parent is the
// repository's root pom) and, when the entry has none, from <dependencyManagement>. Maven has no
// lockfile: what a pom names is what is fetched.
import path from 'node:path';
import { semverLib } from '../../util/libs.js';
import type { DeclaredDependency, DependencyKind, InstallScript } from '../../depcheck/types.js';
import { interpolate, parsePom, pomProperties, type Pom, type PomDependency } from './pom.js';

export const MAVEN_CENTRAL = 'Maven Central';

/**
 * A Maven version or range as a node-semver range: `1.2.3` exactly (Maven picks the version
 * named), `[1.0,2.0)` and the like as bounds; null when it is not numeric enough to compare.
 */
export function mavenRange(version: string | null): string | null {
  if (!version || version.includes('${')) return null;
  const range = /^([[(])\s*([^,\s]*)\s*(?:,\s*([^\])\s]*))?\s*([\])])$/.exec(version.trim());
  const exact = (v: string): string | null => semverLib().coerce(v)?.version ?? null;
  if (!range) {
    const v = exact(version);
    return v ? `=${v}` : null;
  }
  const [, open, low, high, close] = range;
  // `[1.0]` is exactly 1.0.
  if (high === undefined) return low && open === '[' && close === ']' ? (exact(low) ? `=${exact(low)}` : null) : null;
  const parts: string[] = [];
  if (low) parts.push(`${open === '[' ? '>=' : '>'}${exact(low)}`);
  if (high) parts.push(`${close === ']' ? '<=' : '<'}${exact(high)}`);
  return semverLib().validRange(parts.join(' ') || '*');
}

function kindOf(d: PomDependency): DependencyKind {
  if (d.optional) return 'optional';
  if (d.scope === 'test') return 'dev';
  if (d.scope === 'provided' || d.scope === 'system') return 'build';
  return 'normal';
}

function coords(d: PomDependency): string {
  return `${d.groupId}:${d.artifactId}${d.classifier ? `:${d.classifier}` : ''}`;
}

function parentPom(pom: Pom, rootText: string | undefined, self: string): Pom | null {
  if (!pom.parent || !rootText || self === 'pom.xml') return null;
  try {
    const root = parsePom(rootText);
    return root.artifactId === pom.parent.artifactId ? root : null;
  } catch {
    return null;
  }
}

export function mavenDeclared(
  manifest: string,
  text: string,
  rootText: string | undefined,
): { declared: DeclaredDependency[]; scripts: InstallScript[] } {
  const pom = parsePom(text);
  const parent = parentPom(pom, rootText, manifest);
  const properties = pomProperties(pom, parent ? pomProperties(parent) : {});
  const member = pom.artifactId ?? path.posix.dirname(manifest);
  const resolve = (d: PomDependency) => ({
    ...d,
    groupId: interpolate(d.groupId, properties),
    artifactId: interpolate(d.artifactId, properties),
    version: d.version === null ? null : interpolate(d.version, properties),
  });
  const managed = [...pom.managed, ...(parent?.managed ?? [])].map(resolve);
  const entry = (d: PomDependency, kind: DependencyKind, inherited: boolean): DeclaredDependency => ({
    ecosystem: 'maven',
    manifest,
    member,
    kind,
    target: null,
    name: coords(d),
    package: coords(d),
    requirement: d.version,
    range: mavenRange(d.version),
    source: d.scope === 'system' ? { kind: 'path', location: 'system scope' } : { kind: 'registry', location: MAVEN_CENTRAL },
    features: [],
    defaultFeatures: true,
    optional: d.optional,
    inherited,
  });
  const declared: DeclaredDependency[] = [];
  for (const raw of pom.dependencies) {
    const d = resolve(raw);
    if (d.version !== null) {
      declared.push(entry(d, kindOf(d), false));
      continue;
    }
    // A version from <dependencyManagement> (here or in the parent): the managed entry is compared itself.
    const from = managed.find((m) => m.groupId === d.groupId && m.artifactId === d.artifactId);
    declared.push(entry({ ...d, version: from?.version ?? null }, kindOf(d), true));
  }
  // Managed versions (BOM imports included) steer what the modules get, as a Cargo workspace table does.
  for (const raw of pom.managed) declared.push(entry(resolve(raw), 'workspace', false));
  return { declared, scripts: [] };
}
