// Base vs change: which dependencies a change adds, removes, moves up or down, fetches from
// elsewhere, loosens or extends, and which new code runs at build or install time. Pure on text.
import path from 'node:path';
import { SEMVER_VERSIONS } from './requirement.js';
import type {
  CrateTraits,
  DeclaredDependency,
  DependencyFinding,
  DependencyReader,
  DependencyReport,
  DependencySource,
  Ecosystem,
  InstallScript,
  LockedPackage,
  ManifestSnapshot,
  PolicyDependencies,
  VersionScheme,
} from './types.js';

/**
 * The manifests and lockfiles worth reading on one side, from its file list and its root
 * manifests (path → text, null when unreadable): each reader's root manifest and the members it
 * declares, and each reader's lockfile.
 */
export function manifestPaths(
  files: string[],
  readers: readonly DependencyReader[],
  roots: Record<string, string | null | undefined>,
): string[] {
  const out = new Set<string>();
  const has = new Set(files);
  for (const reader of readers) {
    const pattern = reader.manifestPattern;
    if (pattern) for (const file of files) if (pattern.test(file)) out.add(file);
    if (!has.has(reader.manifest)) continue;
    out.add(reader.manifest);
    const root = roots[reader.manifest];
    try {
      if (root) for (const file of reader.memberManifests(root, files)) out.add(file);
    } catch {
      // An unparsable root is reported when it is compared.
    }
  }
  for (const reader of perLockfile(readers)) if (has.has(reader.lockfile)) out.add(reader.lockfile);
  return [...out].sort();
}

/** One reader per lockfile it reads (`lockfiles`), so each lockfile is compared on its own. */
function perLockfile(readers: readonly DependencyReader[]): DependencyReader[] {
  return readers.flatMap((r) => (r.lockfiles ?? [r.lockfile]).map((lockfile) => (lockfile === r.lockfile ? r : { ...r, lockfile })));
}

interface Side {
  declared: DeclaredDependency[];
  locked: Map<DependencyReader, LockedPackage[]>;
  scripts: InstallScript[];
}

