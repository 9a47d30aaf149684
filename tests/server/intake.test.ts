// What `serve` accepts as a repository, with the server in this process on 127.0.0.1 and real
// HTTP: without a token it takes local paths only when allowlist_repos names them; credentials in a
// repository URL are used for the clone and never stored; the GitHub token goes to no other host.
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import type { CodegenInputs } from '../../src/plan/types.js';
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

async function startServer(
  options: { allowlist?: string[]; token?: string | null; git?: GitHttpServer; config?: Record<string, unknown> } = {},
): Promise<Serving> {
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
    config: autodevSchema.parse({
      allowlist_repos: options.allowlist ?? [],
      sandbox: 'none',
      ...options.config,
      llm: { api_url: llm.baseUrl, ...(options.config?.llm as object) },
    }),
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

describe("serve and a task's generation options", () => {
  const codegen = (task: StoredTask) => task.plan!.steps.find((s) => s.id === 'codegen')!.inputs as CodegenInputs;

  it('takes strategy, candidates and edit_format from the body over the config, as the flags of run do', async () => {
    const repo = await plainRepo();
    const serving = await startServer({ token: SERVE_TOKEN, config: { llm: { edit_format: 'udiff' }, generate: { candidates: 4 } } });
    const asked = await serving.post({ repo, title: 'Fix add', strategy: 'candidates', candidates: 2, edit_format: 'whole' });
    expect(asked.status).toBe(202);
    const task = await serving.finished(asked.json.id);
    expect(task.request).toMatchObject({ strategy: 'candidates', candidates: 2, editFormat: 'whole' });
    expect(codegen(task)).toMatchObject({ strategy: 'candidates', format: 'whole' });
    expect(codegen(task).candidates!.map((c) => c.format)).toEqual(['whole', 'whole']);
    expect(task.plan!.steps.map((s) => s.id)).toContain('select');

    // Without them, the config's: four candidates in udiff.
    const plain = await serving.post({ repo, title: 'Fix add' });
    const configured = codegen(await serving.finished(plain.json.id));
    expect(configured.candidates!.map((c) => c.format)).toEqual(['udiff', 'udiff', 'udiff', 'udiff']);

    // camelCase alias; a single strategy over the config's count.
    const single = await serving.post({ repo, title: 'Fix add', strategy: 'single', editFormat: 'search-replace' });
    const alone = codegen(await serving.finished(single.json.id));
    expect(alone).toMatchObject({ strategy: 'single', format: 'search-replace' });
    expect(alone.candidates).toBeUndefined();
  });

  it('answers a bad strategy, candidates or edit format with 400 naming the field as sent', async () => {
    const repo = await plainRepo();
    const serving = await startServer({ token: SERVE_TOKEN });
    for (const [body, field] of [
      [{ strategy: 'best' }, 'strategy'],
      [{ candidates: 0 }, 'candidates'],
      [{ candidates: 2.5 }, 'candidates'],
      [{ edit_format: 'xml' }, 'edit_format'],
      [{ editFormat: 'xml' }, 'editFormat'],
      [{ edit_format: 'whole', editFormat: 'udiff' }, 'editFormat'],
    ] as const) {
      const refused = await serving.post({ repo, title: 'Fix add', ...body });
      expect({ status: refused.status, field: refused.json.field }).toEqual({ status: 400, field });
      expect(refused.json.error).toContain(field);
    }
    expect(await serving.store.list()).toEqual([]);
  });

  it('refuses the agent strategy with sandbox = "none" (403 naming strategy) unless agent.allow_unsandboxed; asked for, it fails rather than falls back', async () => {
    const repo = await plainRepo();
    const open = await startServer({ token: SERVE_TOKEN });
    const refused = await open.post({ repo, title: 'Fix add', strategy: 'agent' });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ field: 'strategy', error: expect.stringContaining('sandbox = "none"') });
    expect(await open.store.list()).toEqual([]);

    const allowed = await startServer({ token: SERVE_TOKEN, config: { agent: { allow_unsandboxed: true } } });
    const accepted = await allowed.post({ repo, title: 'Fix add', strategy: 'agent' });
    expect(accepted.status).toBe(202);
    const agent = codegen(await allowed.finished(accepted.json.id));
    expect(agent.strategy).toBe('agent');
    expect(agent.agent?.onUnsupported).toBe('fail');
  });
});
