// What the planner knows about a repository and the host: gathered once, read-only, then handed
// to the pure planner as data.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface RepoFacts {
  /** Repository-relative paths of the files at the top level and one level down (enough to detect toolchains). */
  files: string[];
  /** Contents of the manifests the toolchain table looks at, keyed by relative path. */
  manifests: Record<string, string>;
  /** The checked-out base branch, when known. */
  branch: string | null;
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
  return { files: files.sort(), manifests, branch };
}
