// What a directory holds, as something a test compares before and after a run: every file, directory
// and symlink (.git included) with its kind, mode and bytes.
import { createHash } from 'node:crypto';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';

/** Every entry under `dir` by relative path: `dir <mode>`, `link <target>` or `file <mode> <sha256>`. */
export async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const childRel = path.join(rel, entry.name);
      const childFull = path.join(dir, childRel);
      if (entry.isSymbolicLink()) {
        out.set(childRel, `link ${await readlink(childFull)}`);
      } else if (entry.isDirectory()) {
        out.set(childRel, `dir ${(await stat(childFull)).mode}`);
        await walk(childRel);
      } else {
        const digest = createHash('sha256')
          .update(await readFile(childFull))
          .digest('hex');
        out.set(childRel, `file ${(await stat(childFull)).mode} ${digest}`);
      }
    }
  }
  await walk('');
  return out;
}

/** The whole of `hashTree` as one hash: equal hashes mean byte-for-byte unchanged. */
export async function hashDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const [rel, entry] of await hashTree(dir)) hash.update(`${rel}\0${entry}\0`);
  return hash.digest('hex');
}
