// The LLM port: chat completions through the openai SDK against any OpenAI-compatible server (OpenAI,
// Azure OpenAI, Ollama, vLLM, llama.cpp server). The only module that imports `openai`.
//
// The engine owns retries, so the SDK's are off; failures worth retrying surface as TransientError
// (with the server's Retry-After), everything else as a plain one-line Error. The API key never
// appears in an error message, even when a server echoes it back.

import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { isTransientStatus, oneLine, parseRetryAfter, redactSecrets, rootCause } from './http-retry.js';
import {
  ToolsUnsupportedError,
  TransientError,
  type ChatReply,
  type ChatRequest,
  type Llm,
  type ToolChatMessage,
  type ToolChatReply,
  type ToolChatRequest,
} from './types.js';

export interface LlmOptions {
  /** Base URL, or the full `.../chat/completions` endpoint (the seed's form); query kept (Azure api-version). */
  apiUrl: string;
  /** Absent for local servers that need none. */
  apiKey?: string | null;
  /** Per request. */
  timeoutMs: number;
  /** A label for messages; "azure" also sends the key in the `api-key` header Azure expects. */
  provider?: string;
}

// Local servers ignore the key, but the SDK refuses to build a client without one and would otherwise
// fall back to OPENAI_API_KEY from the environment, which must not leak to an arbitrary base URL.
const PLACEHOLDER_KEY = 'autodev-no-key';

/**
 * The SDK's base URL from a configured URL: drops a trailing `/chat/completions`, trailing slashes,
 * the query and the fragment; a bare origin gets `/v1`, where OpenAI, Ollama, vLLM and llama.cpp serve.
 */
