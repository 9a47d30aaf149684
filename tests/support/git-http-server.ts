// A real smart-HTTP git remote on 127.0.0.1: `git http-backend` behind node:http as a tiny CGI
// bridge. Every request's headers are recorded, so a test can tell exactly what git sent to this
// host (an Authorization header, a token). With `token` set it demands `x-access-token:<token>` as
// Basic auth, the way GitHub takes a token (`login`: a user and password); without, it serves anyone.

import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixtureGitEnv } from './fixture-repo.js';

export interface GitHttpServer {
  /** Origin, e.g. http://127.0.0.1:41234; repositories are `${url}/<dir name>` under the project root. */
  url: string;
  /** Every request's headers (lower-cased names), in order. */
  requests: { method: string; path: string; headers: Record<string, string | string[] | undefined> }[];
  /** The Authorization header of every request (undefined when none was sent). */
  authorizations: (string | undefined)[];
  /** Command lines of live processes that held one of `watch` while git was talking to the server. */
  secretsInArgv: string[];
  /** Command lines of live git processes naming this server (proves the scan saw git running). */
  gitProcesses: string[];
  close(): Promise<void>;
}

export interface GitHttpServerOptions {
  /** Demand this token as `Basic base64(x-access-token:<token>)`; 401 otherwise. */
  token?: string;
  /** Demand this user and password (what a `https://user:password@host/…` URL gives git); 401 otherwise. */
  login?: { user: string; password: string };
  /** Strings to look for in every process command line while a request is served. */
  watch?: string[];
}

/** Every process command line on the machine holding `needle` (what `ps` would show). */
export async function cmdlinesContaining(needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) hits.push(cmdline.split('\0').join(' '));
  }
  return hits;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function basicToken(token: string): string {
  return basicAuth('x-access-token', token);
}

export async function startGitHttpServer(projectRoot: string, options: GitHttpServerOptions = {}): Promise<GitHttpServer> {
  const state = {
    requests: [] as GitHttpServer['requests'],
    authorizations: [] as (string | undefined)[],
    secretsInArgv: [] as string[],
    gitProcesses: [] as string[],
  };
  let origin = '';
  async function handle(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    state.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers } });
    state.authorizations.push(req.headers.authorization);
    for (const needle of options.watch ?? []) state.secretsInArgv.push(...(await cmdlinesContaining(needle)));
    state.gitProcesses.push(...(await cmdlinesContaining(origin)));
    const demanded =
      options.token !== undefined
        ? basicToken(options.token)
        : options.login
          ? basicAuth(options.login.user, options.login.password)
          : null;
    if (demanded !== null && req.headers.authorization !== demanded) {
      req.resume();
      return { status: 401, headers: { 'www-authenticate': 'Basic realm="test"' }, body: Buffer.from('') };
    }
    const url = new URL(req.url ?? '/', origin);
    const child = spawn('git', ['http-backend'], {
      env: {
        ...fixtureGitEnv(),
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        // http-backend refuses pushes from an anonymous user.
        REMOTE_USER: 'x-access-token',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(child.stdin);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise((done) => child.on('close', done));
    const out = Buffer.concat(chunks);
    const split = out.indexOf('\r\n\r\n');
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of out.subarray(0, split).toString('latin1').split('\r\n')) {
      const [name, ...rest] = line.split(':');
      if (name.toLowerCase() === 'status') status = Number.parseInt(rest.join(':').trim(), 10);
      else headers[name.toLowerCase()] = rest.join(':').trim();
    }
    return { status, headers, body: out.subarray(split + 4) };
  }
  const server: Server = createServer((req, res) => {
    handle(req).then(
      ({ status, headers, body }) => {
        res.writeHead(status, headers);
        res.end(body);
      },
      (error: Error) => {
        res.writeHead(500);
        res.end(error.message);
      },
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    ...state,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
