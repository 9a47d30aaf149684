// docker and podman share one command line; only the binary (and rootless podman's user mapping)
// differ. The workspace is mounted at the fixed /workspace: images do not have the host's paths.
//
// `--pull never`: a build step has no network and its timeout is for the build, so the image must be
// present beforehand; check() says which `pull` to run when it is not.
// `--init` reaps and forwards signals inside the container; a run that times out or is cancelled
// is also force-removed by name, because killing the CLI does not always stop the container.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Exec, ExecResult, Sandbox, SandboxSpec } from '../types.js';
import { firstLine } from './bwrap.js';

export type ContainerEngine = 'docker' | 'podman';

export const CONTAINER_WORKSPACE = '/workspace';
const CHECK_TIMEOUT_MS = 20_000;
const REMOVE_TIMEOUT_MS = 30_000;

export interface ContainerSandboxOptions {
  exec: Exec;
  /** The image every command runs in (e.g. "rust:1"); required to run, reported by check() when missing. */
  image?: string | null;
  /** The user the command runs as (default: this process's uid and gid, so files in the workspace stay ours). */
  uid?: number;
  gid?: number;
}

export interface ContainerArgvOptions {
  image: string;
  uid: number;
  gid: number;
  /** Container name, given by run() so a timed-out run can be removed. */
  name?: string;
}

function currentIds(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

export function containerArgv(engine: ContainerEngine, spec: SandboxSpec, options: ContainerArgvOptions): string[] {
  const argv = [engine, 'run', '--rm', '--init', '--pull', 'never'];
  if (options.name) argv.push('--name', options.name);
  if (!spec.network) argv.push('--network', 'none');
  argv.push('--user', `${options.uid}:${options.gid}`);
  // Rootless podman maps our uid to root in the container unless told to keep it (root may not use keep-id).
  if (engine === 'podman' && options.uid !== 0) argv.push('--userns', 'keep-id');
  argv.push('--cap-drop', 'ALL', '--security-opt', 'no-new-privileges');
  argv.push('-v', `${path.resolve(spec.workspace)}:${CONTAINER_WORKSPACE}`);
  for (const mount of spec.mounts ?? []) {
    argv.push('-v', `${mount.host}:${mount.target}${mount.writable ? '' : ':ro'}`);
  }
  argv.push('-w', spec.cwd ?? CONTAINER_WORKSPACE);
  for (const [name, value] of Object.entries(spec.env)) argv.push('-e', `${name}=${value}`);
  argv.push(options.image, ...spec.command);
  return argv;
}

function noImage(engine: ContainerEngine): string {
  return `no sandbox image configured for ${engine}: set the sandbox image in the config (e.g. "rust:1")`;
}

function failedToStart(spec: SandboxSpec, message: string): ExecResult {
  return {
    command: spec.command,
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    timedOut: false,
    cancelled: false,
    truncated: false,
    durationMs: 0,
    spawnError: message,
  };
}

export function createContainerSandbox(engine: ContainerEngine, options: ContainerSandboxOptions): Sandbox {
  const { exec } = options;
  const ids = {
    ...currentIds(),
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  };
  const image = options.image ?? null;
  // The engine CLI is trusted and needs its own environment (DOCKER_HOST, XDG_RUNTIME_DIR, contexts);
  // the command inside sees only the -e entries.
  const engineOptions = { inheritEnv: true, env: {} };

  return {
    kind: engine,
    argv(spec) {
      if (!image) throw new Error(noImage(engine));
      return containerArgv(engine, spec, { image, ...ids });
    },
    async run(spec) {
      if (!image) return failedToStart(spec, noImage(engine));
      const name = `autodev-${process.pid}-${randomUUID().slice(0, 8)}`;
      const result = await exec.run(containerArgv(engine, spec, { image, name, ...ids }), {
        ...engineOptions,
        timeoutMs: spec.timeoutMs,
        signal: spec.signal,
        maxOutputBytes: spec.maxOutputBytes,
        onLine: spec.onLine,
      });
      if (result.timedOut || result.cancelled) {
        await exec.run([engine, 'rm', '--force', name], { ...engineOptions, timeoutMs: REMOVE_TIMEOUT_MS });
      }
      return result;
    },
    async check() {
      if (!(await exec.which(engine))) {
        return `${engine} is not on PATH: install ${engine === 'docker' ? 'Docker' : 'Podman'} or choose sandbox = "bwrap"`;
      }
      const info = await exec.run([engine, 'info'], { ...engineOptions, timeoutMs: CHECK_TIMEOUT_MS, maxOutputBytes: 64 * 1024 });
      if (info.exitCode !== 0) {
        const why = firstLine(info.spawnError ?? info.stderr) || (info.timedOut ? 'timed out' : `exit ${info.exitCode}`);
        const start = engine === 'docker' ? '`sudo systemctl start docker`' : '`systemctl --user start podman.socket`';
        return `${engine}: no engine answers (${why}): start it (${start}) or choose sandbox = "bwrap"`;
      }
      if (!image) return noImage(engine);
      const inspect = await exec.run([engine, 'image', 'inspect', image], {
        ...engineOptions,
        timeoutMs: CHECK_TIMEOUT_MS,
        maxOutputBytes: 64 * 1024,
      });
      if (inspect.exitCode !== 0) {
        return `${engine}: image ${image} is not present locally (runs use --pull never): run \`${engine} pull ${image}\``;
      }
      return null;
    },
  };
}
