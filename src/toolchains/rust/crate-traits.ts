// Whether an added crate runs code at build time (build.rs, proc-macro), from its own Cargo.toml
// where it is on disk. Only reads files.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CrateTraits, DependencyFinding } from '../../depcheck/types.js';
import { crateTraits, parseCargoToml } from './manifest.js';

/**
 * An added crate's own Cargo.toml, where it is on disk: a path dependency in the repository, or a
 * registry or git crate cargo unpacked into the task's CARGO_HOME while building. Null: unknown.
 */
export async function findCrateTraits(finding: DependencyFinding, repoDir: string, cargoHome: string): Promise<CrateTraits | null> {
  const source = finding.source;
  const read = async (crateDir: string): Promise<CrateTraits | null> => {
    const text = await readFile(path.join(crateDir, 'Cargo.toml'), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return crateTraits(text, existsSync(path.join(crateDir, 'build.rs')));
    } catch {
      return null;
    }
  };
  if (source?.kind === 'path' && finding.manifest) {
    const crateDir = path.resolve(repoDir, path.dirname(finding.manifest), source.location);
    // A path outside the repository is not read (and is unknown).
    if (crateDir !== repoDir && !crateDir.startsWith(`${repoDir}${path.sep}`)) return null;
    return read(crateDir);
  }
  const version = finding.locked?.to;
  if (source?.kind === 'registry' && version) {
    for (const index of await readdir(path.join(cargoHome, 'registry', 'src')).catch(() => [] as string[])) {
      const traits = await read(path.join(cargoHome, 'registry', 'src', index, `${finding.name}-${version}`));
      if (traits) return traits;
    }
    return null;
  }
  if (source?.kind === 'git') {
    // checkouts/<repo>-<hash>/<rev>/ holds a crate or a workspace of crates.
    const root = path.join(cargoHome, 'git', 'checkouts');
    for (const repo of await readdir(root).catch(() => [] as string[])) {
      for (const rev of await readdir(path.join(root, repo)).catch(() => [] as string[])) {
        const found = await crateDirNamed(path.join(root, repo, rev), finding.name, 2);
        if (found) return read(found);
      }
    }
  }
  return null;
}

async function crateDirNamed(dir: string, name: string, depth: number): Promise<string | null> {
  const text = await readFile(path.join(dir, 'Cargo.toml'), 'utf8').catch(() => null);
  if (text !== null && crateName(text) === name.replace(/-/g, '_')) return dir;
  if (depth === 0) return null;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'target') continue;
    const found = await crateDirNamed(path.join(dir, entry.name), name, depth - 1);
    if (found) return found;
  }
  return null;
}

function crateName(text: string): string | null {
  try {
    const name = (parseCargoToml(text).package as { name?: unknown } | undefined)?.name;
    // Cargo treats `-` and `_` in crate names alike.
    return typeof name === 'string' ? name.replace(/-/g, '_') : null;
  } catch {
    return null;
  }
}
