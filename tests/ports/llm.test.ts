import { afterEach, describe, expect, it } from '@jest/globals';
import { closedPort } from '../support/http-util.js';
import { createLlm, normalizeBaseUrl } from '../../src/ports/llm.js';
import { TransientError, type ChatRequest } from '../../src/ports/types.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { caught } from '../support/caught.js';

const KEY = 'sk-test-SECRET-0123456789abcdef';

const request: ChatRequest = {
  model: 'test-model',
  temperature: 0.2,
  maxTokens: 256,
  messages: [
    { role: 'system', content: 'You write patches.' },
    { role: 'user', content: 'Fix the bug in src/lib.rs' },
  ],
};

let servers: OpenAiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function server(options: Parameters<typeof startOpenAiServer>[0] = {}): Promise<OpenAiServer> {
  const started = await startOpenAiServer(options);
  servers.push(started);
  return started;
}

describe('normalizeBaseUrl', () => {
  it('trims the seed form ending in /chat/completions', () => {
    expect(normalizeBaseUrl('https://api.openai.com/v1/chat/completions')).toBe('https://api.openai.com/v1');
    expect(normalizeBaseUrl('http://localhost:11434/v1/chat/completions/')).toBe('http://localhost:11434/v1');
  });

  it('trims trailing slashes and keeps deeper paths', () => {
    expect(normalizeBaseUrl('https://api.openai.com/v1/')).toBe('https://api.openai.com/v1');
    expect(normalizeBaseUrl('https://api.openai.com/v1///')).toBe('https://api.openai.com/v1');
    expect(normalizeBaseUrl('https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01')).toBe(
      'https://res.openai.azure.com/openai/deployments/gpt4o',
    );
  });

  it('gives a bare origin the /v1 prefix local servers use', () => {
    expect(normalizeBaseUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/v1');
    expect(normalizeBaseUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080/v1');
    expect(normalizeBaseUrl('http://127.0.0.1:8080/chat/completions')).toBe('http://127.0.0.1:8080/v1');
  });

  it('rejects what is not an http(s) URL', () => {
    expect(() => normalizeBaseUrl('not a url')).toThrow(/not a valid URL/);
    expect(() => normalizeBaseUrl('ftp://example.com/v1')).toThrow(/http or https/);
  });
});

describe('createLlm against a local OpenAI-compatible server', () => {
  it('returns the content and usage, and sends model, messages and limits', async () => {
    const api = await server({ apiKey: KEY, replies: [{ content: 'diff --git a/x b/x', promptTokens: 42, completionTokens: 7 }] });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    const reply = await llm.chat(request);

    expect(reply).toEqual({ content: 'diff --git a/x b/x', promptTokens: 42, completionTokens: 7 });
    const [body] = api.chatBodies();
    expect(body.model).toBe('test-model');
    expect(body.messages).toEqual(request.messages);
    expect(body.temperature).toBe(0.2);
    expect(body.max_tokens).toBe(256);
    expect(api.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('accepts the full /chat/completions URL and a trailing slash', async () => {
    const api = await server({ replies: [{ content: 'one' }, { content: 'two' }] });
    const full = createLlm({ apiUrl: `${api.baseUrl}/chat/completions`, apiKey: KEY, timeoutMs: 10_000 });
    const slashed = createLlm({ apiUrl: `${api.baseUrl}/`, apiKey: KEY, timeoutMs: 10_000 });

    expect((await full.chat(request)).content).toBe('one');
    expect((await slashed.chat(request)).content).toBe('two');
    expect(api.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
  });

  it('works without a key (local servers) and never falls back to OPENAI_API_KEY', async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-from-the-environment';
    try {
      const api = await server({ replies: [{ content: 'hello' }] });
      const llm = createLlm({ apiUrl: api.url, apiKey: null, timeoutMs: 10_000, provider: 'ollama' });

      expect((await llm.chat(request)).content).toBe('hello');
      expect(api.requests[0].path).toBe('/v1/chat/completions');
      expect(JSON.stringify(api.requests[0].headers)).not.toContain('sk-from-the-environment');
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it('turns a 429 into a TransientError with the Retry-After, then succeeds on the next call', async () => {
    const api = await server({
      replies: [
        {
          status: 429,
          headers: { 'retry-after': '7' },
          body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
        },
        { content: 'after the wait' },
      ],
    });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    const error = await caught(llm.chat(request));
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryAfterMs).toBe(7000);
    expect(error.message).toContain('429');
    expect(error.message).toContain('Rate limit reached');
    // maxRetries 0: exactly one HTTP request per call, the engine decides about the next one.
    expect(api.requests).toHaveLength(1);

    expect((await llm.chat(request)).content).toBe('after the wait');
    expect(api.requests).toHaveLength(2);
  });

  it('prefers retry-after-ms when the server sends it', async () => {
    const api = await server({
      replies: [{ status: 429, headers: { 'retry-after-ms': '1500', 'retry-after': '9' }, body: { error: { message: 'slow down' } } }],
    });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    const error = await caught(llm.chat(request));
    expect((error as TransientError).retryAfterMs).toBe(1500);
  });

  it('turns a 500 into a TransientError without a wait', async () => {
    const api = await server({ replies: [{ status: 500, body: { error: { message: 'The server had an error', type: 'server_error' } } }] });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    const error = await caught(llm.chat(request));
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryAfterMs).toBeNull();
    expect(error.message).toContain('500');
    expect(api.requests).toHaveLength(1);
  });

  it('turns a 401 into a plain one-line error that never shows the key, even when the server echoes it', async () => {
    const api = await server({
      replies: [
        {
          status: 401,
          body: {
            error: {
              message: `Incorrect API key provided: ${KEY}.\nSee your account.`,
              type: 'invalid_request_error',
              code: 'invalid_api_key',
            },
          },
        },
      ],
    });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    const error = await caught(llm.chat(request));
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toContain('401');
    expect(error.message).toContain('Incorrect API key provided');
    expect(error.message).toContain('API key');
    expect(error.message).not.toContain(KEY);
    expect(error.message).not.toContain('\n');
  });

  it('turns a 404 (wrong model or URL) into a plain error with a hint', async () => {
    const api = await server({
      replies: [{ status: 404, body: { error: { message: 'The model `nope` does not exist', code: 'model_not_found' } } }],
    });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    const error = await caught(llm.chat({ ...request, model: 'nope' }));
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/does not exist.*api_url and the model/);
  });

  it('reports a server that does not answer in time as transient', async () => {
    const api = await server({ replies: [{ content: 'too late', delayMs: 5_000 }] });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 200 });

    const error = await caught(llm.chat(request));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain('200 ms');
  });

  it('says the endpoint answered with an HTML page (a proxy, a web UI), naming its URL but not the key', async () => {
    const page = '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Corporate proxy login</body></html>';
    const api = await server({ replies: [{ status: 200, text: page, contentType: 'text/html; charset=utf-8' }] });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    const error = await caught(llm.chat(request));
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toContain(`LLM endpoint ${api.baseUrl}/chat/completions returned an HTML page, not JSON`);
    expect(error.message).not.toContain('no choices');
    expect(error.message).not.toContain(KEY);
  });

  it('says what came back instead of JSON when it is not HTML either', async () => {
    const api = await server({ replies: [{ status: 200, text: 'upstream said hello', contentType: 'text/plain' }] });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    const error = await caught(llm.chat(request));
    expect(error.message).toContain(`LLM endpoint ${api.baseUrl}/chat/completions returned text/plain, not JSON`);
  });

  it('reports a refused connection as transient', async () => {
    // A port that was free a moment ago: nothing listens there now.
    const port = await closedPort();
    const llm = createLlm({ apiUrl: `http://127.0.0.1:${port}/v1`, apiKey: KEY, timeoutMs: 5_000 });

    const error = await caught(llm.chat(request));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain(KEY);
  });

  it('passes an abort through as an abort, not as a transient failure', async () => {
    const api = await server({ replies: [{ content: 'never seen', delayMs: 5_000 }] });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });
    const controller = new AbortController();

    const pending = llm.chat({ ...request, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by user')), 50);
    const error = await caught(pending);
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toBe('cancelled by user');
  });

  it('sends Azure its api-key header and api-version query instead of a Bearer token', async () => {
    const api = await server({ replies: [{ content: 'azure says hi' }] });
    const llm = createLlm({
      apiUrl: `${api.url}/v1/chat/completions?api-version=2024-06-01`,
      apiKey: KEY,
      timeoutMs: 10_000,
      provider: 'azure',
    });

    expect((await llm.chat(request)).content).toBe('azure says hi');
    const [sent] = api.requests;
    expect(sent.path).toBe('/v1/chat/completions?api-version=2024-06-01');
    expect(sent.headers['api-key']).toBe(KEY);
    expect(sent.headers.authorization).toBeUndefined();
  });

  it('computes replies from the request with onRequest once the script is used up', async () => {
    const api = await server({
      replies: [{ content: 'scripted' }],
      onRequest: (body) => ({ content: `echo: ${body.messages?.at(-1)?.content}` }),
    });
    const llm = createLlm({ apiUrl: api.baseUrl, apiKey: KEY, timeoutMs: 10_000 });

    expect((await llm.chat(request)).content).toBe('scripted');
    const reply = await llm.chat(request);
    expect(reply.content).toBe('echo: Fix the bug in src/lib.rs');
    expect(reply.promptTokens).toBeGreaterThan(0);
  });

  it('serves GET /v1/models like an OpenAI-compatible server', async () => {
    const api = await server({ models: ['qwen2.5-coder'] });
    const response = await fetch(`${api.baseUrl}/models`);
    const body = (await response.json()) as { object: string; data: { id: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.map((model) => model.id)).toEqual(['qwen2.5-coder']);
  });
});
