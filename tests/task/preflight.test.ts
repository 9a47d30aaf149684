// What a run needs before it spends anything: which providers need a key, what is missing for a
// planned pull request, the error a run stops with, and the endpoint probe against real sockets.
import { afterEach, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { autodevSchema, type Config } from '../../src/config/schema.js';
import type { TaskRequest } from '../../src/config/request.js';
import { probeUrl } from '../../src/ports/reachability.js';
import { checkLlmEndpoint, llmKeyRequired, missingCredentials, preflightError } from '../../src/task/preflight.js';
import { ConfigError, ExitCode, ExternalError } from '../../src/util/errors.js';

function config(llm: Record<string, unknown> = {}): Config {
  return autodevSchema.parse({ llm });
}

const REQUEST: TaskRequest = {
  repo: '/srv/calc.git',
  title: 'Fix add',
  description: '',
  risk: 'medium',
  noPr: false,
  keepWorkspace: false,
};
const FORGE = { owner: 'acme', repo: 'calc' };

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function listening(): Promise<number> {
  const server = net.createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('llmKeyRequired', () => {
  it.each([
    ['openai', 'https://api.openai.com/v1', true],
    ['azure', 'https://x.openai.azure.com/openai/deployments/d', true],
    ['openai', 'http://127.0.0.1:8080/v1', true],
    ['ollama', 'http://localhost:11434/v1', false],
    ['vllm', 'http://gpu-box:8000/v1', false],
    ['llamacpp', 'http://127.0.0.1:8080', false],
    ['openai-compatible', 'http://localhost:1234/v1', false],
    ['openai-compatible', 'http://[::1]:1234/v1', false],
    ['openai-compatible', 'https://api.together.xyz/v1', true],
  ])('%s at %s → %s', (provider, api_url, expected) => {
    expect(llmKeyRequired(config({ provider, api_url }))).toBe(expected);
  });
});

describe('missingCredentials', () => {
  it('names the variable llm.api_key_env names, and the GitHub token only when a pull request is planned', () => {
    const cfg = config({ api_key_env: 'MY_KEY' });
    const all = missingCredentials({ config: cfg, env: {}, request: REQUEST, forge: FORGE, prPlanned: true });
    expect(all.map((m) => [m.key, m.kind])).toEqual([
      ['MY_KEY', 'config'],
      ['GITHUB_TOKEN', 'config'],
    ]);
    expect(all[0].message).toMatch(/^MY_KEY is not set \(llm\.api_key_env\)/);
    expect(all[1].message).toContain('to open the pull request on acme/calc');

    const noPr = missingCredentials({
      config: cfg,
      env: { MY_KEY: 'k' },
      request: { ...REQUEST, noPr: true },
      forge: FORGE,
      prPlanned: false,
    });
    expect(noPr).toEqual([]);
  });

  it('notes, without stopping the run, that a repository with no GitHub repository gets no pull request', () => {
    const missing = missingCredentials({ config: config(), env: { OPENAI_API_KEY: 'k' }, request: REQUEST, forge: null, prPlanned: false });
    expect(missing).toEqual([
      { key: 'git.github_repo', kind: 'note', message: expect.stringContaining('/srv/calc.git is not a GitHub repository') },
    ]);
    expect(preflightError(missing)).toBeNull();
  });
});

describe('preflightError', () => {
  it('is a config error (exit 2) for a missing credential, naming the others too', () => {
    const missing = missingCredentials({ config: config(), env: {}, request: REQUEST, forge: FORGE, prPlanned: true });
    const error = preflightError(missing)!;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(/^OPENAI_API_KEY is not set .* \(and 1 more: GITHUB_TOKEN\)$/);
  });

  it('is an external error (exit 1) when nothing answers at the endpoint', async () => {
    const port = await closedPort();
    const down = await checkLlmEndpoint(config({ api_url: `http://127.0.0.1:${port}/v1` }));
    expect(down).toEqual({
      key: 'llm.api_url',
      kind: 'unreachable',
      message: `nothing answers at http://127.0.0.1:${port} (llm.api_url): connection refused`,
    });
    const error = preflightError([down!])!;
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.exitCode).toBe(ExitCode.failed);
  });
});

describe('probeUrl (real sockets)', () => {
  it('finds a listener, whatever path the URL names', async () => {
    const port = await listening();
    await expect(probeUrl(`http://127.0.0.1:${port}/v1/no-models-here`, { timeoutMs: 5000 })).resolves.toEqual({ reachable: true });
    expect(await checkLlmEndpoint(config({ api_url: `http://127.0.0.1:${port}/v1` }))).toBeNull();
  });

  it('says nothing answers at a closed port or an unknown host', async () => {
    const port = await closedPort();
    await expect(probeUrl(`http://127.0.0.1:${port}`, { timeoutMs: 5000 })).resolves.toEqual({
      reachable: false,
      reason: 'connection refused',
    });
    const unknown = await probeUrl('https://no-such-host.invalid/v1', { timeoutMs: 5000 });
    expect(unknown.reachable).toBe(false);
  });

  it('gives no verdict when cancelled, so a run is never failed for it', async () => {
    const controller = new AbortController();
    controller.abort();
    const port = await closedPort();
    await expect(probeUrl(`http://127.0.0.1:${port}`, { timeoutMs: 5000, signal: controller.signal })).resolves.toEqual({
      reachable: null,
      reason: 'cancelled',
    });
  });
});
