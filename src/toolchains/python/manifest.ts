// Python's dependency declarations and lockfiles for the dependency check: requirements files,
// pyproject.toml (PEP 621 `[project]`, PEP 735 `[dependency-groups]`, Poetry's tables), poetry.lock
// and uv.lock. Versions and specifiers are PEP 440's, compared with a PEP 440 library (pre/post/dev
// releases, epochs, `~=`, `!=`), which the reader hands the shared comparison.
import path from 'node:path';
import { pep440Lib, tomlLib } from '../../util/libs.js';
import type {
  DeclaredDependency,
  DependencyKind,
  DependencySource,
  InstallScript,
  LockedPackage,
  RequirementChange,
  VersionScheme,
} from '../../depcheck/types.js';

type Table = Record<string, unknown>;

export const PYPI = 'PyPI';

/** Requirements files the dependency check reads: top-level `*requirements*.txt` and `requirements/*.txt`. */
export const REQUIREMENTS_PATTERN = /^(?:[\w.-]*requirements[\w.-]*\.txt|requirements\/[\w.-]+\.txt)$/i;

function table(value: unknown): Table {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Table) : {};
}

/** PEP 503's normalized name: lower case, runs of `-`, `_`, `.` as one `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** One specifier clause: `>=1.2`, `~=1.4`, `==1.2.*`, `!=1.3`, `===foo`. */
const CLAUSE = /^(===|==|~=|!=|<=|>=|<|>)\s*(\S+)$/;

/**
 * A PEP 440 specifier set (`>=1.2,<2`, `~=1.4.2`, `==1.2.*`), normalized (no spaces), as the range
 * the dependency check compares; `*` for none (anything goes), null when it is not valid PEP 440.
 */
export function pep440Range(spec: string): string | null {
  const parts = spec
    .split(',')
    .map((p) => p.trim().replace(/\s+/g, ''))
    .filter(Boolean);
  if (parts.length === 0) return '*';
  const joined = parts.join(',');
  return parts.every((p) => CLAUSE.test(p)) && pep440Lib().validRange(joined) ? joined : null;
}

/** A Poetry constraint (`^1.2`, `~1.2`, `>=1,<2`, `*`, `1.2.3`) as a PEP 440 specifier set. */
function poetryRange(spec: string): string | null {
  const s = spec.trim();
  if (s === '*' || s === '') return '*';
  const caret = /^([\^~])\s*(\S+)$/.exec(s);
  const v = caret ? pep440Lib().explain(caret[2]) : null;
  if (caret && v) {
    const release = [...v.release];
    // ^1.2 → <2, ^0.2 → <0.3, ^0.0.3 → <0.0.4; ~1.2 → <1.3, ~1 → <2.
    const bump =
      caret[1] === '^'
        ? Math.max(
            0,
            release.findIndex((n) => n !== 0),
          )
        : Math.min(1, release.length - 1);
    const index = bump < release.length ? bump : release.length - 1;
    const upper = [...release.slice(0, index), release[index] + 1].join('.');
    return pep440Range(`>=${caret[2]},<${v.epoch ? `${v.epoch}!` : ''}${upper}`);
  }
  if (/^\d/.test(s)) return pep440Range(`==${s}`);
  return pep440Range(s);
}

