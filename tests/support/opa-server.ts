// The slice of OPA's Data API the policy port uses: `POST /v1/data/<path>` with `{"input": ...}`,
// answered by a test-supplied function per package. Like OPA, an unknown package answers 200 with no
// `result` key, so the client's "undefined package" handling is exercised for real.

import { listen, sendJson, type RunningServer } from './http-util.js';

export type PolicyFn = (input: unknown) => unknown;

export interface OpaServerOptions {
  /** Keyed by package, dotted ("autodev.policy") or slashed ("autodev/policy"). */
  policies: Record<string, PolicyFn>;
  /** When set, requests must carry `Authorization: Bearer <token>` (else 401, as OPA's token authn does). */
  token?: string;
}

export interface OpaServer extends RunningServer {
  /** The `input` of each data request, in order. */
  inputs(): unknown[];
  /** The next data request answers with this status and body instead. */
  failNext(status: number, body?: unknown): void;
}

function normalizePath(name: string): string {
  return name
    .replace(/^data[./]/, '')
    .replace(/\./g, '/')
    .replace(/^\/+|\/+$/g, '');
}

export async function startOpaServer(options: OpaServerOptions): Promise<OpaServer> {
  const policies = new Map(Object.entries(options.policies).map(([name, fn]) => [normalizePath(name), fn]));
  const failures: { status: number; body?: unknown }[] = [];

  const running = await listen((request, res, url) => {
    if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`) {
      sendJson(res, 401, { code: 'unauthorized', message: 'missing or invalid authentication token' });
      return;
    }
    const match = /^\/v1\/data\/?(.*)$/.exec(url.pathname);
    if (request.method !== 'POST' || !match) {
      sendJson(res, 404, { code: 'resource_not_found', message: `unknown route ${request.method} ${url.pathname}` });
      return;
    }
    const failure = failures.shift();
    if (failure) {
      sendJson(res, failure.status, failure.body ?? { code: 'internal_error', message: 'injected failure' });
      return;
    }
    if (request.rawBody !== '' && (typeof request.body !== 'object' || request.body === null)) {
      sendJson(res, 400, { code: 'invalid_parameter', message: 'body contains malformed input document' });
      return;
    }
    const input = typeof request.body === 'object' && request.body !== null ? (request.body as { input?: unknown }).input : undefined;
    const policy = policies.get(match[1].replace(/\/+$/, ''));
    const result = policy ? policy(input) : undefined;
    sendJson(res, 200, result === undefined ? {} : { result });
  });

  return {
    url: running.url,
    requests: running.requests,
    close: running.close,
    inputs() {
      return running.requests
        .filter((request) => request.method === 'POST' && typeof request.body === 'object' && request.body !== null)
        .map((request) => (request.body as { input?: unknown }).input);
    },
    failNext(status, body) {
      failures.push({ status, body });
    },
  };
}
