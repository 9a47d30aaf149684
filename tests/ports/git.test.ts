import { afterEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GitCommandError, createGit, githubGitOrigin } from '../../src/ports/git.js';
import { caught } from '../support/caught.js';
import { cleanup, git, makeBareRemote, makeRepo, makeTempDir, snapshotTree } from '../support/fixture-repo.js';
import { startGitHttpServer } from '../support/git-http-server.js';
import { closedPort } from '../support/http-util.js';

const TOKEN = 'ghp_FAKEtoken0123456789abcdefABCDEF0123';
const ENCODED = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const BOT = { name: 'autodev-bot', email: 'bot@autodev.test' };

afterEach(cleanup);

async function threeCommitRepo(): Promise<string> {
  return makeRepo(
    { 'README.md': '# demo\n', 'src/lib.rs': 'pub fn one() -> u32 { 1 }\n' },
    {
      commits: [
        { message: 'two', files: { 'src/lib.rs': 'pub fn one() -> u32 { 1 }\npub fn two() -> u32 { 2 }\n' } },
        { message: 'three', files: { 'src/main.rs': 'fn main() {}\n', 'README.md': '# demo\n\nmore\n' } },
      ],
    },
  );
}

async function dest(): Promise<string> {
  return join(await makeTempDir('autodev-clone-'), 'checkout');
}