function readSide(snapshot: ManifestSnapshot, readers: readonly DependencyReader[], label: string, warnings: string[]): Side {
  const side: Side = { declared: [], locked: new Map(), scripts: [] };
  for (const [file, text] of Object.entries(snapshot.files)) {
    const base = path.posix.basename(file);
    try {
      const lockOf = readers.find((r) => r.lockfile === file);
      if (lockOf) {
        side.locked.set(lockOf, lockOf.locked(text, file));
        continue;
      }
      const reader = readers.find((r) => r.manifest === base || r.manifestPattern?.test(file));
      if (!reader) continue;
      const { declared, scripts } = reader.declared(file, text, snapshot.files[reader.manifest]);
      side.declared.push(...declared);
      side.scripts.push(...scripts);
    } catch (error) {
      warnings.push(`${file} (${label}) could not be parsed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return side;
}

// A reader's default registry is named plainly (`crates.io`), any other as `registry <location>`.
function describeSource(source: DependencySource, registries: ReadonlySet<string>): string {
  if (source.kind === 'registry') return registries.has(source.location) ? source.location : `registry ${source.location}`;
  if (source.kind === 'local') return 'local';
  return `${source.kind} ${source.location}`;
}

function sameSource(a: DependencySource, b: DependencySource): boolean {
  return a.kind === b.kind && a.location === b.location;
}

function keyOf(d: DeclaredDependency): string {
  return `${d.ecosystem}|${d.manifest}|${d.target ?? ''}|${d.kind}|${d.name}`;
}

function where(d: DeclaredDependency): string {
  return `${d.kind}${d.target ? ` (${d.target})` : ''}, ${d.member}`;
}

function fromDeclared(
  d: DeclaredDependency,
  type: DependencyFinding['type'],
  extra: Partial<DependencyFinding> & { detail: string },
): DependencyFinding {
  return {
    type,
    ecosystem: d.ecosystem,
    name: d.package,
    direct: true,
    manifest: d.manifest,
    member: d.member,
    kind: d.kind,
    target: d.target,
    from: null,
    to: null,
    ...extra,
  };
}

function compareDeclared(
  base: DeclaredDependency[],
  change: DeclaredDependency[],
  registries: ReadonlySet<string>,
  versionsOf: (ecosystem: Ecosystem) => VersionScheme,
): DependencyFinding[] {
  const findings: DependencyFinding[] = [];
  const before = new Map(base.map((d) => [keyOf(d), d]));
  const after = new Map(change.map((d) => [keyOf(d), d]));
  for (const [key, d] of after) {
    const old = before.get(key);
    const label = d.name === d.package ? d.package : `${d.package} (as ${d.name})`;
    if (!old) {
      const what = d.requirement ?? describeSource(d.source, registries);
      findings.push(
        fromDeclared(d, 'added', {
          to: d.requirement,
          source: d.source,
          ...(d.features.length ? { features: d.features } : {}),
          detail: `${label} ${what} added (${where(d)}${d.source.kind === 'registry' ? '' : `, from ${describeSource(d.source, registries)}`})`,
        }),
      );
      continue;
    }
    // An entry inherited on both sides follows [workspace.dependencies], which is compared itself.
    const bothInherited = old.inherited && d.inherited;
    if (!bothInherited && (!sameSource(old.source, d.source) || old.package !== d.package)) {
      const from =
        old.package === d.package
          ? describeSource(old.source, registries)
          : `${old.package} from ${describeSource(old.source, registries)}`;
      const to =
        old.package === d.package ? describeSource(d.source, registries) : `${d.package} from ${describeSource(d.source, registries)}`;
      findings.push(
        fromDeclared(d, 'source_changed', {
          from,
          to,
          fromSource: old.source,
          toSource: d.source,
          detail: `${label}: source ${from} → ${to} (${where(d)})`,
        }),
      );
    } else if (!bothInherited) {
      const move = versionsOf(d.ecosystem).requirementChange(old.range, d.range);
      if (move) {
        const type = move === 'loosened' ? 'requirement_loosened' : move;
        const verb = move === 'loosened' ? 'requirement loosened' : move;
        findings.push(
          fromDeclared(d, type, {
            from: old.requirement,
            to: d.requirement,
            detail: `${label} ${verb}: ${old.requirement} → ${d.requirement} (${where(d)})`,
          }),
        );
      }
    }
    const enabled = d.features.filter((f) => !old.features.includes(f));
    if (d.defaultFeatures && !old.defaultFeatures) enabled.unshift('default');
    if (enabled.length) {
      findings.push(
        fromDeclared(d, 'features_enabled', {
          features: enabled,
          from: old.features.join(', ') || null,
          to: d.features.join(', ') || null,
          detail: `${label}: features enabled: ${enabled.join(', ')} (${where(d)})`,
        }),
      );
    }
  }
  for (const [key, d] of before) {
    if (after.has(key)) continue;
    findings.push(
      fromDeclared(d, 'removed', {
        from: d.requirement,
        source: d.source,
        detail: `${d.package} ${d.requirement ?? describeSource(d.source, registries)} removed (${where(d)})`,
      }),
    );
  }
  return findings;
}

function byName(packages: LockedPackage[], compare: VersionScheme['compare']): Map<string, LockedPackage[]> {
  const out = new Map<string, LockedPackage[]>();
  for (const p of packages) out.set(p.name, [...(out.get(p.name) ?? []), p]);
  for (const list of out.values()) list.sort((a, b) => compare(a.version, b.version));
  return out;
}

function compareLocked(
  reader: DependencyReader,
  base: LockedPackage[],
  change: LockedPackage[],
  declared: DeclaredDependency[],
  findings: DependencyFinding[],
  registries: ReadonlySet<string>,
): void {
  const { ecosystem, lockfile } = reader;
  const direct = new Set(declared.filter((d) => d.ecosystem === ecosystem).map((d) => d.package));
  const { compare } = reader.versions ?? SEMVER_VERSIONS;
  const before = byName(base, compare);
  const after = byName(change, compare);
  const manifestFinding = (name: string, ...types: DependencyFinding['type'][]): DependencyFinding | undefined =>
    findings.find((f) => f.ecosystem === ecosystem && f.name === name && f.direct && types.includes(f.type));
  const lockFinding = (
    p: LockedPackage,
    type: DependencyFinding['type'],
    extra: Partial<DependencyFinding> & { detail: string },
  ): DependencyFinding => ({
    type,
    ecosystem,
    name: p.name,
    direct: direct.has(p.name),
    manifest: lockfile,
    member: null,
    kind: null,
    target: null,
    from: null,
    to: null,
    ...extra,
  });
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const name of names) {
    const old = before.get(name) ?? [];
    const now = after.get(name) ?? [];
    const gone = old.filter((p) => !now.some((q) => q.version === p.version));
    const came = now.filter((p) => !old.some((q) => q.version === p.version));
    // Pair the versions that left with those that came: those are moves, the rest adds/removes.
    const pairs = Math.min(gone.length, came.length);
    for (let i = 0; i < pairs; i += 1) {
      const from = gone[gone.length - pairs + i];
      const to = came[i];
      const order = compare(to.version, from.version);
      if (order === 0) continue;
      const type = order > 0 ? 'upgraded' : 'downgraded';
      const known = manifestFinding(name, type);
      if (known) known.locked = { from: from.version, to: to.version };
      else
        findings.push(
          lockFinding(to, type, {
            from: from.version,
            to: to.version,
            locked: { from: from.version, to: to.version },
            detail: `${name} ${type}: ${from.version} → ${to.version} (${lockfile})`,
          }),
        );
    }
    for (const p of came.slice(pairs)) {
      const known = manifestFinding(name, 'added');
      if (known) {
        known.locked = { from: null, to: p.version };
        continue;
      }
      // Workspace members and path packages are the repository's own code, not the supply chain.
      if (p.source.kind === 'local' && reader.localLockedIsOwnCode) continue;
      findings.push(
        lockFinding(p, 'added', {
          to: p.version,
          source: p.source,
          locked: { from: null, to: p.version },
          detail: `${name} ${p.version} added (${direct.has(name) ? 'direct' : 'transitive'}, ${describeSource(p.source, registries)}, ${lockfile})`,
        }),
      );
    }
    for (const p of gone.slice(0, gone.length - pairs)) {
      if (manifestFinding(name, 'removed') || (p.source.kind === 'local' && reader.localLockedIsOwnCode)) continue;
      findings.push(lockFinding(p, 'removed', { from: p.version, source: p.source, detail: `${name} ${p.version} removed (${lockfile})` }));
    }
    // The source of the newest version on each side.
    const o = old.at(-1);
    const n = now.at(-1);
    if (o && n && !sameSource(o.source, n.source) && !manifestFinding(name, 'source_changed')) {
      findings.push(
        lockFinding(n, 'source_changed', {
          from: describeSource(o.source, registries),
          to: describeSource(n.source, registries),
          fromSource: o.source,
          toSource: n.source,
          detail: `${name}: source ${describeSource(o.source, registries)} → ${describeSource(n.source, registries)} (${lockfile})`,
        }),
      );
    }
    // A package that newly runs an install script when installed, where the lockfile says so.
    if (reader.lockInstallScripts) {
      const scripted = now.filter((p) => p.installScript && !old.some((q) => q.installScript && q.version === p.version));
      if (scripted.length && !old.some((q) => q.installScript)) {
        const p = scripted[0];
        findings.push(
          lockFinding(p, 'install_script', {
            to: p.version,
            detail: `${name} ${p.version} runs an install script when installed (${lockfile})`,
          }),
        );
      }
    }
  }
}

function compareScripts(base: InstallScript[], change: InstallScript[], ecosystemOf: (manifest: string) => Ecosystem): DependencyFinding[] {
  const findings: DependencyFinding[] = [];
  for (const s of change) {
    const old = base.find((b) => b.manifest === s.manifest && b.script === s.script);
    if (old && old.command === s.command) continue;
    findings.push({
      type: 'install_script',
      ecosystem: ecosystemOf(s.manifest),
      name: `scripts.${s.script}`,
      direct: true,
      manifest: s.manifest,
      member: s.member,
      kind: null,
      target: null,
      from: old?.command ?? null,
      to: s.command,
      detail: old ? `${s.script} script changed in ${s.manifest}: ${s.command}` : `new ${s.script} script in ${s.manifest}: ${s.command}`,
    });
  }
  return findings;
}

/**
 * Compare the base's manifests and lockfiles with the change's. A lockfile is compared only when
 * both sides have it; otherwise a warning says so (the manifests are still compared).
 */
export function compareDependencies(
  base: ManifestSnapshot,
  change: ManifestSnapshot,
  readerList: readonly DependencyReader[],
): DependencyReport {
  const warnings: string[] = [];
  const readers = perLockfile(readerList);
  const registries = new Set(readers.map((r) => r.registry));
  const manifests = [...new Set([...Object.keys(base.files), ...Object.keys(change.files)])].sort();
  const changed = manifests.filter((f) => base.files[f] !== change.files[f]);
  if (changed.length === 0) return { manifests, findings: [], warnings };
  const before = readSide(base, readers, 'base', warnings);
  const after = readSide(change, readers, 'change', warnings);
  const ecosystemOf = (manifest: string): Ecosystem =>
    readers.find((r) => r.manifest === path.posix.basename(manifest) || r.manifestPattern?.test(manifest))?.ecosystem ?? 'unknown';
  const findings = [
    ...compareDeclared(
      before.declared,
      after.declared,
      registries,
      (ecosystem) => readers.find((r) => r.ecosystem === ecosystem)?.versions ?? SEMVER_VERSIONS,
    ),
    ...compareScripts(before.scripts, after.scripts, ecosystemOf),
  ];
  for (const reader of readers) {
    const old = before.locked.get(reader);
    const now = after.locked.get(reader);
    if (old && now) compareLocked(reader, old, now, after.declared, findings, registries);
    else if (old || now)
      warnings.push(`${reader.lockfile} exists only on the ${old ? 'base' : 'change'}: pinned versions were not compared`);
  }
  const runsAtBuild = new Set(readers.filter((r) => r.buildDependenciesRun).map((r) => r.ecosystem));
  const declaredBuild = after.declared.filter(
    (d) => runsAtBuild.has(d.ecosystem) && d.kind === 'build' && !before.declared.some((b) => keyOf(b) === keyOf(d)),
  );
  for (const d of declaredBuild) {
    const added = findings.find((f) => f.type === 'added' && f.manifest === d.manifest && f.name === d.package && f.kind === 'build');
    if (added) added.detail += '; it runs at build time';
  }
  return { manifests, findings, warnings };
}

/** The added packages of one ecosystem whose own manifest could tell whether they run code at build time. */
export function addedPackages(report: DependencyReport, ecosystem: Ecosystem): DependencyFinding[] {
  return report.findings.filter((f) => f.type === 'added' && f.ecosystem === ecosystem && f.kind !== 'workspace');
}

/**
 * Record what each added package's own manifest said (null: not on disk, unknown) for the findings
 * in `traits`, and add a `build_script` / `proc_macro` finding for each that newly brings one in.
 */
export function withCrateTraits(report: DependencyReport, traits: Map<DependencyFinding, CrateTraits | null>): DependencyReport {
  const extra: DependencyFinding[] = [];
  const seen = new Set<string>();
  for (const finding of report.findings.filter((f) => traits.has(f))) {
    const t = traits.get(finding) ?? null;
    finding.buildScript = t ? t.buildScript : null;
    finding.procMacro = t ? t.procMacro : null;
    if (!t) {
      finding.detail += '; build script / proc-macro: unknown (its manifest is not on disk)';
      continue;
    }
    for (const [type, flag, what] of [
      ['build_script', t.buildScript, 'a build script (build.rs) that runs at build time'],
      ['proc_macro', t.procMacro, 'a proc-macro that runs inside the compiler'],
    ] as const) {
      const key = `${type}|${finding.name}`;
      if (!flag || seen.has(key)) continue;
      seen.add(key);
      extra.push({ ...finding, type, features: undefined, detail: `${finding.name} brings ${what}` });
    }
  }
  return { ...report, findings: [...report.findings, ...extra] };
}

/** The report as the policy input's `dependencies`. */
export function policyDependencies(report: DependencyReport): PolicyDependencies {
  const out: PolicyDependencies = { added: [], removed: [], changed: [], sources: [] };
  for (const f of report.findings) {
    const common = { ecosystem: f.ecosystem, name: f.name, direct: f.direct, kind: f.kind, member: f.member, manifest: f.manifest };
    if (f.type === 'added' || f.type === 'removed') {
      const declared = f.type === 'added' ? f.to : f.from;
      // Only a lockfile's findings have no dependency kind (a manifest's always have one).
      const fromLock = f.kind === null;
      const requirement = fromLock ? null : declared;
      const version = fromLock ? declared : ((f.type === 'added' ? f.locked?.to : f.locked?.from) ?? null);
      out[f.type === 'added' ? 'added' : 'removed'].push({ ...common, requirement, version, source: f.source ?? null });
    } else if (f.type === 'source_changed') {
      out.sources.push({ ...common, from: f.fromSource ?? null, to: f.toSource ?? null });
    } else {
      out.changed.push({ ...common, change: f.type, from: f.from, to: f.to, ...(f.features ? { features: f.features } : {}) });
    }
  }
  return out;
}

/** "1 added (serde ^1.0 normal), 0 removed", or "no dependency changes". */
export function summarizeDependencies(report: DependencyReport): string {
  const f = report.findings;
  if (f.length === 0) return 'no dependency changes';
  const of = (type: DependencyFinding['type']): DependencyFinding[] => f.filter((x) => x.type === type);
  const names = (items: DependencyFinding[], show: (x: DependencyFinding) => string): string => {
    const shown = items.slice(0, 3).map(show).join(', ');
    return items.length > 3 ? `${shown}, …` : shown;
  };
  const added = of('added');
  const removed = of('removed');
  const parts = [
    `${added.length} added${added.length ? ` (${names(added, (x) => `${x.name} ${x.locked?.to ?? x.to ?? x.source?.kind ?? ''} ${x.kind ?? 'transitive'}`.replace(/\s+/g, ' '))})` : ''}`,
    `${removed.length} removed${removed.length ? ` (${names(removed, (x) => x.name)})` : ''}`,
  ];
  const more: [DependencyFinding['type'], string, (x: DependencyFinding) => string][] = [
    ['upgraded', 'upgraded', (x) => `${x.name} ${x.from} → ${x.to}`],
    ['downgraded', 'downgraded', (x) => `${x.name} ${x.from} → ${x.to}`],
    ['source_changed', 'source changed', (x) => `${x.name}: ${x.from} → ${x.to}`],
    ['requirement_loosened', 'loosened', (x) => `${x.name} ${x.from} → ${x.to}`],
    ['features_enabled', 'with new features', (x) => `${x.name}: ${x.features?.join(', ')}`],
    ['build_script', 'build script', (x) => x.name],
    ['proc_macro', 'proc-macro', (x) => x.name],
    ['install_script', 'install script', (x) => x.name],
  ];
  for (const [type, label, show] of more) {
    const items = of(type);
    if (items.length) parts.push(`${items.length} ${label} (${names(items, show)})`);
  }
  return parts.join(', ');
}
