// The clone cache (git.clone_cache): a bare mirror per remote, fetched before each clone, with each
// task's clone copied out of it. Real repositories throughout: a local bare repository, or one served
// over smart HTTP on 127.0.0.1, is the remote.
import { afterEach, describe, expect, it } from '@jest/globals';
import { chmod, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGit } from '../../src/ports/git.js';
import { cleanup, git, makeBareRemote, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startGitHttpServer } from '../support/git-http-server.js';

const BOT = { name: 'autodev-bot', email: 'bot@autodev.test' };
const TOKEN = 'ghp_FAKEtoken0123456789abcdefABCDEF0123';

afterEach(cleanup);

/** A work repository and the bare repository that is its `origin` (the remote a task clones). */
async function remote(): Promise<{ work: string; bare: string }> {
  const work = await makeRepo({ 'README.md': '# demo\n', 'src/lib.rs': 'pub fn one() -> u32 { 1 }\n' });
  return { work, bare: await makeBareRemote(work) };
}

async function commitAndPush(work: string, file: string, content: string, branch = 'main'): Promise<string> {
  await writeFile(join(work, file), content);
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-q', '-m', `change ${file}`]);
  await git(work, ['push', '-q', '-f', 'origin', `HEAD:refs/heads/${branch}`]);
  return git(work, ['rev-parse', 'HEAD']);
}

/** Two tasks' worth of git ports sharing one cache dir, as two autodev processes would. */
async function cache(): Promise<{ mirrorDir: string; lockDir: string; port: () => ReturnType<typeof createGit> }> {
  const root = await makeTempDir('autodev-mirror-cache-');
  const dirs = { mirrorDir: join(root, 'mirrors'), lockDir: join(root, 'locks') };
  return { ...dirs, port: () => createGit(dirs) };
}

async function dest(): Promise<string> {
  return join(await makeTempDir('autodev-mirror-ws-'), 'repo');
}

async function onlyMirror(mirrorDir: string): Promise<string> {
  const entries = await readdir(mirrorDir);
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatch(/^[0-9a-f]{16}\.git$/);
  return join(mirrorDir, entries[0]);
}

