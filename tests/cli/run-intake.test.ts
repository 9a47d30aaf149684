// What `autodev run` does with the repository it is given, through the built CLI: the GitHub token
// goes to the GitHub host only, URL credentials are used for the clone and stored nowhere, a clone
// that fails says why, and the allowlist sees through symlinks.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_FILES } from '../support/calc-crate.js';
import { cleanup, makeRepo } from '../support/fixture-repo.js';
import { basicToken, startGitHttpServer, type GitHttpServer } from '../support/git-http-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { cleanEnv, lines, makeRunDir, requireBuilt, runCli, type RunDir } from '../support/cli.js';
import { hashTree } from '../support/tree.js';
import { closedPort } from '../support/http-util.js';

const TOKEN = 'ghp_intakeTOKEN0123456789abcdefABCDEF01';
const ENCODED = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const USER = 'someone';
const PASSWORD = 'Hunter2Pw-s3cret';
const OPENAI_KEY = 'intake-openai-key-0123456789';

let box: RunDir;
let crate: string;
/** A repository with no toolchain: a full run clones it, then stops (exit 1) before any build. */
let plain: string;
let server: GitHttpServer;
let llm: OpenAiServer;

beforeAll(async () => {
  requireBuilt();
  crate = await makeRepo(CALC_FILES, { bare: true });
  plain = await makeRepo({ 'README.md': '# nothing to build\n' }, { bare: true });
  llm = await startOpenAiServer({ apiKey: OPENAI_KEY });
});
afterAll(async () => {
  await llm.close();
  await cleanup();
});
beforeEach(async () => {
  box = await makeRunDir('clitest-');
});
afterEach(async () => {
  await server?.close();
});

const cli = (args: string[], extraEnv: Record<string, string> = {}) => runCli(args, { cwd: box.cwd, env: cleanEnv(box, extraEnv) });
const runEnv = (): Record<string, string> => ({
  GITHUB_TOKEN: TOKEN,
  OPENAI_API_KEY: OPENAI_KEY,
  AUTODEV_LLM_API_URL: llm.baseUrl,
  AUTODEV_SANDBOX: 'none',
});

/** The smart-HTTP server serving both fixture repositories (they sit in sibling temp dirs). */
async function serve(login?: { user: string; password: string }): Promise<{ crateUrl: string; plainUrl: string }> {
  const root = path.dirname(path.dirname(crate));
  server = await startGitHttpServer(root, { watch: [TOKEN, ENCODED, PASSWORD], ...(login ? { login } : {}) });
  const at = (repo: string) => `${server.url}/${path.relative(root, repo)}`;
  return { crateUrl: at(crate), plainUrl: at(plain) };
}

/** Every file the CLI left in its state dir (store, audit, metrics), with its text. */
async function stateFiles(): Promise<{ file: string; text: string }[]> {
  const dir = box.state;
  if (!existsSync(dir)) return [];
  const out: { file: string; text: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      out.push({ file: path.join(entry.parentPath, entry.name), text: await readFile(path.join(entry.parentPath, entry.name), 'utf8') });
  }
  return out;
}

describe('the GitHub token', () => {
  it('never reaches a --repo host that is not the configured GitHub host (--plan-only and run)', async () => {
    const { crateUrl, plainUrl } = await serve();

    const planned = await cli(['run', '--repo', crateUrl, '--title', 'Fix add', '--plan-only', '--json'], runEnv());
    expect(planned.code).toBe(0);
    expect(JSON.parse(planned.stdout).plan.toolchain).toBe('rust');
    const ran = await cli(['run', '--repo', plainUrl, '--title', 'Fix add', '--json', '--no-pr'], runEnv());
    // Cloned, then stopped: nothing to build (exit 1) — the clone is what talked to the host.
    expect(ran.code).toBe(1);
    expect(JSON.parse(ran.stdout).reason).toMatch(/cannot verify/);

    expect(server.requests.length).toBeGreaterThanOrEqual(4);
    expect(server.authorizations.filter((a) => a !== undefined)).toEqual([]);
    const headers = JSON.stringify(server.requests.map((r) => r.headers));
    expect(headers).not.toContain(TOKEN);
    expect(headers).not.toContain(ENCODED);
  });

  it('reaches it when git.github_api_url names that host (GitHub Enterprise)', async () => {
    const { crateUrl } = await serve();
    const planned = await cli(['run', '--repo', crateUrl, '--title', 'Fix add', '--plan-only', '--json'], {
      ...runEnv(),
      AUTODEV_GIT_GITHUB_API_URL: `${server.url}/api/v3`,
    });
    expect(planned.code).toBe(0);
    expect(server.authorizations).toContain(basicToken(TOKEN));
    expect(server.secretsInArgv).toEqual([]);
  });
});

