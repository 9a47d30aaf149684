// What the planner knows about a repository and the host: gathered once, read-only, then handed
// to the pure planner as data.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { parse as parseToml } from 'smol-toml';

export interface RepoFacts {
  /** Repository-relative paths of the files at the top level and one level down (enough to detect toolchains). */
  files: string[];
  /** Contents of the manifests the toolchain table looks at, keyed by relative path. */
  manifests: Record<string, string>;
  /** The checked-out base branch, when known. */
  branch: string | null;
  /**
   * Cargo workspace members (directories relative to the root, `.` for a root package), expanded
   * from `[workspace] members` globs minus `exclude`; their `<dir>/Cargo.toml` is in `manifests`.
   * Absent or empty when the root Cargo.toml declares no workspace members.
   */
  cargoMembers?: string[];
}

export interface HostFacts {
  /** Programs found on PATH (name → true). */
  programs: Record<string, boolean>;
  /** The sandbox `auto` resolved to, or null when none is usable. */
  autoSandbox: 'docker' | 'podman' | 'bwrap' | null;
  /** Installed Rust toolchains (`rustup toolchain list`), for rust-toolchain.toml. */
  rustToolchains: string[];
}

const MANIFESTS = [
  'Cargo.toml',
  'Cargo.lock',
  'rust-toolchain.toml',
  'rust-toolchain',
  'package.json',
  'package-lock.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'tsconfig.json',
];

/** Reads the facts from a checkout on disk. Only reads. */
export async function readRepoFacts(dir: string, branch: string | null): Promise<RepoFacts> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    if (entry.isDirectory()) {
      files.push(`${entry.name}/`);
      const sub = await readdir(path.join(dir, entry.name), { withFileTypes: true }).catch(() => []);
      for (const child of sub) files.push(`${entry.name}/${child.name}${child.isDirectory() ? '/' : ''}`);
    } else {
      files.push(entry.name);
    }
  }
  const manifests: Record<string, string> = {};
  const wanted = files.filter((f) => MANIFESTS.includes(path.basename(f)) && f.split('/').length <= 2);
  for (const rel of wanted) {
    const full = path.join(dir, rel);
    const info = await stat(full).catch(() => null);
    if (info?.isFile() && info.size < 2_000_000) manifests[rel] = await readFile(full, 'utf8');
  }
  const cargoMembers = await readCargoMembers(dir, manifests);
  return { files: files.sort(), manifests, branch, ...(cargoMembers.length ? { cargoMembers } : {}) };
}

/** Expands `[workspace] members` (cargo's per-segment globs) and reads each member's Cargo.toml. */
async function readCargoMembers(dir: string, manifests: Record<string, string>): Promise<string[]> {
  const root = manifests['Cargo.toml'];
  if (!root) return [];
  let workspace: { members?: unknown; exclude?: unknown } | undefined;
  let hasPackage = false;
  try {
    const doc = parseToml(root) as Record<string, any>;
    workspace = doc.workspace;
    hasPackage = !!doc.package;
  } catch {
    return [];
  }
  if (!workspace) return [];
  const patterns = Array.isArray(workspace.members) ? workspace.members.filter((m): m is string => typeof m === 'string') : [];
  const excludes = Array.isArray(workspace.exclude) ? workspace.exclude.filter((m): m is string => typeof m === 'string') : [];
  const isExcluded = excludes.length ? picomatch(excludes.map(normalizeMember)) : () => false;
  const members = new Set<string>();
  for (const pattern of patterns) {
    for (const rel of await expandSegments(dir, normalizeMember(pattern).split('/'))) {
      if (rel === '.' || isExcluded(rel)) continue;
      const manifest = path.join(dir, rel, 'Cargo.toml');
      const info = await stat(manifest).catch(() => null);
      if (!info?.isFile() || info.size >= 2_000_000) continue;
      manifests[`${rel}/Cargo.toml`] = await readFile(manifest, 'utf8');
      members.add(rel);
    }
  }
  if (members.size === 0) return [];
  return [...(hasPackage ? ['.'] : []), ...[...members].sort()];
}

function normalizeMember(pattern: string): string {
  return path.posix.normalize(pattern.replace(/\\/g, '/')).replace(/^\.\//, '').replace(/\/+$/, '');
}

// Cargo matches members segment by segment (`crates/*`, `libs/*/core`); a path that leaves the
// repository is not followed.
async function expandSegments(dir: string, segments: string[], prefix = ''): Promise<string[]> {
  if (segments.length === 0) return [prefix || '.'];
  const [head, ...rest] = segments;
  if (head === '..' || head === '') return [];
  if (!picomatch.scan(head).isGlob) return expandSegments(dir, rest, prefix ? `${prefix}/${head}` : head);
  const match = picomatch(head);
  const entries = await readdir(path.join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === '.git' || !match(entry.name)) continue;
    found.push(...(await expandSegments(dir, rest, prefix ? `${prefix}/${entry.name}` : entry.name)));
  }
  return found;
}