/** Every file under `dir`, as bytes. */
async function allFiles(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

describe('clone through the mirror', () => {
  it('makes the mirror on the first clone and fetches what the remote gained before the next one', async () => {
    const { work, bare } = await remote();
    const { mirrorDir, port } = await cache();
    const first = await dest();
    const one = await port().clone({ source: bare, dest: first });
    expect(one).toEqual({ branch: 'main', commit: await git(bare, ['rev-parse', 'main']), mirror: 'created' });
    const mirror = await onlyMirror(mirrorDir);

    // Between the tasks the remote moves on: a new commit on main, a new branch, a deleted branch.
    await commitAndPush(work, 'src/lib.rs', 'pub fn one() -> u32 { 1 }\npub fn two() -> u32 { 2 }\n');
    const devCommit = await commitAndPush(work, 'dev.txt', 'dev\n', 'dev');
    await git(work, ['push', '-q', 'origin', 'main:refs/heads/old']);
    await port().clone({ source: bare, dest: await dest() });
    await git(bare, ['branch', '-D', 'old']);
    const head = await git(bare, ['rev-parse', 'main']);

    const second = await dest();
    const two = await port().clone({ source: bare, dest: second });
    expect(two).toEqual({ branch: 'main', commit: head, mirror: 'updated' });
    expect(await readFile(join(second, 'src/lib.rs'), 'utf8')).toContain('two()');
    expect(await git(mirror, ['for-each-ref', '--format=%(refname)'])).toBe('refs/heads/dev\nrefs/heads/main');
    expect(await port().clone({ source: bare, dest: await dest(), branch: 'dev' })).toMatchObject({ branch: 'dev', commit: devCommit });

    // The task's clone looks like a direct one: shallow, one branch, origin the real remote.
    expect(await git(second, ['rev-parse', '--is-shallow-repository'])).toBe('true');
    expect(await git(second, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(await git(second, ['branch', '-r'])).toBe('  origin/main');
    expect(await port().remoteUrl(second)).toBe(pathToFileURL(bare).href);
    expect(await readFile(join(second, '.git', 'config'), 'utf8')).not.toContain(mirrorDir);
  });

  it('takes the remote default branch, and says which branch is missing', async () => {
    const work = await makeRepo({ 'a.txt': 'a\n' }, { branch: 'trunk' });
    const bare = await makeBareRemote(work);
    const { port } = await cache();
    expect(await port().clone({ source: bare, dest: await dest() })).toMatchObject({ branch: 'trunk', mirror: 'created' });
    await expect(port().clone({ source: bare, dest: await dest(), branch: 'nope' })).rejects.toThrow(
      /Remote branch nope not found in upstream origin/,
    );
  });

  it('keeps every task apart from the mirror and from each other; pushes go to the real remote', async () => {
    const { bare } = await remote();
    const { mirrorDir, port } = await cache();
    const a = await dest();
    const b = await dest();
    const portA = port();
    await portA.clone({ source: bare, dest: a });
    await port().clone({ source: bare, dest: b });
    const mirror = await onlyMirror(mirrorDir);
    const before = await allFiles(mirror);

    // Nothing links back: no alternates, no hard-linked object files.
    expect(await readFile(join(a, '.git/objects/info/alternates'), 'utf8').catch(() => null)).toBeNull();
    for (const { path } of await allFiles(join(a, '.git', 'objects'))) expect((await stat(path)).nlink).toBe(1);

    // Task A commits, makes a branch and pushes, then writes over its object files.
    await writeFile(join(a, 'src/lib.rs'), 'pub fn one() -> u32 { 11 }\n');
    await portA.createBranch(a, 'autodev/a');
    const sha = await portA.commitAll(a, 'change one', BOT);
    await portA.push(a, 'autodev/a', { force: true });
    for (const { path } of await allFiles(join(a, '.git', 'objects', 'pack'))) {
      await chmod(path, 0o644);
      await writeFile(path, 'clobbered by the task\n');
    }

    expect(await git(bare, ['rev-parse', 'refs/heads/autodev/a'])).toBe(sha);
    expect(await allFiles(mirror)).toEqual(before);
    await expect(git(mirror, ['cat-file', '-e', sha])).rejects.toThrow();
    expect(await git(b, ['status', '--porcelain'])).toBe('');
    expect(await git(b, ['fsck', '--no-progress'])).toBe('');
    expect(await readFile(join(b, 'src/lib.rs'), 'utf8')).toBe('pub fn one() -> u32 { 1 }\n');
  });

  it('rebuilds a mirror whose objects are corrupt, that is no repository, or that was made for another remote', async () => {
    const { bare } = await remote();
    const head = await git(bare, ['rev-parse', 'main']);
    const { mirrorDir, port } = await cache();
    await port().clone({ source: bare, dest: await dest() });
    const mirror = await onlyMirror(mirrorDir);

    for (const { path } of await allFiles(join(mirror, 'objects'))) {
      await chmod(path, 0o644);
      await writeFile(path, 'not a pack\n');
    }
    const afterCorruption = await dest();
    expect(await port().clone({ source: bare, dest: afterCorruption })).toEqual({ branch: 'main', commit: head, mirror: 'rebuilt' });
    expect(await git(afterCorruption, ['fsck', '--no-progress'])).toBe('');
    expect(await port().clone({ source: bare, dest: await dest() })).toMatchObject({ mirror: 'updated' });

    await writeFile(join(mirror, 'HEAD'), 'garbage\n');
    expect(await port().clone({ source: bare, dest: await dest() })).toMatchObject({ commit: head, mirror: 'rebuilt' });

    await writeFile(join(mirror, 'autodev-remote'), '/some/other/remote');
    expect(await port().clone({ source: bare, dest: await dest() })).toMatchObject({ commit: head, mirror: 'rebuilt' });
    expect(await git(mirror, ['fsck', '--no-progress'])).toBe('');
    expect(await readdir(mirrorDir)).toHaveLength(1);
  });

  it("keeps the mirror when the remote cannot be reached, and fails with git's reason", async () => {
    const { bare } = await remote();
    const { mirrorDir, port } = await cache();
    await port().clone({ source: bare, dest: await dest() });
    const mirror = await onlyMirror(mirrorDir);
    const before = await allFiles(mirror);
    const away = `${bare}.away`;
    await rename(bare, away);
    const argvs: string[][] = [];
    const watched = createGit({ mirrorDir, onCommand: (argv) => argvs.push(argv) });
    await expect(watched.clone({ source: bare, dest: await dest() })).rejects.toThrow(/does not appear to be a git repository/);
    // One fetch, and no rebuild: the remote did not answer, so the mirror was not to blame.
    expect(argvs.filter((argv) => argv.includes('fetch'))).toHaveLength(1);
    expect(argvs.filter((argv) => argv.includes('init'))).toEqual([]);
    expect(await allFiles(mirror)).toEqual(before);
    expect(await readdir(mirrorDir)).toHaveLength(1);
    await rename(away, bare);
    expect(await port().clone({ source: bare, dest: await dest() })).toMatchObject({ mirror: 'updated' });
  });

  it('follows a remote whose history was rewritten', async () => {
    const { work, bare } = await remote();
    const { port } = await cache();
    await port().clone({ source: bare, dest: await dest() });
    await git(work, ['commit', '-q', '--amend', '-m', 'rewritten']);
    await git(work, ['push', '-q', '-f', 'origin', 'main']);
    const rewritten = await git(work, ['rev-parse', 'HEAD']);
    expect(await port().clone({ source: bare, dest: await dest() })).toMatchObject({ commit: rewritten, mirror: 'updated' });
  });

  it('never stores the credentials of the URL or the token in the mirror', async () => {
    const { bare } = await remote();
    const password = 'p@ss:w0rd/secret';
    const server = await startGitHttpServer(join(bare, '..'), { login: { user: 'someone', password } });
    try {
      const root = await makeTempDir('autodev-mirror-cache-');
      const mirrorDir = join(root, 'mirrors');
      // The token would go to this host too: it is the configured GitHub host.
      const port = createGit({ mirrorDir, githubApiUrl: `${server.url}/api/v3` });
      const bareUrl = `${server.url}/remote.git`;
      const url = bareUrl.replace('http://', `http://someone:${encodeURIComponent(password)}@`);
      const target = await dest();
      expect(await port.clone({ source: url, dest: target, token: TOKEN })).toMatchObject({ mirror: 'created' });
      expect(await port.clone({ source: url, dest: await dest(), token: TOKEN })).toMatchObject({ mirror: 'updated' });
      // The user's credentials went to their host (for the fetches and the default branch), and nothing else.
      const login = `Basic ${Buffer.from(`someone:${password}`).toString('base64')}`;
      expect(server.authorizations.filter((a) => a !== undefined)).toContain(login);
      expect(server.authorizations.filter((a) => a !== undefined && a !== login)).toEqual([]);

      const secrets = [
        password,
        encodeURIComponent(password),
        'someone',
        TOKEN,
        Buffer.from(`someone:${password}`).toString('base64'),
        Buffer.from(`x-access-token:${TOKEN}`).toString('base64'),
      ];
      const files = [...(await allFiles(root)), ...(await allFiles(join(target, '.git')))];
      expect(files.length).toBeGreaterThan(5);
      for (const { path, bytes } of files) for (const secret of secrets) expect([path, bytes.includes(secret)]).toEqual([path, false]);
      expect(await port.remoteUrl(target)).toBe(bareUrl);
    } finally {
      await server.close();
    }
  });

  it('lets concurrent tasks on one repository take turns at the mirror', async () => {
    const { work, bare } = await remote();
    const { mirrorDir, port } = await cache();
    const head = await commitAndPush(work, 'more.txt', 'more\n');
    const targets = await Promise.all([1, 2, 3, 4].map(() => dest()));
    // Separate ports: the lock is on disk, as between processes.
    const results = await Promise.all(targets.map((target) => port().clone({ source: bare, dest: target })));
    expect(results.map((r) => r.commit)).toEqual([head, head, head, head]);
    expect(results.map((r) => r.mirror).sort()).toEqual(['created', 'updated', 'updated', 'updated']);
    const mirror = await onlyMirror(mirrorDir);
    expect(await git(mirror, ['fsck', '--no-progress'])).toBe('');
    for (const target of targets) expect(await readFile(join(target, 'more.txt'), 'utf8')).toBe('more\n');
  });

  it('is off without a mirror dir: the clone comes from the remote and says nothing of a mirror', async () => {
    const { bare } = await remote();
    const result = await createGit().clone({ source: bare, dest: await dest() });
    expect(result).toEqual({ branch: 'main', commit: await git(bare, ['rev-parse', 'main']) });
  });
});
