// One directory per task under the OS temp dir: the clone lives in <dir>/repo.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Workspace {
  dir: string;
  repoDir: string;
  remove(): Promise<void>;
}

export async function createWorkspace(taskId: string, root = os.tmpdir()): Promise<Workspace> {
  const dir = await mkdtemp(path.join(root, `autodev-${taskId}-`));
  return {
    dir,
    repoDir: path.join(dir, 'repo'),
    remove: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}
