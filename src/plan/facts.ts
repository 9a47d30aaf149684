// What the planner knows about a repository and the host: gathered once, read-only, then handed
// to the pure planner as data.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TOOLCHAINS } from '../toolchains/registry.js';
import type { RepoFacts, Toolchain } from '../toolchains/types.js';

export type { HostFacts, RepoFacts } from '../toolchains/types.js';

/** Reads the facts from a checkout on disk. Only reads. */
export async function readRepoFacts(dir: string, branch: string | null, toolchains: readonly Toolchain[] = TOOLCHAINS): Promise<RepoFacts> {
  const wantedNames = new Set(toolchains.flatMap((t) => t.manifests));
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
  const wanted = files.filter((f) => wantedNames.has(path.basename(f)) && f.split('/').length <= 2);
  for (const rel of wanted) {
    const full = path.join(dir, rel);
    const info = await stat(full).catch(() => null);
    if (info?.isFile() && info.size < 2_000_000) manifests[rel] = await readFile(full, 'utf8');
  }
  // Each toolchain's workspace members, found once here; the plan carries them to the steps.
  const members: Record<string, string[]> = {};
  for (const toolchain of toolchains) {
    const found = toolchain.readMembers ? await toolchain.readMembers(dir, manifests) : [];
    if (found.length) members[toolchain.id] = found;
  }
  return { files: files.sort(), manifests, branch, ...(Object.keys(members).length ? { members } : {}) };
}