describe('credentials in a --repo URL', () => {
  it('are used for the clone but reach no output, store record, audit trail or task listing', async () => {
    // The server lets in only this user: a clone that succeeds used the URL's credentials.
    const { crateUrl, plainUrl } = await serve({ user: USER, password: PASSWORD });
    const withCredentials = (url: string) => url.replace('http://', `http://${USER}:${PASSWORD}@`);

    const planned = await cli(['run', '--repo', withCredentials(crateUrl), '--title', 'Fix add', '--plan-only', '--json'], runEnv());
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout);
    expect(plan.task.repo).toBe(crateUrl);
    expect(plan.plan.steps[0].inputs.source).toBe(crateUrl);
    const ran = await cli(['run', '--repo', withCredentials(plainUrl), '--title', 'Fix add', '--json', '--no-pr'], runEnv());
    expect(ran.code).toBe(1);
    const result = JSON.parse(ran.stdout);
    // Cloned (it stopped after the clone, with nothing to build), so the clone had the credentials …
    expect(result.reason).toMatch(/cannot verify/);
    expect(result.task.repo).toBe(plainUrl);

    const listed = await cli(['tasks', 'list', '--json']);
    const table = await cli(['tasks', 'list']);
    const shown = await cli(['tasks', 'show', result.task.id]);
    const shownJson = await cli(['tasks', 'show', result.task.id, '--json']);
    expect(JSON.parse(shownJson.stdout).request.repo).toBe(plainUrl);
    const files = await stateFiles();
    expect(files.map((f) => path.basename(f.file))).toEqual(expect.arrayContaining([`${result.task.id}.json`, `${result.task.id}.jsonl`]));
    // … and nothing anywhere holds it.
    for (const text of [
      planned.stdout,
      planned.stderr,
      ran.stdout,
      ran.stderr,
      listed.stdout,
      table.stdout,
      shown.stdout,
      shownJson.stdout,
      ...files.map((f) => f.text),
    ]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(`${USER}:`);
      expect(text).not.toContain(`${USER}@`);
    }
    // The user's own command line holds it (their choice); git's never does: it gets it through its environment.
    expect(server.gitProcesses.length).toBeGreaterThan(0);
    expect(server.secretsInArgv.filter((cmdline) => !cmdline.includes('bin/autodev.js'))).toEqual([]);
  });
});

describe('a clone that fails', () => {
  it("says why with git's own reason: a bad --base, a plain directory, a file, file:///etc, an unreachable URL", async () => {
    const dir = path.join(box.dir, 'plain-dir');
    await mkdir(dir);
    const file = path.join(box.dir, 'a-file.txt');
    await writeFile(file, 'not a repository\n');
    const port = await closedPort();
    const cases: [string[], RegExp][] = [
      [['--repo', crate, '--base', 'no-such-branch'], new RegExp(`--base no-such-branch: branch not found in ${crate}`)],
      [['--repo', dir], new RegExp(`cannot clone ${dir}: '${dir}' does not appear to be a git repository`)],
      [['--repo', file], new RegExp(`cannot clone ${file}: (invalid gitfile format|.*does not appear to be a git repository)`)],
      [['--repo', 'file:///etc'], /cannot clone \/etc: '\/etc' does not appear to be a git repository/],
      [
        ['--repo', `http://127.0.0.1:${port}/o/r.git`],
        new RegExp(`cannot clone http://127.0.0.1:${port}/o/r.git: unable to access .*(connect|refused)`, 'i'),
      ],
    ];
    const messages: string[] = [];
    for (const [args, reason] of cases) {
      const result = await cli(['run', ...args, '--title', 't', '--plan-only', '--json']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toMatch(reason);
      expect(result.stderr).not.toMatch(/Cloning into|\n\s+at /);
      messages.push(result.stderr);
    }
    expect(new Set(messages).size).toBe(cases.length);
  });

  it('gives the same reason in the result of a full run (exit 1, JSON on stdout)', async () => {
    const result = await cli(['run', '--repo', crate, '--base', 'no-such-branch', '--title', 't', '--json', '--no-pr'], runEnv());
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout);
    expect(json.status).toBe('failed');
    expect(json.reason).toBe(`--base no-such-branch: branch not found in ${crate}`);
  });
});

describe('the allowlist', () => {
  it('refuses allowed/link -> ../victim (path or file:// URL) with exit 3, leaving the victim untouched', async () => {
    const victim = await makeRepo(CALC_FILES);
    const allowed = path.join(box.dir, 'allowed');
    await mkdir(allowed);
    await symlink(victim, path.join(allowed, 'link'));
    await writeFile(path.join(box.cwd, 'autodev.config.toml'), `[autodev]\nallowlist_repos = ["${allowed}/*"]\n`);
    const before = await hashTree(victim);
    for (const repo of [path.join(allowed, 'link'), `file://${allowed}/link`, '../allowed/link']) {
      for (const mode of [
        ['--plan-only', '--json'],
        ['--json', '--no-pr'],
      ]) {
        const result = await cli(['run', '--repo', repo, '--title', 'Fix add', ...mode], runEnv());
        expect(result.code).toBe(3);
        expect(lines(result.stderr)).toHaveLength(1);
        expect(result.stderr).toContain(`repository ${victim} is not in allowlist_repos`);
      }
    }
    expect(await hashTree(victim)).toEqual(before);
  });
});
