// git.clone_cache as a task is prepared: on (the default), its clone goes through the repository's
// mirror under the cache dir; off, straight from the remote with no mirror made.
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import { inputsOf, type CloneInputs } from '../../src/plan/types.js';
import { cloneRepository } from '../../src/steps/clone.js';
import { prepareTask } from '../../src/task/prepare.js';
import { cleanup, git, makeRepo, makeTempDir } from '../support/fixture-repo.js';

afterEach(cleanup);

async function prepareAndClone(git: Record<string, unknown>) {
  const bare = await makeRepo({ 'README.md': '# calc\n' }, { bare: true });
  const cache = await makeTempDir('autodev-prepare-cache-');
  const task = await prepareTask({
    request: { repo: bare, title: 'Fix add', description: '', risk: 'medium', noPr: true, keepWorkspace: false },
    config: autodevSchema.parse({ git: { github_repo: 'acme/calc', ...git } }),
    env: { XDG_CACHE_HOME: cache, HOME: cache },
  });
  const dest = join(await makeTempDir('autodev-prepare-ws-'), 'repo');
  const cloned = await cloneRepository({ git: task.git, inputs: inputsOf<CloneInputs>(task.clone), token: null, dest });
  return { bare, cloned, mirrors: join(cache, 'autodev', 'mirrors') };
}

describe('git.clone_cache', () => {
  it('is on by default: the clone makes the repository mirror under the cache dir', async () => {
    const { bare, cloned, mirrors } = await prepareAndClone({});
    expect(cloned).toEqual({ branch: 'main', commit: await git(bare, ['rev-parse', 'main']), mirror: 'created' });
    expect(await readdir(mirrors)).toHaveLength(1);
  });

  it('off: the clone comes from the remote and no mirror is made', async () => {
    const { bare, cloned, mirrors } = await prepareAndClone({ clone_cache: false });
    expect(cloned).toEqual({ branch: 'main', commit: await git(bare, ['rev-parse', 'main']) });
    expect(existsSync(mirrors)).toBe(false);
  });
});
