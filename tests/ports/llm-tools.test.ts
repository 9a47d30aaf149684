// The LLM port's tool calls over real HTTP: the request in the chat-completions wire format (tools,
// assistant tool_calls, tool results), a plain JSON reply, and a streamed one whose tool-call
// arguments arrive in many deltas, assembled by the SDK; endpoints that refuse the tools are told apart.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createLlm } from '../../src/ports/llm.js';
import { ToolsUnsupportedError, type ToolChatRequest } from '../../src/ports/types.js';
import { caught } from '../support/caught.js';
import { startOpenAiToolsServer, type OpenAiToolsServer, type OpenAiToolsServerOptions } from '../support/openai-tools-server.js';

const KEY = 'sk-test-SECRET-0123456789abcdef';

const request = (stream: boolean): ToolChatRequest => ({
  model: 'test-model',
  temperature: 0,
  maxTokens: 512,
  stream,
  tools: [{ name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
  messages: [
    { role: 'system', content: 'You are an agent.' },
    { role: 'user', content: 'Fix it.' },
    { role: 'assistant', content: null, toolCalls: [{ id: 'call_a', name: 'read_file', arguments: '{"path":"a.txt"}' }] },
    { role: 'tool', toolCallId: 'call_a', content: 'hello' },
  ],
});

let servers: OpenAiToolsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function server(options: OpenAiToolsServerOptions): Promise<OpenAiToolsServer> {
  const started = await startOpenAiToolsServer({ apiKey: KEY, ...options });
  servers.push(started);
  return started;
}

const TWO_CALLS = {
  content: 'Reading both.',
  calls: [
    { name: 'read_file', arguments: { path: 'src/a long/path with "quotes".txt' } },
    { name: 'edit', arguments: { path: 'b.txt', old_text: 'x'.repeat(100), new_text: 'y\n'.repeat(20) } },
  ],
  promptTokens: 111,
  completionTokens: 22,
};

describe('Llm.chatWithTools', () => {
  it.each([false, true])('sends the conversation in the wire format and reads the tool calls back (stream: %s)', async (stream) => {
    const llm = await server({ turns: [TWO_CALLS], deltaChars: 3 });
    const port = createLlm({ apiUrl: llm.baseUrl, apiKey: KEY, timeoutMs: 10_000 });
    const reply = await port.chatWithTools!(request(stream));
    expect(reply.content).toBe('Reading both.');
    expect(reply.toolCalls).toEqual([
      { id: 'call_1', name: 'read_file', arguments: JSON.stringify(TWO_CALLS.calls[0].arguments) },
      { id: 'call_2', name: 'edit', arguments: JSON.stringify(TWO_CALLS.calls[1].arguments) },
    ]);
    expect({ prompt: reply.promptTokens, completion: reply.completionTokens }).toEqual({ prompt: 111, completion: 22 });
    const [body] = llm.bodies();
    expect(body.stream ?? false).toBe(stream);
    if (stream) expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.tools).toEqual([{ type: 'function', function: request(stream).tools[0] }]);
    expect(body.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.txt"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'hello' },
    ]);
  });

  it('assembles arguments that arrive in many deltas (the wire carries pieces, the port whole calls)', async () => {
    const llm = await server({ turns: [TWO_CALLS, TWO_CALLS], deltaChars: 2 });
    // What the server puts on the wire: server-sent chunks, each call's arguments in pieces.
    const response = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [], stream: true }),
    });
    const chunks = (await response.text())
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map(
        (l) => JSON.parse(l.slice(6)) as { choices: { delta: { tool_calls?: { index: number; function?: { arguments?: string } }[] } }[] },
      );
    const pieces = chunks
      .flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []))
      .filter((t) => t.index === 0 && t.function?.arguments);
    expect(pieces.length).toBeGreaterThan(10);
    const port = createLlm({ apiUrl: llm.baseUrl, apiKey: KEY, timeoutMs: 10_000 });
    const reply = await port.chatWithTools!(request(true));
    expect(JSON.parse(reply.toolCalls[0].arguments)).toEqual(TWO_CALLS.calls[0].arguments);
    expect(pieces.map((p) => p.function!.arguments).join('')).toBe(reply.toolCalls[0].arguments);
  });

  it('a 400 that names the tools is ToolsUnsupportedError; other refusals stay plain errors', async () => {
    const llm = await server({
      turns: [
        { status: 400, body: { error: { message: "'tools' is not supported with this model", type: 'invalid_request_error' } } },
        { status: 400, body: { error: { message: 'max_tokens is too large', type: 'invalid_request_error' } } },
      ],
    });
    const port = createLlm({ apiUrl: llm.baseUrl, apiKey: KEY, timeoutMs: 10_000 });
    const unsupported = await caught(port.chatWithTools!(request(true)));
    expect(unsupported).toBeInstanceOf(ToolsUnsupportedError);
    expect((unsupported as Error).message).toMatch(/answered 400: 'tools' is not supported/);
    const other = await caught(port.chatWithTools!(request(false)));
    expect(other).not.toBeInstanceOf(ToolsUnsupportedError);
    expect((other as Error).message).toMatch(/max_tokens is too large/);
  });
});