/** -1, 0 or 1 by PEP 440 (`2.0.0rc1` < `2.0.0` < `2.0.0.post1`, `1!1.0` > `2.0`); text order for what is not PEP 440. */
export function comparePep440(a: string, b: string): number {
  if (pep440Lib().valid(a) && pep440Lib().valid(b)) return Math.sign(pep440Lib().compare(a, b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One end of the interval a specifier set admits; absent: unbounded. */
interface Bound {
  version: string;
  inclusive: boolean;
}

interface Interval {
  low?: Bound;
  high?: Bound;
  /** `!=` clauses, as written. */
  excluded: string[];
}

/** The version after a release prefix: `1.2` → `1.3` (`==1.2.*`), with its epoch. */
function nextRelease(version: string, keep: number): string | null {
  const v = pep440Lib().explain(version);
  if (!v || keep < 1) return null;
  const release = v.release.slice(0, keep);
  while (release.length < keep) release.push(0);
  release[keep - 1] += 1;
  return `${v.epoch ? `${v.epoch}!` : ''}${release.join('.')}`;
}

function tighterLow(a: Bound | undefined, b: Bound): Bound {
  if (!a) return b;
  const order = comparePep440(a.version, b.version);
  return order > 0 || (order === 0 && !a.inclusive) ? a : b;
}

function tighterHigh(a: Bound | undefined, b: Bound): Bound {
  if (!a) return b;
  const order = comparePep440(a.version, b.version);
  return order < 0 || (order === 0 && !a.inclusive) ? a : b;
}

/** The interval a (normalized) specifier set admits, its `!=` holes listed; null when it is not readable. */
function interval(range: string): Interval | null {
  const out: Interval = { excluded: [] };
  if (range === '*') return out;
  for (const part of range.split(',')) {
    const m = CLAUSE.exec(part);
    if (!m) return null;
    const [, op, raw] = m;
    const wildcard = raw.endsWith('.*');
    const version = wildcard ? raw.slice(0, -2) : raw;
    if (!pep440Lib().valid(version)) return null;
    if (op === '!=') {
      out.excluded.push(raw);
    } else if (op === '==' && wildcard) {
      const next = nextRelease(version, version.replace(/^\d+!/, '').split('.').length);
      if (!next) return null;
      out.low = tighterLow(out.low, { version, inclusive: true });
      out.high = tighterHigh(out.high, { version: next, inclusive: false });
    } else if (op === '==' || op === '===') {
      out.low = tighterLow(out.low, { version, inclusive: true });
      out.high = tighterHigh(out.high, { version, inclusive: true });
    } else if (op === '~=') {
      // ~=1.4.2 allows 1.4.*, ~=1.4 allows 1.*: the last given component may grow.
      const next = nextRelease(version, (pep440Lib().explain(version)?.release.length ?? 0) - 1);
      if (!next) return null;
      out.low = tighterLow(out.low, { version, inclusive: true });
      out.high = tighterHigh(out.high, { version: next, inclusive: false });
    } else if (op === '>=' || op === '>') out.low = tighterLow(out.low, { version, inclusive: op === '>=' });
    else out.high = tighterHigh(out.high, { version, inclusive: op === '<=' });
  }
  return out;
}

/** Lower ends in order; an absent one (unbounded) is the lowest. */
function compareLow(a: Bound | undefined, b: Bound | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  return comparePep440(a.version, b.version) || (a.inclusive === b.inclusive ? 0 : a.inclusive ? -1 : 1);
}

/** Upper ends in order; an absent one (unbounded) is the highest. */
function compareHigh(a: Bound | undefined, b: Bound | undefined): number {
  if (!a || !b) return (a ? 0 : 1) - (b ? 0 : 1);
  return comparePep440(a.version, b.version) || (a.inclusive === b.inclusive ? 0 : a.inclusive ? 1 : -1);
}

/** Whether everything `inner` admits, `outer` admits too (a hole of `outer` inside `inner` breaks it). */
function within(inner: Interval, innerRange: string, outer: Interval): boolean {
  if (compareLow(outer.low, inner.low) > 0 || compareHigh(outer.high, inner.high) < 0) return false;
  return outer.excluded.every(
    (hole) => inner.excluded.includes(hole) || (innerRange !== '*' && !pep440Lib().satisfies(hole.replace(/\.\*$/, ''), innerRange)),
  );
}

/**
 * How a PEP 440 requirement moved. Loosened: the new set admits every version the old one did and
 * more (`>=1.0,!=1.3` → `>=1.0`). Otherwise the lowest admitted version tells up from down
 * (`~=1.4` → `~=1.6` up, `==2.0.0rc1` → `==2.0.0` up, `==1!2.0` → `==3.0` down); a set that only
 * narrows is no finding.
 */
export function pep440RequirementChange(from: string | null, to: string | null): RequirementChange {
  if (!from || !to || from === to) return null;
  const a = interval(from);
  const b = interval(to);
  if (!a || !b) return null;
  if (within(a, from, b) && !within(b, to, a)) return 'loosened';
  const order = compareLow(b.low, a.low);
  return order > 0 ? 'upgraded' : order < 0 ? 'downgraded' : null;
}

/** What the dependency check compares Python versions and requirements with. */
export const PEP440_VERSIONS: VersionScheme = { compare: comparePep440, requirementChange: pep440RequirementChange };

interface Requirement {
  name: string;
  requirement: string | null;
  range: string | null;
  source: DependencySource;
  extras: string[];
}

/** A direct reference (`git+https://…@v1#egg=x`, `https://…/x.whl`, `./lib`, `file:…`) as a source. */
function referenceSource(ref: string): DependencySource {
  if (/^git\+/.test(ref) || /\.git(@|#|$)/.test(ref)) return { kind: 'git', location: ref.replace(/^git\+/, '').replace(/[@#].*$/, '') };
  if (/^(hg|svn|bzr)\+/.test(ref)) return { kind: 'other', location: ref.replace(/#.*$/, '') };
  if (/^file:/.test(ref)) return { kind: 'path', location: ref.replace(/^file:(\/\/)?/, '') };
  if (/^[a-z]+:\/\//i.test(ref)) return { kind: 'url', location: ref.replace(/#.*$/, '') };
  return { kind: 'path', location: ref };
}

/** The name a direct reference installs: `#egg=name`, else the wheel's or directory's name. */
function referenceName(ref: string): string {
  const egg = /[#&]egg=([A-Za-z0-9_.-]+)/.exec(ref)?.[1];
  if (egg) return egg;
  const base = path.posix.basename(ref.replace(/[@#?].*$/, '').replace(/\/+$/, '')).replace(/\.git$/, '');
  return base.split('-')[0] || ref;
}

/** One PEP 508 requirement (`name[extra]>=1; marker`, `name @ url`) or a direct reference; null for none. */
export function parseRequirement(line: string): Requirement | null {
  const text = line.trim();
  if (!text) return null;
  if (/^(git\+|hg\+|svn\+|bzr\+|https?:|file:|\.{0,2}\/)/.test(text) || text === '.') {
    return { name: referenceName(text), requirement: null, range: null, source: referenceSource(text), extras: [] };
  }
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(text);
  if (!m) return null;
  const [, name, extras, rest] = m;
  const spec = rest.split(';')[0].trim();
  const extraList = (extras ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (spec.startsWith('@')) {
    const ref = spec.slice(1).trim();
    return { name, requirement: null, range: null, source: referenceSource(ref), extras: extraList };
  }
  const cleaned = spec.replace(/^\((.*)\)$/, '$1').trim();
  return {
    name,
    requirement: cleaned || null,
    range: pep440Range(cleaned),
    source: { kind: 'registry', location: PYPI },
    extras: extraList,
  };
}

function declared(
  manifest: string,
  member: string,
  kind: DependencyKind,
  target: string | null,
  r: Requirement,
  optional = false,
): DeclaredDependency {
  const name = normalizeName(r.name);
  return {
    ecosystem: 'pypi',
    manifest,
    member,
    kind,
    target,
    name,
    package: name,
    requirement: r.requirement,
    range: r.range,
    source: r.source,
    features: r.extras,
    defaultFeatures: true,
    optional,
    inherited: false,
  };
}

/** A requirements file: one requirement per line; `-e` references kept; other options and includes skipped. */
export function requirementsDeclared(file: string, text: string): DeclaredDependency[] {
  const kind: DependencyKind = /(dev|test|lint|doc|ci)/i.test(path.posix.basename(file)) ? 'dev' : 'normal';
  const out: DeclaredDependency[] = [];
  const joined = text.replace(/\\\r?\n/g, ' ');
  for (const raw of joined.split(/\r?\n/)) {
    let line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const editable = /^(-e|--editable)(\s+|=)(.*)$/.exec(line);
    if (editable) line = editable[3].trim();
    else if (line.startsWith('-')) continue;
    // Per-requirement options (`--hash=…`) follow the requirement.
    line = line.replace(/\s--?\w[\w-]*(=\S+|\s+\S+)?/g, '').trim();
    const r = parseRequirement(line);
    if (r) out.push(declared(file, path.posix.dirname(file) === '.' ? file : path.posix.dirname(file), kind, null, r));
  }
  return out;
}

/** A Poetry dependency: a constraint string, or a table with `version`, `git`, `path`, `url`. */
function poetryRequirement(name: string, spec: unknown): Requirement {
  if (typeof spec === 'string')
    return { name, requirement: spec, range: poetryRange(spec), source: { kind: 'registry', location: PYPI }, extras: [] };
  const t = table(Array.isArray(spec) ? spec[0] : spec);
  const extras = Array.isArray(t.extras) ? t.extras.filter((e): e is string => typeof e === 'string') : [];
  if (typeof t.git === 'string') {
    const rev = [t.tag, t.rev, t.branch].find((v): v is string => typeof v === 'string') ?? null;
    return { name, requirement: rev, range: null, source: { kind: 'git', location: t.git.replace(/^git\+/, '') }, extras };
  }
  if (typeof t.path === 'string') return { name, requirement: null, range: null, source: { kind: 'path', location: t.path }, extras };
  if (typeof t.url === 'string') return { name, requirement: null, range: null, source: { kind: 'url', location: t.url }, extras };
  const v = typeof t.version === 'string' ? t.version : '*';
  const source: DependencySource =
    typeof t.source === 'string' ? { kind: 'registry', location: t.source } : { kind: 'registry', location: PYPI };
  return { name, requirement: v, range: poetryRange(v), source, extras };
}

/** pyproject.toml: `[project]` dependencies and extras, `[dependency-groups]`, and Poetry's tables. */
export function pyprojectDeclared(file: string, text: string): { declared: DeclaredDependency[]; scripts: InstallScript[] } {
  const doc = tomlLib().parse(text) as Table;
  const project = table(doc.project);
  const poetry = table(table(doc.tool).poetry);
  const member =
    (typeof project.name === 'string' && project.name) || (typeof poetry.name === 'string' && poetry.name) || path.posix.dirname(file);
  const out: DeclaredDependency[] = [];
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const pep508 = (list: unknown, kind: DependencyKind, target: string | null, optional = false): void => {
    for (const line of strings(list)) {
      const r = parseRequirement(line);
      if (r) out.push(declared(file, member, kind, target, r, optional));
    }
  };
  pep508(project.dependencies, 'normal', null);
  for (const [extra, list] of Object.entries(table(project['optional-dependencies']))) pep508(list, 'optional', `extra ${extra}`, true);
  for (const [group, list] of Object.entries(table(doc['dependency-groups']))) pep508(list, 'dev', `group ${group}`);
  const poetryTable = (deps: unknown, kind: DependencyKind, target: string | null): void => {
    for (const [name, spec] of Object.entries(table(deps))) {
      if (name.toLowerCase() === 'python') continue;
      const r = poetryRequirement(name, spec);
      const optional = table(spec).optional === true;
      out.push(declared(file, member, optional ? 'optional' : kind, target, r, optional));
    }
  };
  poetryTable(poetry.dependencies, 'normal', null);
  poetryTable(poetry['dev-dependencies'], 'dev', null);
  for (const [group, body] of Object.entries(table(poetry.group))) poetryTable(table(body).dependencies, 'dev', `group ${group}`);
  return { declared: out, scripts: [] };
}

function registryLocation(url: string): string {
  try {
    const host = new URL(url).host;
    return host === 'pypi.org' || host === 'files.pythonhosted.org' ? PYPI : host;
  } catch {
    return url;
  }
}

/** poetry.lock: `[[package]]` with an optional `source` table (git, directory, file, url, legacy). */
export function poetryLocked(text: string): LockedPackage[] {
  const doc = tomlLib().parse(text) as Table;
  const packages = Array.isArray(doc.package) ? (doc.package as Table[]) : [];
  return packages.map((p) => {
    const src = table(p.source);
    const type = typeof src.type === 'string' ? src.type : '';
    const url = typeof src.url === 'string' ? src.url : '';
    let source: DependencySource = { kind: 'registry', location: PYPI };
    if (type === 'git') source = { kind: 'git', location: url.replace(/^git\+/, '') };
    else if (type === 'directory' || type === 'file') source = { kind: 'path', location: url };
    else if (type === 'url') source = { kind: 'url', location: url };
    else if (type === 'legacy') source = { kind: 'registry', location: registryLocation(url) };
    return { ecosystem: 'pypi', name: normalizeName(String(p.name ?? '')), version: String(p.version ?? ''), source };
  });
}

/** uv.lock: `[[package]]` whose `source` names a registry, git, a URL, a path, or the project itself (editable / virtual). */
export function uvLocked(text: string): LockedPackage[] {
  const doc = tomlLib().parse(text) as Table;
  const packages = Array.isArray(doc.package) ? (doc.package as Table[]) : [];
  return packages.map((p) => {
    const src = table(p.source);
    let source: DependencySource = { kind: 'other', location: '' };
    if (typeof src.registry === 'string') source = { kind: 'registry', location: registryLocation(src.registry) };
    else if (typeof src.git === 'string') source = { kind: 'git', location: src.git.replace(/[?#].*$/, '') };
    else if (typeof src.url === 'string') source = { kind: 'url', location: src.url };
    else if (typeof src.editable === 'string' || typeof src.virtual === 'string') source = { kind: 'local', location: '' };
    else if (typeof src.path === 'string' || typeof src.directory === 'string')
      source = { kind: 'path', location: String(src.path ?? src.directory) };
    return { ecosystem: 'pypi', name: normalizeName(String(p.name ?? '')), version: String(p.version ?? ''), source };
  });
}

/** A manifest of either kind, by its name. */
export function pythonDeclared(file: string, text: string): { declared: DeclaredDependency[]; scripts: InstallScript[] } {
  if (path.posix.basename(file) === 'pyproject.toml') return pyprojectDeclared(file, text);
  return { declared: requirementsDeclared(file, text), scripts: [] };
}

/** poetry.lock or uv.lock, by its name. */
export function pythonLocked(text: string, file: string): LockedPackage[] {
  return path.posix.basename(file) === 'uv.lock' ? uvLocked(text) : poetryLocked(text);
}
