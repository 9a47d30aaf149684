import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Exec, ExecOptions, ExecResult } from '../../src/ports/types.js';

/** A small real Exec for these tests (the project's execa port is tested on its own). */
export class ProcessExec implements Exec {
  readonly calls: { command: string[]; options: ExecOptions }[] = [];

  constructor(private readonly path: string = process.env.PATH ?? '') {}

  run(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ command, options });
    const started = Date.now();
    return new Promise((resolveRun) => {
      const env = options.inheritEnv ? { ...process.env, ...options.env } : (options.env ?? {});
      const child = spawn(command[0], command.slice(1), { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const base = { command, stdout: '', stderr: '', timedOut: false, cancelled: false, truncated: false };
      child.on('error', (err) =>
        resolveRun({ ...base, exitCode: null, signal: null, durationMs: Date.now() - started, spawnError: err.message }),
      );
      child.on('close', (code, signal) =>
        resolveRun({ ...base, stdout, stderr, exitCode: code, signal, durationMs: Date.now() - started }),
      );
    });
  }

  async which(program: string): Promise<string | null> {
    for (const dir of this.path.split(delimiter)) {
      const candidate = join(dir, program);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
    return null;
  }
}
