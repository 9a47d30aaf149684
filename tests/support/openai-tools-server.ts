// An OpenAI-compatible chat server on 127.0.0.1 that plays scripted tool-calling trajectories in the
// real wire format: `tool_calls` on the assistant message for a plain request, and for `stream: true`
// server-sent `chat.completion.chunk`s whose tool-call arguments arrive in several deltas keyed by the
// call's index (with a usage chunk when `stream_options.include_usage` is asked), then `[DONE]`.
// A turn may be computed from the conversation so far (what the tools answered), like a model would.

import type { ServerResponse } from 'node:http';
import { listen, sendJson, type RunningServer } from './http-util.js';

/** One call the scripted model makes; `arguments` is sent as JSON text (a string is sent as is, malformed or not). */
export interface ScriptedCall {
  name: string;
  arguments: unknown;
}

export type ToolTurn =
  /** An assistant message with tool calls (and optional text beside them). */
  | { calls: ScriptedCall[]; content?: string; promptTokens?: number; completionTokens?: number }
  /** A text-only reply (no tool call). */
  | { content: string; promptTokens?: number; completionTokens?: number }
  /** An error response, as a server that refuses the request sends it. */
  | { status: number; body: unknown };

/** A message of the conversation as the server received it (OpenAI's wire shape). */
export interface WireMessage {
  role: string;
  content: string | null;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ToolsRequestBody {
  model?: string;
  messages: WireMessage[];
  tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
  tool_choice?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  [key: string]: unknown;
}

export interface OpenAiToolsServerOptions {
  /** Played in order, one per request; each may be computed from the request. */
  turns?: (ToolTurn | ((body: ToolsRequestBody) => ToolTurn))[];
  /** Answers once the turns are played (a looping model, say). */
  after?: (body: ToolsRequestBody) => ToolTurn;
  apiKey?: string;
  /** Characters per streamed argument delta (small, so every call's arguments come in several pieces). */
  deltaChars?: number;
}

export interface OpenAiToolsServer extends RunningServer {
  baseUrl: string;
  /** The chat requests received, in order. */
  bodies(): ToolsRequestBody[];
  /** Every tool result the model was sent (role `tool` messages of the last request), in order. */
  toolResults(): { name: string; arguments: string; content: string }[];
}

/** The tool result the last request carries for the latest call of `name`, or null. */
export function lastResult(body: ToolsRequestBody, name: string): string | null {
  const results = pairResults(body.messages).filter((r) => r.name === name);
  return results.at(-1)?.content ?? null;
}

function pairResults(messages: WireMessage[]): { name: string; arguments: string; content: string }[] {
  const calls = new Map<string, { name: string; arguments: string }>();
  const out: { name: string; arguments: string; content: string }[] = [];
  for (const m of messages) {
    for (const c of m.tool_calls ?? []) calls.set(c.id, { name: c.function.name, arguments: c.function.arguments });
    if (m.role === 'tool' && m.tool_call_id) {
      const call = calls.get(m.tool_call_id);
      out.push({ name: call?.name ?? '?', arguments: call?.arguments ?? '', content: m.content ?? '' });
    }
  }
  return out;
}

function estimate(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export async function startOpenAiToolsServer(options: OpenAiToolsServerOptions = {}): Promise<OpenAiToolsServer> {
  const turns = [...(options.turns ?? [])];
  const deltaChars = options.deltaChars ?? 7;
  let served = 0;
  let callSeq = 0;

  function answer(res: ServerResponse, body: ToolsRequestBody, turn: ToolTurn): void {
    if ('status' in turn) {
      sendJson(res, turn.status, turn.body);
      return;
    }
    served += 1;
    const id = `chatcmpl-tools-${served}`;
    const calls = 'calls' in turn ? turn.calls.map((c) => ({ id: `call_${++callSeq}`, name: c.name, args: argText(c.arguments) })) : [];
    const content = turn.content ?? null;
    const promptTokens = turn.promptTokens ?? estimate(JSON.stringify(body.messages));
    const completionTokens = turn.completionTokens ?? estimate((content ?? '') + calls.map((c) => c.name + c.args).join(''));
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const finish = calls.length ? 'tool_calls' : 'stop';
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? 'test-model';
    if (!body.stream) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content,
              refusal: null,
              ...(calls.length
                ? { tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } })) }
                : {}),
            },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage,
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`);
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    for (const piece of pieces(content ?? '', 16)) chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]);
    calls.forEach((call, index) => {
      // The first delta of a call names it; its arguments follow in pieces carrying only the index.
      chunk([
        {
          index: 0,
          delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] },
          logprobs: null,
          finish_reason: null,
        },
      ]);
      for (const piece of pieces(call.args, deltaChars)) {
        chunk([{ index: 0, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, logprobs: null, finish_reason: null }]);
      }
    });
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]);
    if (body.stream_options?.include_usage) chunk([], { usage });
    res.end('data: [DONE]\n\n');
  }

  const running = await listen(async (request, res, url) => {
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendJson(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } });
      return;
    }
    if (request.method !== 'POST' || !/\/chat\/completions$/.test(url.pathname)) {
      sendJson(res, 404, { error: { message: `Unknown request URL: ${url.pathname}`, type: 'invalid_request_error' } });
      return;
    }
    const body = request.body as ToolsRequestBody;
    const next = turns.shift();
    const turn = next ? (typeof next === 'function' ? next(body) : next) : options.after?.(body);
    if (!turn) {
      sendJson(res, 400, {
        error: { message: `openai tools test server: no scripted turn left for request #${served + 1}`, type: 'invalid_request_error' },
      });
      return;
    }
    answer(res, body, turn);
  });

  const bodies = () =>
    running.requests
      .filter((r) => r.method === 'POST' && /\/chat\/completions$/.test(r.path.split('?')[0]))
      .map((r) => r.body as ToolsRequestBody);
  return {
    url: running.url,
    baseUrl: `${running.url}/v1`,
    requests: running.requests,
    close: running.close,
    bodies,
    toolResults() {
      const last = bodies().at(-1);
      return last ? pairResults(last.messages) : [];
    },
  };
}

function argText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < text.length; k += size) out.push(text.slice(k, k + size));
  return out;
}
