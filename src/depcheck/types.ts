// What a change does to the supply chain, as data: the dependencies each manifest declares, the
// packages each lockfile pins, and the findings of comparing the base with the change.

/** The package ecosystem a toolchain's dependency reader names (its `ecosystem`). */
export type Ecosystem = string;
/** `workspace`: a Cargo `[workspace.dependencies]` entry, which members inherit. */
export type DependencyKind = 'normal' | 'dev' | 'build' | 'optional' | 'peer' | 'workspace';
/** `local`: a package the lockfile pins with no source (a workspace member or a path dependency). */
export type SourceKind = 'registry' | 'git' | 'path' | 'url' | 'workspace' | 'local' | 'other';

export interface DependencySource {
  kind: SourceKind;
  /** Registry name or index URL, git URL (without the revision), path, URL. */
  location: string;
}

/** One entry of a manifest's dependency table. */
export interface DeclaredDependency {
  ecosystem: Ecosystem;
  /** Repository-relative path of the manifest that declares it. */
  manifest: string;
  /** The declaring package's name (the workspace for `[workspace.dependencies]`). */
  member: string;
  kind: DependencyKind;
  /** Cargo `[target.<cfg>.*]` key, else null. */
  target: string | null;
  /** The key as written (a rename for Cargo `package = ...` or an npm alias). */
  name: string;
  /** The package actually pulled in. */
  package: string;
  /** The version requirement as written, when there is one. */
  requirement: string | null;
  /** The requirement as a range for comparisons: node-semver's, unless the reader has its own `versions`; null when it is none. */
  range: string | null;
  source: DependencySource;
  features: string[];
  defaultFeatures: boolean;
  optional: boolean;
  /** Cargo `{ workspace = true }`: requirement and source come from `[workspace.dependencies]`. */
  inherited: boolean;
}

/** One package a lockfile pins. */
export interface LockedPackage {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  source: DependencySource;
  /** npm: the lockfile says the package runs an install script. */
  installScript?: boolean;
}

/** A lifecycle script of a package.json that runs on `npm install`. */
export interface InstallScript {
  manifest: string;
  member: string;
  script: string;
  command: string;
}

/** The manifests and lockfiles of one side (base or change): repository-relative path → text. */
export interface ManifestSnapshot {
  files: Record<string, string>;
}

export type FindingType =
  | 'added'
  | 'removed'
  | 'upgraded'
  | 'downgraded'
  | 'source_changed'
  | 'requirement_loosened'
  | 'features_enabled'
  | 'build_script'
  | 'proc_macro'
  | 'install_script';

export interface DependencyFinding {
  type: FindingType;
  ecosystem: Ecosystem;
  /** Package name (for an npm install script of the project itself: `scripts.<name>`). */
  name: string;
  /** False when only the lockfile shows it (a transitive dependency). */
  direct: boolean;
  manifest: string | null;
  member: string | null;
  kind: DependencyKind | null;
  target: string | null;
  /** Requirement, version, source or script before and after, as text. */
  from: string | null;
  to: string | null;
  /** The version the lockfile pins after the change (and before, for a change in version). */
  locked?: { from: string | null; to: string | null };
  source?: DependencySource;
  fromSource?: DependencySource;
  toSource?: DependencySource;
  features?: string[];
  /** Cargo, added crates: known from the crate's own Cargo.toml when it is on disk; null = unknown. */
  buildScript?: boolean | null;
  procMacro?: boolean | null;
  /** One line for people. */
  detail: string;
}

export interface DependencyReport {
  /** Manifests and lockfiles compared (on either side). */
  manifests: string[];
  findings: DependencyFinding[];
  /** Files that could not be parsed, lockfiles left out, and the like. */
  warnings: string[];
}

/** What the policy sees (`input.dependencies`): the same for the local rules and for OPA. */
export interface PolicyDependency {
  ecosystem: Ecosystem;
  name: string;
  direct: boolean;
  kind: DependencyKind | null;
  member: string | null;
  manifest: string | null;
  requirement: string | null;
  version: string | null;
  source: DependencySource | null;
}

export interface PolicyDependencyChange {
  ecosystem: Ecosystem;
  name: string;
  change: Exclude<FindingType, 'added' | 'removed' | 'source_changed'>;
  direct: boolean;
  kind: DependencyKind | null;
  member: string | null;
  manifest: string | null;
  from: string | null;
  to: string | null;
  features?: string[];
}

export interface PolicySourceChange {
  ecosystem: Ecosystem;
  name: string;
  direct: boolean;
  kind: DependencyKind | null;
  member: string | null;
  manifest: string | null;
  from: DependencySource | null;
  to: DependencySource | null;
}

export interface PolicyDependencies {
  added: PolicyDependency[];
  removed: PolicyDependency[];
  changed: PolicyDependencyChange[];
  sources: PolicySourceChange[];
}

/** What a crate's own Cargo.toml (and its directory) says about it. */
export interface CrateTraits {
  buildScript: boolean;
  procMacro: boolean;
}

/** How a requirement moved (`requirementChange`): null when it did not, or only narrowed. */
export type RequirementChange = 'loosened' | 'upgraded' | 'downgraded' | null;

/** An ecosystem's own version order and range semantics, where node-semver's would be wrong (PEP 440). */
export interface VersionScheme {
  /** -1, 0 or 1. */
  compare(a: string, b: string): number;
  /** Over two of the reader's `range`s. */
  requirementChange(from: string | null, to: string | null): RequirementChange;
}

/**
 * Reads one ecosystem's manifests and lockfile (a toolchain provides it: src/toolchains/<id>/);
 * this folder compares what the readers return, whichever ecosystem they read.
 */
export interface DependencyReader {
  ecosystem: string;
  /** File name of a manifest (`package.json`); the root one sits at the top of the repository. */
  manifest: string;
  /**
   * Further manifests, by repository-relative path, read wherever the file list has them: Python's
   * `requirements*.txt`, which need no root manifest.
   */
  manifestPattern?: RegExp;
  /** The lockfile at the top of the repository. */
  lockfile: string;
  /** Every lockfile format the reader reads, each compared on its own (default: just `lockfile`). */
  lockfiles?: string[];
  /** The default registry's name, as a source location (said plainly in findings). */
  registry: string;
  /** The member manifests a root manifest declares, over a file list. */
  memberManifests(rootText: string, files: string[]): string[];
  /** The dependencies (and install scripts) one manifest declares; `rootText` is the root manifest's text. */
  declared(file: string, text: string, rootText: string | undefined): { declared: DeclaredDependency[]; scripts: InstallScript[] };
  /** The packages a lockfile pins; `file` tells a reader of several lockfile formats which one this is. */
  locked(text: string, file: string): LockedPackage[];
  /** Lockfile entries with no source are the repository's own code (not the supply chain). */
  localLockedIsOwnCode: boolean;
  /** The lockfile marks packages that run an install script. */
  lockInstallScripts: boolean;
  /** A newly declared `build` dependency runs code at build time. */
  buildDependenciesRun: boolean;
  /** Its versions and ranges, when not node-semver's (the default). */
  versions?: VersionScheme;
  /**
   * What an added package's own files say (build script, proc-macro), read where the repository or
   * the toolchain's cache (under `cacheDir`) has them; null when not on disk. Absent: never knowable.
   */
  traits?(finding: DependencyFinding, repoDir: string, cacheDir: string): Promise<CrateTraits | null>;
}
