// /healthz and /readyz, for `serve` and `autodev worker` alike: healthz says the process answers;
// readyz says it can do its work: the queue's Redis answers (with a queue) and a sandbox of the
// configured kind is usable here (checked once per process, as a task would: ports/sandbox).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Env } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { cacheDir } from '../observe/paths.js';
import { createExec } from '../ports/exec.js';
import { pickSandbox, sandboxChecksFile } from '../ports/sandbox/index.js';
import { containerImage } from '../plan/toolchains.js';
import { sendJson } from './http.js';

export interface Readiness {
  check(): Promise<{ ready: boolean; checks: Record<string, string> }>;
}

export function createReadiness(options: { config: Config; env: Env; redis?: () => Promise<boolean> }): Readiness {
  const { config, env } = options;
  return {
    async check() {
      const checks: Record<string, string> = {};
      let ready = true;
      if (options.redis) {
        const up = await options.redis().catch(() => false);
        checks.redis = up ? 'ok' : 'unreachable';
        ready &&= up;
      }
      const pick = await pickSandbox(config.sandbox, {
        exec: createExec(),
        image: containerImage(config, null),
        machineFile: sandboxChecksFile(cacheDir(env)),
      });
      checks.sandbox = pick.sandbox
        ? `ok (${pick.checked.at(-1)!.kind})`
        : `not usable: ${pick.checked.map((c) => `${c.kind}: ${c.problem}`).join('; ')}`;
      ready &&= pick.sandbox !== null;
      return { ready, checks };
    },
  };
}

/** Answers /healthz and /readyz; false for any other path (the caller routes it). */
export async function healthRoute(req: IncomingMessage, res: ServerResponse, pathname: string, readiness: Readiness): Promise<boolean> {
  if (pathname !== '/healthz' && pathname !== '/readyz') return false;
  if ((req.method ?? 'GET') !== 'GET') {
    sendJson(res, 405, { error: 'use GET' });
    return true;
  }
  if (pathname === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  const { ready, checks } = await readiness.check();
  sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
  return true;
}
