// gitleaks and OPA as `.ci/run` builds them (pinned, `go install` through the Go module proxy into a
// cached GOBIN): found on PATH, else in that GOBIN. A test that needs one fails with how to build it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { until } from './poll.js';

/** The GOBIN `.ci/run` installs into (keep the two in step). */
export function toolsGobin(env: NodeJS.ProcessEnv = process.env): string {
  return env.TOOLS_GOBIN || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'autodev-tools', 'bin');
}

export function goTool(name: 'gitleaks' | 'opa'): string {
  const candidates = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), toolsGobin()].map((dir) => path.join(dir, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  throw new Error(`${name} is not on PATH nor in ${toolsGobin()}: run .ci/run, or its go install line for ${name}`);
}

/** The module version a Go binary was built from (`go version -m`), e.g. `v8.30.1`. */
export function builtVersion(binary: string): string | null {
  try {
    const out = execFileSync('go', ['version', '-m', binary], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin` },
    });
    return /^\s*mod\s+\S+\s+(v\S+)/m.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

export interface RealOpa {
  url: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `opa run --server` on a free loopback port with `policies` loaded; ready when /health answers 200. */
export async function startRealOpa(policies: string[]): Promise<RealOpa> {
  const opa = goTool('opa');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(opa, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', ...policies], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  await until(
    () => `opa on ${url} (stderr: ${stderr.trim()})`,
    async () => {
      if (exited) throw new Error(`opa exited: ${stderr.trim()}`);
      return fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
    },
    30_000,
  );
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