describe('clone', () => {
  it('shallow-clones a local path through file:// (depth 1) and reports branch and commit', async () => {
    const source = await threeCommitRepo();
    const target = await dest();
    const result = await createGit().clone({ source, dest: target });
    expect(result).toEqual({ branch: 'main', commit: await git(source, ['rev-parse', 'HEAD']) });
    expect(await git(target, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(await git(target, ['rev-parse', '--is-shallow-repository'])).toBe('true');
    expect(await git(target, ['tag', '--list'])).toBe('');
    expect(await createGit().remoteUrl(target)).toBe(pathToFileURL(source).href);
    expect(await readFile(join(target, 'src/main.rs'), 'utf8')).toBe('fn main() {}\n');
  });

  it('shallow-clones a file:// URL', async () => {
    const source = await threeCommitRepo();
    const target = await dest();
    await createGit().clone({ source: pathToFileURL(source).href, dest: target });
    expect(await git(target, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(await createGit().listFiles(target)).toEqual(['README.md', 'src/lib.rs', 'src/main.rs']);
  });

  it('clones the given branch only', async () => {
    const source = await threeCommitRepo();
    await git(source, ['checkout', '-q', '-b', 'dev']);
    await writeFile(join(source, 'dev.txt'), 'dev\n');
    await git(source, ['add', '-A']);
    await git(source, ['commit', '-q', '-m', 'dev work']);
    const devCommit = await git(source, ['rev-parse', 'HEAD']);
    await git(source, ['checkout', '-q', 'main']);
    const target = await dest();
    expect(await createGit().clone({ source, dest: target, branch: 'dev' })).toEqual({ branch: 'dev', commit: devCommit });
    expect((await git(target, ['branch', '-r'])).trim()).toBe('origin/dev');
  });

  it('fails with a git error for a missing branch', async () => {
    const source = await threeCommitRepo();
    await expect(createGit().clone({ source, dest: await dest(), branch: 'nope' })).rejects.toThrow(/git clone failed: .*nope/s);
  });

  it('says why a clone failed with git\'s fatal line, never its "Cloning into" line', async () => {
    const source = await threeCommitRepo();
    const scratch = await makeTempDir('autodev-notrepo-');
    const plain = join(scratch, 'plain');
    await mkdir(plain);
    const file = join(scratch, 'file.txt');
    await writeFile(file, 'not a repository\n');
    const cases: [Parameters<ReturnType<typeof createGit>['clone']>[0]['source'], string | null, RegExp][] = [
      [source, 'nope', /^Remote branch nope not found in upstream origin$/],
      [plain, null, new RegExp(`^'${plain}' does not appear to be a git repository$`)],
      [file, null, /^(invalid gitfile format|.*does not appear to be a git repository)/],
      ['file:///etc', null, /^'\/etc' does not appear to be a git repository$/],
      [
        `http://127.0.0.1:${await closedPort()}/o/r.git`,
        null,
        /^unable to access 'http:\/\/127\.0\.0\.1:\d+\/o\/r\.git\/': .*(connect|Connection refused)/i,
      ],
    ];
    for (const [from, branch, reason] of cases) {
      const error = await caught(createGit().clone({ source: from, dest: await dest(), branch }));
      expect(error).toBeInstanceOf(GitCommandError);
      expect((error as GitCommandError).reason).toMatch(reason);
    }
  });
});

describe('defaultBranch', () => {
  it('reads the HEAD symref of a path and of a file:// URL without cloning', async () => {
    const source = await makeRepo({ 'a.txt': 'a\n' }, { branch: 'trunk' });
    const bare = await makeRepo({ 'a.txt': 'a\n' }, { branch: 'develop', bare: true });
    expect(await createGit().defaultBranch(source)).toBe('trunk');
    expect(await createGit().defaultBranch(pathToFileURL(bare).href)).toBe('develop');
  });
});

describe('token handling over http', () => {
  it('authenticates clone, defaultBranch and push with the token but keeps it out of argv, config and messages', async () => {
    const work = await threeCommitRepo();
    const bare = await makeBareRemote(work);
    const server = await startGitHttpServer(join(bare, '..'), { token: TOKEN, watch: [TOKEN, ENCODED] });
    try {
      const argvs: string[][] = [];
      // This server is the GitHub (Enterprise) host: the token is for it.
      const port = createGit({ onCommand: (argv) => argvs.push(argv), githubApiUrl: `${server.url}/api/v3` });
      const url = `${server.url}/remote.git`;
      const target = await dest();

      expect(await port.defaultBranch(url, TOKEN)).toBe('main');
      const cloned = await port.clone({ source: url, dest: target, token: TOKEN });
      expect(cloned.commit).toBe(await git(work, ['rev-parse', 'HEAD']));
      await port.createBranch(target, 'autodev/task-1');
      await writeFile(join(target, 'new.txt'), 'new\n');
      const sha = await port.commitAll(target, 'add new.txt', BOT);
      await port.push(target, 'autodev/task-1', { token: TOKEN, force: true });

      expect(await git(bare, ['rev-parse', 'refs/heads/autodev/task-1'])).toBe(sha);
      // Every request carried the token, so the server really received it from git.
      expect(server.authorizations.length).toBeGreaterThan(3);
      expect(new Set(server.authorizations)).toEqual(new Set([`Basic ${ENCODED}`]));
      // ps-visible argv: scanned while git was connected to the server.
      expect(server.gitProcesses.length).toBeGreaterThan(0);
      expect(server.secretsInArgv).toEqual([]);
      expect(argvs.length).toBeGreaterThan(5);
      expect(JSON.stringify(argvs)).not.toContain(TOKEN);
      expect(JSON.stringify(argvs)).not.toContain(ENCODED);
      const config = await readFile(join(target, '.git', 'config'), 'utf8');
      expect(config).not.toContain(TOKEN);
      expect(config).not.toContain(ENCODED);
      expect(await port.remoteUrl(target)).toBe(url);
    } finally {
      await server.close();
    }
  });

  it('fails without prompting when the server rejects the credentials', async () => {
    const work = await threeCommitRepo();
    const bare = await makeBareRemote(work);
    const server = await startGitHttpServer(join(bare, '..'), { token: TOKEN });
    try {
      const failure = createGit({ githubApiUrl: `${server.url}/api/v3` }).clone({
        source: `${server.url}/remote.git`,
        dest: await dest(),
        token: 'wrong-token-value',
      });
      await expect(failure).rejects.toThrow(/git clone failed/);
      await expect(failure).rejects.not.toThrow(/wrong-token-value/);
    } finally {
      await server.close();
    }
  });

  it('keeps the token and URL credentials out of the error of a failed clone', async () => {
    const port = await closedPort();
    const failure = createGit().clone({ source: `https://127.0.0.1:${port}/owner/repo.git`, dest: await dest(), token: TOKEN });
    await expect(failure).rejects.toThrow(/git clone failed: .*127\.0\.0\.1/s);
    const message = await failure.catch((error: Error) => `${error.message}\n${error.stack ?? ''}`);
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain(ENCODED);

    const withUserInfo = createGit().clone({ source: `http://someone:hunter2secret@127.0.0.1:${port}/o/r.git`, dest: await dest() });
    const userInfoMessage = await withUserInfo.then(
      () => '',
      (error: Error) => error.message,
    );
    expect(userInfoMessage).toMatch(/git clone failed/);
    expect(userInfoMessage).not.toContain('hunter2secret');
  });
});

describe('the token goes to the GitHub host only', () => {
  it('knows the git host of each GitHub API', () => {
    expect(githubGitOrigin('https://api.github.com')).toBe('https://github.com');
    expect(githubGitOrigin('https://api.github.com/')).toBe('https://github.com');
    expect(githubGitOrigin('https://ghe.corp.example/api/v3')).toBe('https://ghe.corp.example');
    expect(githubGitOrigin('http://127.0.0.1:8080/api/v3')).toBe('http://127.0.0.1:8080');
    expect(githubGitOrigin('https://api.acme.ghe.com')).toBe('https://acme.ghe.com');
    expect(githubGitOrigin('not a url')).toBeNull();
  });

  it('never sends it to another http(s) host, by default or with another GitHub host configured, and sends it to the configured one', async () => {
    const work = await threeCommitRepo();
    const bare = await makeBareRemote(work);
    const server = await startGitHttpServer(join(bare, '..'), { watch: [TOKEN, ENCODED] });
    try {
      const url = `${server.url}/remote.git`;
      const port = server.url.split(':').pop();
      const elsewhere = [
        undefined,
        'https://api.github.com',
        'https://ghe.corp.example/api/v3',
        `http://localhost:${port}/api/v3`,
        `https://127.0.0.1:${port}/api/v3`,
      ];
      for (const githubApiUrl of elsewhere) {
        const gitPort = createGit(githubApiUrl === undefined ? {} : { githubApiUrl });
        expect(await gitPort.defaultBranch(url, TOKEN)).toBe('main');
        const target = await dest();
        await gitPort.clone({ source: url, dest: target, token: TOKEN });
        await gitPort.createBranch(target, 'autodev/foreign');
        await writeFile(join(target, 'new.txt'), `${githubApiUrl}\n`);
        await gitPort.commitAll(target, 'add new.txt', BOT);
        await gitPort.push(target, 'autodev/foreign', { token: TOKEN, force: true });
      }
      // Clone, ls-remote and push all reached the server, and not one request carried the token.
      expect(server.requests.filter((r) => r.method === 'POST').length).toBeGreaterThanOrEqual(elsewhere.length * 2);
      expect(server.authorizations.filter((a) => a !== undefined)).toEqual([]);
      const sent = JSON.stringify(server.requests.map((r) => r.headers));
      expect(sent).not.toContain(TOKEN);
      expect(sent).not.toContain(ENCODED);

      const seen = server.requests.length;
      await createGit({ githubApiUrl: `${server.url}/api/v3` }).clone({ source: url, dest: await dest(), token: TOKEN });
      expect(server.authorizations.slice(seen)).toContain(`Basic ${ENCODED}`);
      expect(server.secretsInArgv).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('credentials in an http(s) URL', () => {
  it('authenticate the clone and its pushes through the environment: never in argv, .git/config or a message', async () => {
    const work = await threeCommitRepo();
    const bare = await makeBareRemote(work);
    const password = 'p@ss:w0rd/secret';
    const server = await startGitHttpServer(join(bare, '..'), {
      login: { user: 'someone', password },
      watch: [password, encodeURIComponent(password)],
    });
    try {
      const argvs: string[][] = [];
      const port = createGit({ onCommand: (argv) => argvs.push(argv) });
      const bareUrl = `${server.url}/remote.git`;
      const url = bareUrl.replace('http://', `http://someone:${encodeURIComponent(password)}@`);
      const target = await dest();

      expect(await port.defaultBranch(url)).toBe('main');
      await port.clone({ source: url, dest: target, token: TOKEN });
      await port.createBranch(target, 'autodev/login');
      await writeFile(join(target, 'new.txt'), 'new\n');
      const sha = await port.commitAll(target, 'add new.txt', BOT);
      await port.push(target, 'autodev/login', { token: TOKEN, force: true });

      expect(await git(bare, ['rev-parse', 'refs/heads/autodev/login'])).toBe(sha);
      expect(await port.remoteUrl(target)).toBe(bareUrl);
      expect(await readFile(join(target, '.git', 'config'), 'utf8')).not.toContain('someone');
      expect(server.gitProcesses.length).toBeGreaterThan(0);
      expect(server.secretsInArgv).toEqual([]);
      expect(JSON.stringify(argvs)).not.toContain(encodeURIComponent(password));
      // The user's credentials, not the token, went to their host.
      expect(
        server.authorizations.filter((a) => a !== undefined && a !== `Basic ${Buffer.from(`someone:${password}`).toString('base64')}`),
      ).toEqual([]);

      const wrong = await caught(port.clone({ source: url.replace(encodeURIComponent(password), 'wrong-password'), dest: await dest() }));
      expect(wrong.message).toMatch(/git clone failed/);
      expect(wrong.message).not.toContain('wrong-password');
    } finally {
      await server.close();
    }
  });
});

describe('stalled remotes', () => {
  it('gives up on a silent server after timeoutMs, and when the signal aborts', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const source = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/o/r.git`;
    try {
      await expect(createGit({ timeoutMs: 300 }).clone({ source, dest: await dest() })).rejects.toThrow(/git clone failed: .*timeout/s);
      const controller = new AbortController();
      const aborted = createGit().clone({ source, dest: await dest(), signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => silent.close(done));
    }
  });
});

describe('working in a clone', () => {
  const patch = [
    '--- a/src/lib.rs',
    '+++ b/src/lib.rs',
    '@@ -1,2 +1,3 @@',
    ' pub fn one() -> u32 { 1 }',
    ' pub fn two() -> u32 { 2 }',
    '+pub fn three() -> u32 { 3 }',
    '',
  ].join('\n');

  it('applies a patch (check mode leaves files alone) and reports a failing one', async () => {
    const target = await dest();
    const port = createGit();
    await port.clone({ source: await threeCommitRepo(), dest: target });

    expect(await port.apply(target, patch, { check: true })).toEqual({ ok: true, error: '' });
    expect(await port.changedFiles(target)).toEqual([]);
    expect(await port.apply(target, patch)).toEqual({ ok: true, error: '' });
    expect(await readFile(join(target, 'src/lib.rs'), 'utf8')).toContain('three');

    const again = await port.apply(target, patch, { check: true });
    expect(again.ok).toBe(false);
    expect(again.error).toMatch(/patch does not apply/);
    expect(await port.apply(target, '')).toEqual({ ok: false, error: 'empty patch' });
  });

  it('diffs and lists changes including untracked files without touching the index', async () => {
    const target = await dest();
    const port = createGit();
    await port.clone({ source: await threeCommitRepo(), dest: target });
    await port.apply(target, patch);
    await writeFile(join(target, 'added.txt'), 'brand new\n');
    const before = await snapshotTree(target);

    expect(await port.changedFiles(target)).toEqual(['added.txt', 'src/lib.rs']);
    const diff = await port.diff(target);
    expect(diff).toContain('+pub fn three() -> u32 { 3 }');
    expect(diff).toContain('+++ b/added.txt');
    expect(await port.diff(target, { cached: true })).toBe('');
    expect(await snapshotTree(target)).toEqual(before);

    await port.resetHard(target);
    expect(await port.changedFiles(target)).toEqual([]);
    expect(await git(target, ['status', '--porcelain'])).toBe('');
  });

  it('commits on a new branch as the bot without touching git config, and runs no hooks', async () => {
    const target = await dest();
    const port = createGit();
    const { commit: base } = await port.clone({ source: await threeCommitRepo(), dest: target });
    const hook = join(target, '.git', 'hooks', 'post-checkout');
    await writeFile(hook, `#!/bin/sh\ntouch "${join(target, '.git', 'hook-ran')}"\n`);
    await chmod(hook, 0o755);

    await port.createBranch(target, 'autodev/fix-1');
    await port.apply(target, patch);
    const sha = await port.commitAll(target, 'Add three\n\nBody line.', BOT);

    expect(await port.headCommit(target)).toBe(sha);
    expect(await git(target, ['symbolic-ref', '--short', 'HEAD'])).toBe('autodev/fix-1');
    expect(await git(target, ['log', '-1', '--format=%an <%ae>|%cn <%ce>|%B'])).toBe(
      'autodev-bot <bot@autodev.test>|autodev-bot <bot@autodev.test>|Add three\n\nBody line.',
    );
    expect(await git(target, ['config', '--local', '--list'])).not.toMatch(/user\.(name|email)/);
    expect(await port.changedFiles(target, base)).toEqual(['src/lib.rs']);
    expect(await port.diff(target, { base })).toContain('+pub fn three()');
    await expect(readFile(join(target, '.git', 'hook-ran'))).rejects.toThrow(/ENOENT/);
    await expect(port.createBranch(target, '--force')).rejects.toThrow(/invalid branch name/);
    await expect(port.createBranch(target, 'bad..name')).rejects.toThrow(/invalid branch name/);
  });

  it('starts the branch at the base and commits what git apply --index staged: checkout, apply, commit, show', async () => {
    const target = await dest();
    const commands: string[][] = [];
    const port = createGit({ onCommand: (argv) => commands.push(argv.slice(argv.indexOf('-c') + 2)) });
    const { commit: base } = await port.clone({ source: await threeCommitRepo(), dest: target });
    // What a baseline build leaves: an untracked file, and a tracked one it rewrote.
    await writeFile(join(target, 'build-output.txt'), 'artifact\n');
    await writeFile(join(target, 'README.md'), 'rewritten by the build\n');
    commands.length = 0;

    await port.startBranch(target, 'autodev/fix-1', base);
    expect(await port.apply(target, patch, { index: true })).toEqual({ ok: true, error: '' });
    const { commit, diff } = await port.commitIndex(target, 'Add three\n\nBody line.', BOT);

    expect(commands.map((argv) => argv.find((a) => !a.startsWith('-') && !a.includes('=')))).toEqual([
      'checkout',
      'apply',
      'commit',
      'show',
    ]);
    expect(commit).toBe(await git(target, ['rev-parse', 'HEAD']));
    expect(await git(target, ['symbolic-ref', '--short', 'HEAD'])).toBe('autodev/fix-1');
    expect(await git(target, ['rev-parse', 'HEAD~1'])).toBe(base);
    expect(diff).toBe(`${await git(target, ['diff', '--no-color', '--no-renames', base, commit])}\n`);
    // Only the patch is committed: the build's rewrite was undone, its untracked output left out.
    expect(await git(target, ['diff', '--name-only', base, commit])).toBe('src/lib.rs');
    expect(await git(target, ['log', '-1', '--format=%an <%ae>|%B'])).toBe('autodev-bot <bot@autodev.test>|Add three\n\nBody line.');
    expect(await git(target, ['config', '--local', '--list'])).not.toMatch(/user\.(name|email)|maintenance/);

    // A later round: back to the base on the same branch, and `clean` removes what the round left.
    await writeFile(join(target, 'left-by-round-1.txt'), 'x\n');
    await port.startBranch(target, 'autodev/fix-1', base, { clean: true });
    expect(await git(target, ['rev-parse', 'HEAD'])).toBe(base);
    expect(await git(target, ['status', '--porcelain'])).toBe('');
    // Files written outside git (the text layers) are added by name, and only those.
    await writeFile(join(target, 'src/new.rs'), 'pub fn new() {}\n');
    await writeFile(join(target, 'stray.txt'), 'not part of the change\n');
    const second = await port.commitIndex(target, 'Add new', BOT, ['src/new.rs']);
    expect(await git(target, ['diff', '--name-only', base, second.commit])).toBe('src/new.rs');
    expect(second.diff).toContain('+++ b/src/new.rs');

    await expect(port.startBranch(target, '--force', base)).rejects.toThrow(/invalid branch name/);
    await expect(port.startBranch(target, 'bad..name', base)).rejects.toThrow(/not a valid branch name/);
  });

  it('gives per-commit changed files for a full clone and nothing for a shallow one', async () => {
    const source = await threeCommitRepo();
    const port = createGit();
    const full = await dest();
    await port.clone({ source, dest: full, depth: 0 });
    expect(await port.history(full, 10)).toEqual([['README.md', 'src/main.rs'], ['src/lib.rs'], ['README.md', 'src/lib.rs']]);
    expect(await port.history(full, 1)).toEqual([['README.md', 'src/main.rs']]);
    const shallow = await dest();
    await port.clone({ source, dest: shallow });
    expect(await port.history(shallow, 10)).toEqual([]);
  });
});

describe('push', () => {
  async function commitInClone(source: string, content: string): Promise<{ target: string; sha: string }> {
    const port = createGit();
    const target = await dest();
    await port.clone({ source, dest: target });
    await port.createBranch(target, 'autodev/task');
    await writeFile(join(target, 'change.txt'), content);
    return { target, sha: await port.commitAll(target, `change ${content}`, BOT) };
  }

  it('pushes a new branch into a local non-bare repo leaving its tree, index and HEAD unchanged', async () => {
    const user = await threeCommitRepo();
    await writeFile(join(user, 'uncommitted.txt'), 'work in progress\n');
    await writeFile(join(user, 'README.md'), 'edited but not staged\n');
    const before = await snapshotTree(user);
    const { target, sha } = await commitInClone(user, 'one');

    await createGit().push(target, 'autodev/task');

    expect(await git(user, ['rev-parse', 'refs/heads/autodev/task'])).toBe(sha);
    expect(await snapshotTree(user)).toEqual(before);
  });

  it('pushes a new branch to a bare remote with one push: no ref-format check, no work-tree listing, no ls-remote', async () => {
    const bare = await makeBareRemote(await threeCommitRepo());
    const { target, sha } = await commitInClone(bare, 'one');
    const commands: string[][] = [];
    const port = createGit({ onCommand: (argv) => commands.push(argv.slice(argv.indexOf('-c') + 2)) });

    await port.push(target, 'autodev/task', { force: true });

    expect(await git(bare, ['rev-parse', 'refs/heads/autodev/task'])).toBe(sha);
    expect(commands.map((argv) => argv[0])).toEqual(['config', 'push']);
    await expect(port.push(target, 'bad..name', { force: true })).rejects.toThrow(/invalid refspec/);
  });

  it("refuses to push to the repo's checked-out branch", async () => {
    const user = await threeCommitRepo();
    await git(user, ['config', 'receive.denyCurrentBranch', 'updateInstead']);
    const before = await snapshotTree(user);
    const { target } = await commitInClone(user, 'one');
    await expect(createGit().push(target, 'main', { force: true })).rejects.toThrow(/refused: branch main is checked out/);
    expect(await snapshotTree(user)).toEqual(before);
  });

  it('pushes one branch from many runs at once one after the other (a lock per remote, whatever path names it)', async () => {
    const work = await threeCommitRepo();
    const bare = await makeBareRemote(work);
    const alias = join(await makeTempDir('autodev-alias-'), 'link.git');
    await symlink(bare, alias);
    const lockDir = join(await makeTempDir('autodev-locks-'), 'locks');
    const port = createGit({ lockDir });
    // Half of them reach the remote through a symlink: still the same remote, so the same lock.
    const clones = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => commitInClone(i % 2 === 0 ? bare : alias, `run ${i}`)));

    const results = await Promise.allSettled(clones.map((c) => port.push(c.target, 'autodev/task', { force: true })));

    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(clones.map((c) => c.sha)).toContain(await git(bare, ['rev-parse', 'refs/heads/autodev/task']));
  });

  it('updates the branch with force on a re-run or after an amend, and refuses without force', async () => {
    const work = await threeCommitRepo();
    const bare = await makeBareRemote(work);
    const port = createGit();
    const first = await commitInClone(bare, 'first');
    await port.push(first.target, 'autodev/task', { force: true });

    const rerun = await commitInClone(bare, 'second');
    await expect(port.push(rerun.target, 'autodev/task')).rejects.toThrow(/git push failed/);
    expect(await git(bare, ['rev-parse', 'refs/heads/autodev/task'])).toBe(first.sha);
    // The plain push is rejected (the branch holds the first run's commit): then the lease.
    const commands: string[][] = [];
    const counted = createGit({ onCommand: (argv) => commands.push(argv.slice(argv.indexOf('-c') + 2)) });
    await counted.push(rerun.target, 'autodev/task', { force: true });
    expect(await git(bare, ['rev-parse', 'refs/heads/autodev/task'])).toBe(rerun.sha);
    expect(commands.map((argv) => argv[0])).toEqual(['config', 'push', 'ls-remote', 'push']);
    expect(commands[3]).toContain(`--force-with-lease=refs/heads/autodev/task:${first.sha}`);

    await git(rerun.target, ['commit', '--amend', '-q', '-m', 'amended']);
    const amended = await port.headCommit(rerun.target);
    await port.push(rerun.target, 'autodev/task', { force: true });
    expect(await git(bare, ['rev-parse', 'refs/heads/autodev/task'])).toBe(amended);
  });
});

describe('reading a revision', () => {
  it('lists the files and shows a file as they were at an older commit', async () => {
    const repo = await makeRepo(
      { 'Cargo.toml': 'v1\n', 'src/lib.rs': 'old\n' },
      { commits: [{ message: 'change', files: { 'Cargo.toml': 'v2\n', 'src/new.rs': 'n\n' } }] },
    );
    const port = createGit();
    const first = (await git(repo, ['rev-list', '--max-parents=0', 'HEAD'])).trim();
    expect(await port.listFiles(repo, first)).toEqual(['Cargo.toml', 'src/lib.rs']);
    expect(await port.listFiles(repo)).toEqual(['Cargo.toml', 'src/lib.rs', 'src/new.rs']);
    expect(await port.showFile(repo, first, 'Cargo.toml')).toBe('v1\n');
    expect(await port.showFile(repo, 'HEAD', 'Cargo.toml')).toBe('v2\n');
    await expect(port.showFile(repo, first, 'src/new.rs')).rejects.toThrow(/git show failed/);
  });
});
