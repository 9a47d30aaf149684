// Cargo.toml and Cargo.lock, read with a real TOML parser.
import path from 'node:path';
import { tomlLib, semverLib } from '../../util/libs.js';
import type { CrateTraits, DeclaredDependency, DependencyKind, DependencySource, LockedPackage } from '../../depcheck/types.js';

type Table = Record<string, unknown>;

const CRATES_IO_INDEX = /^(registry\+https:\/\/github\.com\/rust-lang\/crates\.io-index|sparse\+https:\/\/index\.crates\.io\/?)$/;

function table(value: unknown): Table | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Table) : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * A Cargo requirement as a node-semver range. Cargo reads a bare `1.2.3` as `^1.2.3` (npm as
 * `=1.2.3`) and joins comparators with commas (npm with spaces).
 */
function cargoRange(requirement: string): string | null {
  const parts = requirement
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return null;
  const mapped = parts.map((p) => (/^\d/.test(p) ? `^${p}` : p.replace(/^=\s*/, '=')));
  return semverLib().validRange(mapped.join(' '));
}

export function parseCargoToml(text: string): Table {
  return tomlLib().parse(text) as Table;
}

function sourceOf(spec: Table): DependencySource {
  const git = str(spec.git);
  if (git) return { kind: 'git', location: git };
  const p = str(spec.path);
  if (p) return { kind: 'path', location: p };
  const index = str(spec['registry-index']);
  if (index) return { kind: 'registry', location: index };
  return { kind: 'registry', location: str(spec.registry) ?? 'crates.io' };
}

function gitRef(spec: Table): string | null {
  for (const key of ['rev', 'tag', 'branch']) {
    const value = str(spec[key]);
    if (value) return `${key} ${value}`;
  }
  return null;
}

const TABLES: [string, DependencyKind][] = [
  ['dependencies', 'normal'],
  ['dev-dependencies', 'dev'],
  ['dev_dependencies', 'dev'],
  ['build-dependencies', 'build'],
  ['build_dependencies', 'build'],
];

/**
 * Every dependency a Cargo.toml declares: its own tables, `[target.<cfg>.*]` and
 * `[workspace.dependencies]`. A `{ workspace = true }` entry takes requirement and source from
 * the root's workspace table (passed in `workspaceDeps`), features from both.
 */
export function cargoDeclared(manifest: string, text: string, workspaceDeps: Table = {}): DeclaredDependency[] {
  const doc = parseCargoToml(text);
  const pkg = table(doc.package);
  const dir = path.posix.dirname(manifest);
  const member = str(pkg?.name) ?? (dir === '.' ? 'workspace' : dir);
  const out: DeclaredDependency[] = [];
  const read = (deps: unknown, kind: DependencyKind, target: string | null, who: string): void => {
    for (const [name, raw] of Object.entries(table(deps) ?? {})) {
      let spec: Table = typeof raw === 'string' ? { version: raw } : (table(raw) ?? {});
      const inherited = spec.workspace === true;
      const own = spec;
      if (inherited) {
        const shared = workspaceDeps[name];
        const base: Table = typeof shared === 'string' ? { version: shared } : (table(shared) ?? {});
        const features = [...asStrings(base.features), ...asStrings(own.features)];
        spec = { ...base, features, optional: own.optional ?? base.optional };
        // A [workspace.dependencies] path is relative to the root; report it from the member's dir.
        if (typeof base.path === 'string') spec.path = path.posix.relative(dir, path.posix.normalize(base.path)) || '.';
      }
      const requirement = str(spec.version);
      const source = sourceOf(spec);
      const ref = source.kind === 'git' ? gitRef(spec) : null;
      out.push({
        ecosystem: 'cargo',
        manifest,
        member: who,
        kind,
        target,
        name,
        package: str(spec.package) ?? name,
        requirement: requirement ?? ref,
        range: requirement ? cargoRange(requirement) : null,
        source,
        features: [...new Set(asStrings(spec.features))].sort(),
        defaultFeatures: (spec['default-features'] ?? spec.default_features) !== false,
        optional: spec.optional === true,
        inherited,
      });
    }
  };
  for (const [key, kind] of TABLES) read(doc[key], kind, null, member);
  for (const [cfg, value] of Object.entries(table(doc.target) ?? {})) {
    for (const [key, kind] of TABLES) read(table(value)?.[key], kind, cfg, member);
  }
  const workspace = table(doc.workspace);
  if (workspace) read(workspace.dependencies, 'workspace', null, 'workspace');
  return out;
}

/** The root's `[workspace.dependencies]`, which members' `{ workspace = true }` entries inherit. */
export function cargoWorkspaceDeps(rootText: string | undefined): Table {
  if (!rootText) return {};
  try {
    return table(table(parseCargoToml(rootText).workspace)?.dependencies) ?? {};
  } catch {
    return {};
  }
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A Cargo.lock `source` as a source: crates.io, another registry, or git (the revision left out). */
function cargoLockSource(source: string | null): DependencySource {
  if (!source) return { kind: 'local', location: '' };
  if (CRATES_IO_INDEX.test(source)) return { kind: 'registry', location: 'crates.io' };
  const [scheme, ...rest] = source.split('+');
  const url = rest.join('+');
  if (scheme === 'registry' || scheme === 'sparse') return { kind: 'registry', location: url };
  if (scheme === 'git') return { kind: 'git', location: url.replace(/#.*$/, '') };
  if (scheme === 'path') return { kind: 'path', location: url };
  return { kind: 'other', location: source };
}

export function cargoLocked(text: string): LockedPackage[] {
  const doc = tomlLib().parse(text) as Table;
  const packages = Array.isArray(doc.package) ? doc.package : [];
  const out: LockedPackage[] = [];
  for (const raw of packages) {
    const entry = table(raw);
    const name = str(entry?.name);
    const version = str(entry?.version);
    if (!entry || !name || !version) continue;
    out.push({ ecosystem: 'cargo', name, version, source: cargoLockSource(str(entry.source)) });
  }
  return out;
}

/**
 * A crate's build script and proc-macro flags from its own Cargo.toml. Cargo runs `build.rs` when
 * the directory has one unless `build = false`; `hasBuildRs` says whether it does.
 */
export function crateTraits(text: string, hasBuildRs: boolean): CrateTraits {
  const doc = parseCargoToml(text);
  const build = table(doc.package)?.build;
  const lib = table(doc.lib);
  return {
    buildScript: typeof build === 'string' ? true : build === false ? false : build === true || hasBuildRs,
    procMacro: lib?.['proc-macro'] === true || lib?.proc_macro === true,
  };
}
