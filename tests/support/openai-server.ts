// A small OpenAI-compatible chat server on 127.0.0.1 with scripted replies, so the real openai SDK
// (and anything built on the LLM port) can be tested over real HTTP. Non-streaming only.

import type { ServerResponse } from 'node:http';
import { delay, listen, sendJson, type RecordedRequest, type RunningServer } from './http-util.js';

/** A successful completion. Token counts default to a rough chars/4 estimate. */
export interface ContentReply {
  content: string;
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: 'stop' | 'length';
  /** Wait this long before answering (for client-timeout tests). */
  delayMs?: number;
}

/** An error (or any raw) response: status, JSON body and headers as given. */
export interface RawReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** A body that is not JSON (a proxy's login page, a web UI at the API's URL), with its content type. */
export interface TextReply {
  status: number;
  text: string;
  contentType: string;
  delayMs?: number;
}

export type ScriptedReply = ContentReply | RawReply | TextReply;

export interface ChatCompletionBody {
  model?: string;
  messages?: { role: string; content: string }[];
  temperature?: number;
  max_tokens?: number;
  [key: string]: unknown;
}

export interface OpenAiServerOptions {
  /** Answered in order, one per chat request. */
  replies?: ScriptedReply[];
  /** Computes the reply once the queue is empty. */
  onRequest?: (body: ChatCompletionBody, request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401 (OpenAI-shaped). */
  apiKey?: string;
  /** Listed by GET /v1/models. */
  models?: string[];
  /**
   * Answer a request's `n` with n choices (the next scripted content replies); by default `n` is
   * ignored and one choice comes back, as many OpenAI-compatible servers do.
   */
  honourN?: boolean;
}

export interface OpenAiServer extends RunningServer {
  /** `${url}/v1`: what an OpenAI client takes as its base URL. */
  baseUrl: string;
  /** Bodies of the chat requests received, in order. */
  chatBodies(): ChatCompletionBody[];
  /** Appends replies to the queue. */
  enqueue(...replies: ScriptedReply[]): void;
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function openAiError(status: number, message: string, type: string, code: string | null): RawReply {
  return { status, body: { error: { message, type, param: null, code } } };
}

function isChatPath(pathname: string): boolean {
  return pathname === '/v1/chat/completions' || pathname === '/chat/completions';
}

export async function startOpenAiServer(options: OpenAiServerOptions = {}): Promise<OpenAiServer> {
  const queue: ScriptedReply[] = [...(options.replies ?? [])];
  const timers = new Set<NodeJS.Timeout>();
  let completionCount = 0;

  async function answer(res: ServerResponse, reply: ScriptedReply, body: ChatCompletionBody, more: ContentReply[] = []): Promise<void> {
    if (reply.delayMs) await delay(reply.delayMs, (timer) => timers.add(timer));
    if (res.destroyed) return;
    if ('text' in reply) {
      res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.text) });
      res.end(reply.text);
      return;
    }
    if ('status' in reply) {
      sendJson(res, reply.status, reply.body ?? {}, reply.headers);
      return;
    }
    completionCount += 1;
    const promptText = (body.messages ?? []).map((message) => message.content ?? '').join('\n');
    const promptTokens = reply.promptTokens ?? estimateTokens(promptText);
    const completionTokens = [reply, ...more].reduce((sum, r) => sum + (r.completionTokens ?? estimateTokens(r.content)), 0);
    sendJson(res, 200, {
      id: `chatcmpl-test-${completionCount}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'test-model',
      system_fingerprint: 'fp_test',
      choices: [reply, ...more].map((r, index) => ({
        index,
        message: { role: 'assistant', content: r.content, refusal: null },
        logprobs: null,
        finish_reason: r.finishReason ?? 'stop',
      })),
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    });
  }

  const running = await listen(async (request, res, url) => {
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      const reply = openAiError(
        401,
        'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        'invalid_request_error',
        'invalid_api_key',
      );
      sendJson(res, reply.status, reply.body);
      return;
    }
    if (request.method === 'GET' && (url.pathname === '/v1/models' || url.pathname === '/models')) {
      const ids = options.models ?? ['test-model'];
      sendJson(res, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'autodev-test' })) });
      return;
    }
    if (request.method !== 'POST' || !isChatPath(url.pathname)) {
      const reply = openAiError(404, `Unknown request URL: ${request.method} ${url.pathname}`, 'invalid_request_error', 'unknown_url');
      sendJson(res, reply.status, reply.body);
      return;
    }
    const body = request.body;
    if (typeof body !== 'object' || body === null || !Array.isArray((body as ChatCompletionBody).messages)) {
      const reply = openAiError(400, "'messages' is a required property", 'invalid_request_error', null);
      sendJson(res, reply.status, reply.body);
      return;
    }
    const chat = body as ChatCompletionBody;
    const next = queue.shift() ?? (options.onRequest ? await options.onRequest(chat, request) : undefined);
    // A 400 (not a 5xx) so a missing script fails fast instead of being retried as transient.
    const reply =
      next ??
      openAiError(400, `openai test server: no scripted reply left for request #${completionCount + 1}`, 'invalid_request_error', null);
    const more: ContentReply[] = [];
    const n = typeof chat.n === 'number' ? chat.n : 1;
    while (options.honourN && more.length < n - 1 && queue.length > 0 && 'content' in queue[0]) more.push(queue.shift() as ContentReply);
    await answer(res, reply, chat, more);
  });

  running.onClose(() => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  });

  return {
    url: running.url,
    baseUrl: `${running.url}/v1`,
    requests: running.requests,
    close: running.close,
    chatBodies() {
      return running.requests
        .filter((request) => request.method === 'POST' && isChatPath(new URL(request.path, 'http://x').pathname))
        .map((request) => request.body as ChatCompletionBody);
    },
    enqueue(...replies) {
      queue.push(...replies);
    },
  };
}