export function normalizeBaseUrl(apiUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiUrl.trim());
  } catch {
    throw new Error('LLM api_url is not a valid URL (expected e.g. https://api.openai.com/v1)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`LLM api_url must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  let path = url.pathname.replace(/\/+$/, '');
  path = path.replace(/\/chat\/completions$/, '').replace(/\/+$/, '');
  if (path === '') path = '/v1';
  return `${url.origin}${path}`;
}

function queryOf(apiUrl: string): Record<string, string> | undefined {
  const params = new URL(apiUrl.trim()).searchParams;
  const entries = [...params.entries()];
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function serverMessage(error: APIError): string {
  const body = error.error as { message?: unknown; error?: unknown } | undefined;
  if (body && typeof body.message === 'string') return body.message;
  if (body && typeof body.error === 'string') return body.error;
  return error.message;
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return ' (check the LLM API key and its permissions)';
  if (status === 404) return ' (check the LLM api_url and the model name)';
  return '';
}

export function createLlm(options: LlmOptions): Llm {
  const baseURL = normalizeBaseUrl(options.apiUrl);
  const label = options.provider ?? new URL(baseURL).host;
  const apiKey = options.apiKey || PLACEHOLDER_KEY;
  const secrets = [options.apiKey];
  const client = new OpenAI({
    apiKey,
    baseURL,
    timeout: options.timeoutMs,
    maxRetries: 0,
    // Explicit nulls so OPENAI_ORG_ID / OPENAI_PROJECT_ID in the user's environment are not sent along.
    organization: null,
    project: null,
    defaultQuery: queryOf(options.apiUrl),
    // Azure reads keys from `api-key` and would take a Bearer header for an Entra token, so drop it.
    defaultHeaders: options.provider === 'azure' ? { 'api-key': apiKey, Authorization: null } : undefined,
    // Ports never print; failures come back as errors.
    logLevel: 'off',
  });

  function translate(error: unknown, signal: AbortSignal | undefined, deadline: AbortSignal): Error {
    if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : (error as Error);
    const clean = (text: string) => oneLine(redactSecrets(text, secrets));
    if (error instanceof APIConnectionTimeoutError || deadline.aborted) {
      return new TransientError(`LLM (${label}) did not answer within ${options.timeoutMs} ms`);
    }
    if (error instanceof APIUserAbortError) return error;
    if (error instanceof APIConnectionError) {
      return new TransientError(clean(`cannot reach the LLM at ${baseURL}: ${rootCause(error)}`));
    }
    if (error instanceof APIError && typeof error.status === 'number') {
      const message = clean(`LLM (${label}) answered ${error.status}: ${serverMessage(error)}`);
      if (isTransientStatus(error.status) || error.status === 409) {
        return new TransientError(message, parseRetryAfter(error.headers));
      }
      return new Error(`${message}${hintFor(error.status)}`);
    }
    return new Error(clean(`LLM (${label}) request failed: ${rootCause(error)}`));
  }

  // A refusal that names the tools: the endpoint (or its model) does not do tool calls. Servers word
  // it differently ("tools is not supported", "unknown field tool_choice", "does not support tools").
  function unsupportedTools(error: Error): Error {
    const status = /answered (\d{3}):/.exec(error.message)?.[1];
    if (error instanceof TransientError || !status || !['400', '404', '422', '501'].includes(status)) return error;
    return /\btools?\b|tool_choice|tool[ _]call|function[ _]call/i.test(error.message) ? new ToolsUnsupportedError(error.message) : error;
  }

  async function chatWithTools(request: ToolChatRequest): Promise<ToolChatReply> {
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    const body = {
      model: request.model,
      messages: request.messages.map(wireMessage),
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      tools: request.tools.map((tool) => ({
        type: 'function' as const,
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      })),
      tool_choice: 'auto' as const,
    };
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      if (request.stream) {
        // The SDK's stream helper assembles the deltas (content, and each tool call's arguments,
        // which arrive in pieces keyed by the call's index) into the same completion a plain call gives.
        const stream = client.chat.completions.stream({ ...body, stream: true, stream_options: { include_usage: true } }, { signal });
        completion = await stream.finalChatCompletion();
      } else {
        completion = await client.chat.completions.create(body, { signal });
      }
    } catch (error) {
      throw unsupportedTools(translate(error, request.signal, deadline));
    }
    if (typeof completion !== 'object' || completion === null) {
      throw new Error(redactSecrets(notJson(`${baseURL}/chat/completions`, '', String(completion)), secrets));
    }
    const message = completion.choices?.[0]?.message;
    if (!message) throw new Error(`LLM (${label}) returned no choices for model ${request.model}`);
    const content = message.content ?? '';
    const toolCalls = (message.tool_calls ?? []).flatMap((call) =>
      call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments ?? '' }] : [],
    );
    const written = content + toolCalls.map((call) => call.name + call.arguments).join('');
    const promptTokens = completion.usage?.prompt_tokens ?? estimateTokens(request.messages.map(messageText).join('\n'));
    const completionTokens = completion.usage?.completion_tokens ?? estimateTokens(written);
    return { content, toolCalls, promptTokens, completionTokens };
  }

  return {
    chatWithTools,
    async chat(request: ChatRequest): Promise<ChatReply> {
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      let contentType: string;
      // Our own deadline as well as the SDK's: the SDK only recognises a timeout when the fetch abort
      // error is from its own realm, which is not the case under jest's vm modules.
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
      try {
        const { data, response } = await client.chat.completions
          .create(
            {
              model: request.model,
              messages: request.messages,
              temperature: request.temperature,
              max_tokens: request.maxTokens,
              ...(request.n !== undefined && request.n > 1 ? { n: request.n } : {}),
            },
            { signal },
          )
          .withResponse();
        completion = data;
        contentType = response.headers.get('content-type') ?? '';
      } catch (error) {
        throw translate(error, request.signal, deadline);
      }
      // The SDK hands back a non-JSON body as text: a proxy's login page, a web UI at api_url.
      if (typeof completion !== 'object' || completion === null) {
        throw new Error(redactSecrets(notJson(`${baseURL}/chat/completions`, contentType, String(completion)), secrets));
      }
      const choice = completion.choices?.[0];
      if (!choice) throw new Error(`LLM (${label}) returned no choices for model ${request.model}`);
      const content = choice.message?.content ?? '';
      // Some local servers omit usage; a chars/4 estimate keeps token budgets meaningful.
      const promptTokens = completion.usage?.prompt_tokens ?? estimateTokens(request.messages.map((m) => m.content).join('\n'));
      const completionTokens = completion.usage?.completion_tokens ?? estimateTokens(content);
      if (request.n === undefined || request.n <= 1) return { content, promptTokens, completionTokens };
      const choices = completion.choices.map((c) => c.message?.content ?? '');
      return { content, choices, promptTokens, completionTokens };
    },
  };
}

/** Names the endpoint (the base URL never holds the key: it goes in a header) and what came back instead. */
function notJson(endpoint: string, contentType: string, body: string): string {
  const type = contentType.split(';')[0].trim().toLowerCase();
  const html = type === 'text/html' || /^\s*<(!doctype|html|head|body)\b/i.test(body);
  const what = html ? 'an HTML page' : `${type || 'a body without a content type'}`;
  return `LLM endpoint ${endpoint} returned ${what}, not JSON: check llm.api_url (a proxy, login or web page answers there)`;
}

/** The port's message as the chat-completions wire format has it. */
function wireMessage(message: ToolChatMessage): OpenAI.Chat.Completions.ChatCompletionMessageParam {
  if (message.role === 'tool') return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  if (message.role === 'assistant') {
    if (message.toolCalls.length === 0) return { role: 'assistant', content: message.content ?? '' };
    return {
      role: 'assistant',
      content: message.content,
      tool_calls: message.toolCalls.map((call) => ({
        id: call.id,
        type: 'function' as const,
        function: { name: call.name, arguments: call.arguments },
      })),
    };
  }
  return { role: message.role, content: message.content };
}

function messageText(message: ToolChatMessage): string {
  if (message.role === 'assistant') return (message.content ?? '') + message.toolCalls.map((c) => c.name + c.arguments).join('');
  return message.content;
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
