// What `serve` accepts as a repository, with the server in this process on 127.0.0.1 and real
// HTTP: without a token it takes local paths only when allowlist_repos names them; credentials in a
// repository URL are used for the clone and never stored; the GitHub token goes to no other host.
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import { createAutodevServer, type AutodevServer } from '../../src/server/server.js';
import { createTaskStore, type StoredTask, type TaskStore } from '../../src/store/task-store.js';
import { until } from '../support/poll.js';
import { cleanup, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { basicAuth, startGitHttpServer, type GitHttpServer } from '../support/git-http-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';

const TOKEN = 'ghp_serveINTAKE0123456789abcdefABCDEF0';
const PASSWORD = 'Serve-Hunter2-pw';
const SERVE_TOKEN = 'serve-intake-token-0123456789abcdef';

const started: { server: AutodevServer; git?: GitHttpServer; llm: OpenAiServer }[] = [];

afterEach(async () => {
  for (const { server, git, llm } of started.splice(0)) {
    await server.close();
    await git?.close();
    await llm.close();
  }
});
afterAll(cleanup);

interface Serving {
  url: string;
  store: TaskStore;
  state: string;
  post(body: unknown): Promise<{ status: number; json: any }>;
  finished(id: string): Promise<StoredTask>;
}

async function startServer(options: { allowlist?: string[]; token?: string | null; git?: GitHttpServer } = {}): Promise<Serving> {
  const dir = await makeTempDir('autodev-serve-intake-');
  const state = path.join(dir, 'state');
  const env = {
    HOME: dir,
    XDG_STATE_HOME: state,
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    GITHUB_TOKEN: TOKEN,
    OPENAI_API_KEY: 'serve-intake-openai-key',
  };
  const store = createTaskStore(state);
  const token = options.token ?? null;
  // A run checks that its model endpoint answers before it clones; this one is never asked anything
  // (the repositories here have nothing to build).
  const llm = await startOpenAiServer({ replies: [] });
  const server = createAutodevServer({
    config: autodevSchema.parse({ allowlist_repos: options.allowlist ?? [], sandbox: 'none', llm: { api_url: llm.baseUrl } }),
    env,
    cwd: dir,
    stateDir: state,
    store,
    token,
  });
  started.push({ server, git: options.git, llm });
  const url = await server.listen(0, '127.0.0.1');
  return {
    url,
    store,
    state,
    async post(body) {
      const res = await fetch(`${url}/api/v1/autodev/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    },
    finished: (id) =>
      until(`task ${id} to finish`, async () => {
        const task = await store.get(id);
        return task && task.exitCode !== null ? task : undefined;
      }),
  };
}

/** A repository with nothing to build: a task on it clones, then fails at once (no sandbox, no model). */
async function plainRepo(): Promise<string> {
  return makeRepo({ 'README.md': '# nothing to build\n' }, { bare: true });
}

describe('serve without a token', () => {
  it('refuses local repositories (path or file:// URL) unless allowlist_repos names them, with 403 naming allowlist_repos', async () => {
    const repo = await plainRepo();
    const open = await startServer();
    for (const local of [repo, `file://${repo}`]) {
      const refused = await open.post({ repo: local, title: 'Fix add' });
      expect(refused.status).toBe(403);
      expect(refused.json.error).toContain('allowlist_repos');
      expect(refused.json.error).toContain(repo);
    }
    expect(await open.store.list()).toEqual([]);

    const listed = await startServer({ allowlist: [`${path.dirname(repo)}/*`] });
    const accepted = await listed.post({ repo, title: 'Fix add' });
    expect(accepted.status).toBe(202);
    expect((await listed.finished(accepted.json.id)).request.repo).toBe(repo);
  });

  it('takes local paths when a token guards it (whoever calls was let in)', async () => {
    const repo = await plainRepo();
    const guarded = await startServer({ token: SERVE_TOKEN });
    const accepted = await guarded.post({ repo, title: 'Fix add' });
    expect(accepted.status).toBe(202);
    await guarded.finished(accepted.json.id);
  });
});

describe('serve and a repository over http', () => {
  it('clones with the credentials of the URL, stores none, and sends the GitHub token to no other host', async () => {
    const repo = await plainRepo();
    const git = await startGitHttpServer(path.dirname(path.dirname(repo)), { login: { user: 'someone', password: PASSWORD } });
    const bareUrl = `${git.url}/${path.basename(path.dirname(repo))}/bare.git`;
    const serving = await startServer({ git });

    const accepted = await serving.post({ repo: bareUrl.replace('http://', `http://someone:${PASSWORD}@`), title: 'Fix add' });
    expect(accepted.status).toBe(202);
    const task = await serving.finished(accepted.json.id);

    // Cloned (then nothing to build): the server let only that user in.
    expect(task.reason).toMatch(/cannot verify/);
    expect(git.authorizations).toContain(basicAuth('someone', PASSWORD));
    expect(git.authorizations.filter((a) => a !== undefined && a !== basicAuth('someone', PASSWORD))).toEqual([]);
    expect(JSON.stringify(git.requests.map((r) => r.headers))).not.toContain(TOKEN);
    expect(task.request.repo).toBe(bareUrl);
    const shown = await (await fetch(`${serving.url}/api/v1/autodev/tasks/${task.id}`)).text();
    const stored = await readFile(serving.store.fileOf(task.id), 'utf8');
    const audit = await readFile(path.join(serving.state, 'audit', `${task.id}.jsonl`), 'utf8');
    for (const text of [shown, stored, audit]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('someone');
    }
  });
});
