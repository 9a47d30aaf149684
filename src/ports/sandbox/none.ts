// No isolation: the command runs on the host, in the workspace, with the scrubbed env only (never
// process.env). Chosen only by an explicit `sandbox = "none"`; the caller warns the user.

import path from 'node:path';
import type { Exec, Sandbox } from '../types.js';

export interface NoneSandboxOptions {
  exec: Exec;
}

export function createNoneSandbox(options: NoneSandboxOptions): Sandbox {
  const { exec } = options;
  return {
    kind: 'none',
    argv: (spec) => [...spec.command],
    run: (spec) =>
      exec.run([...spec.command], {
        cwd: spec.cwd ?? path.resolve(spec.workspace),
        env: { ...spec.env },
        timeoutMs: spec.timeoutMs,
        signal: spec.signal,
        maxOutputBytes: spec.maxOutputBytes,
        onLine: spec.onLine,
      }),
    check: async () => null,
  };
}
