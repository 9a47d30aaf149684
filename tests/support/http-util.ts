// Shared plumbing for the local API servers the port tests talk to: listen on 127.0.0.1:0, read and
// record every request, answer JSON, and close without waiting for keep-alive sockets to idle out.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON when the body was JSON, else the raw text ('' for no body). */
  body: unknown;
  rawBody: string;
}

export interface RunningServer {
  /** Origin, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type Handler = (request: RecordedRequest, res: ServerResponse, url: URL) => Promise<void> | void;

export async function readRequest(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const rawBody = Buffer.concat(chunks).toString('utf8');
  let body: unknown = rawBody;
  if (rawBody !== '') {
    try {
      body = JSON.parse(rawBody);
    } catch {
      // Not JSON: the handler sees the text and decides whether that is an error.
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { method: req.method ?? 'GET', path: req.url ?? '/', headers, body, rawBody };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Starts `handler` on 127.0.0.1 on a free port. A handler that throws answers 500 with the message. */
export async function listen(handler: Handler): Promise<RunningServer & { server: Server; onClose(fn: () => void): void }> {
  const requests: RecordedRequest[] = [];
  const closers: (() => void)[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const recorded = await readRequest(req);
        requests.push(recorded);
        await handler(recorded, res, new URL(recorded.path, 'http://127.0.0.1'));
      } catch (error) {
        if (!res.headersSent) sendJson(res, 500, { message: `test server error: ${(error as Error).message}` });
        else res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    server,
    onClose(fn) {
      closers.push(fn);
    },
    close() {
      for (const fn of closers) fn();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Clients keep sockets alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      });
    },
  };
}

export function delay(ms: number, registerTimer: (timer: NodeJS.Timeout) => void): Promise<void> {
  return new Promise((resolve) => registerTimer(setTimeout(resolve, ms)));
}

/** A port on 127.0.0.1 that nothing listens on: bound by the OS, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
