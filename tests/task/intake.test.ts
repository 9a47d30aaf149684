// Intake is one function for the CLI and the server: the same --repo value and the same body field
// name the same repository (or the same mistake) in both. The CLI runs built, as a real process; the
// server runs in this process on 127.0.0.1 over real HTTP. An allowlist that matches nothing stops
// every task at the gates, whose refusal names the repository intake resolved, so nothing is cloned.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import { createAutodevServer, type AutodevServer } from '../../src/server/server.js';
import { resolveRepo } from '../../src/task/intake.js';
import { createTaskStore } from '../../src/store/task-store.js';
import { cleanEnv, makeRunDir, requireBuilt, runCli, type RunDir } from '../support/cli.js';

describe('resolveRepo', () => {
  it('makes local paths real and absolute, reads owner/name as GitHub, and names a missing directory', async () => {
    const cwd = await realpath(await mkdtemp(path.join(os.tmpdir(), 'resolve-')));
    try {
      await mkdir(path.join(cwd, 'acme', 'calc'), { recursive: true });
      const at = (githubApiUrl: string) => ({ cwd, githubApiUrl });
      expect(resolveRepo('acme/calc', at('https://api.github.com'))).toBe(path.join(cwd, 'acme', 'calc'));
      expect(resolveRepo('acme/other', at('https://api.github.com'))).toBe('https://github.com/acme/other.git');
      expect(resolveRepo('acme/other', at('https://ghe.example.com/api/v3'))).toBe('https://ghe.example.com/acme/other.git');
      expect(resolveRepo('https://example.com/x/y.git', at('https://api.github.com'))).toBe('https://example.com/x/y.git');
      expect(() => resolveRepo('./nope/deeper', { ...at('https://api.github.com'), fieldName: (k) => `--${k}` })).toThrow(
        /--repo \.\/nope\/deeper: no such directory/,
      );
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

describe('the CLI and the server read a repository the same way', () => {
  const ALLOWLIST = ['nothing/matches'];
  let box: RunDir;
  let server: AutodevServer;
  let url: string;
  let cwd: string;

  beforeAll(() => requireBuilt());
  beforeEach(async () => {
    box = await makeRunDir('autodev-intake-');
    cwd = await realpath(box.cwd);
    await writeFile(path.join(cwd, 'autodev.config.toml'), `[autodev]\nallowlist_repos = ${JSON.stringify(ALLOWLIST)}\n`);
    await mkdir(path.join(cwd, 'acme', 'local'), { recursive: true });
    const state = path.join(box.dir, 'server-state');
    server = createAutodevServer({
      config: autodevSchema.parse({ allowlist_repos: ALLOWLIST }),
      env: {},
      cwd,
      stateDir: state,
      store: createTaskStore(state),
      token: 'intake-parity-token',
    });
    url = await server.listen(0, '127.0.0.1');
  });
  afterEach(async () => {
    await server.close();
    await rm(box.dir, { recursive: true, force: true });
  });

  async function post(repo: string): Promise<{ status: number; error: string; field?: string }> {
    const res = await fetch(`${url}/api/v1/autodev/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer intake-parity-token' },
      body: JSON.stringify({ repo, title: 'Fix add' }),
    });
    return (await res.json().then((json: any) => ({ status: res.status, error: json.error, field: json.field }))) as {
      status: number;
      error: string;
      field?: string;
    };
  }

  const cli = (repo: string) => runCli(['run', '--repo', repo, '--title', 'Fix add', '--plan-only'], { cwd, env: cleanEnv(box) });

  it.each([
    ['owner/name that is no directory here: the GitHub repository', 'acme/calc', () => 'https://github.com/acme/calc.git'],
    ['owner/name that is a directory here: that directory', 'acme/local', () => path.join(cwd, 'acme', 'local')],
    ['a relative path: its real path', './acme/local/', () => path.join(cwd, 'acme', 'local')],
    ['a URL: as it is', 'https://example.com/x/y.git', () => 'https://example.com/x/y.git'],
    ['a URL with credentials: without them', 'https://someone:pw-123@example.com/x/y.git', () => 'https://example.com/x/y.git'],
  ])('%s', async (_what, repo, expected) => {
    const refusal = `repository ${expected()} is not in allowlist_repos`;
    const fromCli = await cli(repo);
    expect(fromCli.code).toBe(3);
    expect(fromCli.stderr).toContain(refusal);
    const fromServer = await post(repo);
    expect(fromServer.status).toBe(403);
    expect(fromServer.error).toContain(refusal);
    expect(fromServer.field).toBe('repo');
    for (const text of [fromCli.stderr, fromServer.error]) expect(text).not.toContain('pw-123');
  });

  it('refuses a path that does not exist, naming it, in both', async () => {
    const fromCli = await cli('./missing');
    expect(fromCli.code).toBe(2);
    expect(fromCli.stderr).toContain('--repo ./missing: no such directory');
    const fromServer = await post('./missing');
    expect(fromServer.status).toBe(400);
    expect(fromServer.error).toBe('repo ./missing: no such directory');
    expect(fromServer.field).toBe('repo');
  });
});
