// bubblewrap: the host's root read-only, the workspace writable at its own host path (so paths in
// compiler output are the repository's paths, with no mapping back), private /tmp, /dev, /proc,
// no network unless asked, no capabilities (when autodev runs as root, a sandboxed root could
// otherwise remount / read-write), and the user's home directories behind empty tmpfs mounts.
//
// The toolchain stays usable: every PATH entry and RUSTUP_HOME of the spec's env that lies inside
// a hidden directory is bound back read-only (~/.cargo/bin, ~/.rustup), and only those; CARGO_HOME
// then resolves to an empty, writable tmpfs directory unless the caller mounts a cache there.

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Exec, ExecResult, Mount, Sandbox, SandboxSpec } from '../types.js';
import { isWithin } from './scrubbed-env.js';

export interface BwrapSandboxOptions {
  exec: Exec;
  /** Host directories hidden behind an empty tmpfs. Default: those of /home, /root, $HOME, /run/user that exist. */
  hide?: string[];
  /** Host files (engine sockets) hidden behind /dev/null. Default: the docker/podman sockets that exist. */
  hideFiles?: string[];
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CHECK_TIMEOUT_MS = 15_000;

/** Directories bwrap hides by default on this host (evaluated when the sandbox is created). */
export function defaultHiddenDirs(): string[] {
  const candidates = ['/home', '/root', process.env.HOME, os.homedir(), '/run/user'];
  return unique(candidates.filter((dir): dir is string => !!dir && dir !== '/' && path.isAbsolute(dir) && existsSync(dir)));
}

/** Sockets that hand out root on the host (a container engine) whatever the mount flags say. */
export function defaultHiddenFiles(): string[] {
  const candidates = ['/run/docker.sock', '/var/run/docker.sock', '/run/podman/podman.sock', '/var/run/podman/podman.sock'];
  return unique(candidates.filter((file) => existsSync(file)));
}

function unique(items: string[]): string[] {
  return [...new Set(items.map((item) => path.normalize(item)))];
}

// Parents first, and a directory inside another hidden one is already hidden.
function outermost(dirs: string[]): string[] {
  const sorted = unique(dirs).sort((a, b) => a.length - b.length);
  return sorted.filter((dir, index) => !sorted.slice(0, index).some((parent) => isWithin(dir, parent)));
}

function mountArgs(mount: Mount): string[] {
  return [mount.writable ? '--bind' : '--ro-bind', mount.host, mount.target];
}

export function bwrapArgv(spec: SandboxSpec, hide: string[], hideFiles: string[]): string[] {
  const workspace = path.resolve(spec.workspace);
  const mounts = spec.mounts ?? [];
  const hidden = outermost(hide);
  // A hidden directory inside the workspace must be mounted after the workspace, or the bind would uncover it.
  const hiddenBefore = hidden.filter((dir) => !isWithin(dir, workspace));
  const hiddenAfter = hidden.filter((dir) => isWithin(dir, workspace) && dir !== workspace);

  const covered = [workspace, ...mounts.map((mount) => mount.target)];
  const toolchainDirs = unique(
    [...(spec.env.PATH ?? '').split(':'), spec.env.RUSTUP_HOME ?? ''].filter(
      (dir) =>
        path.isAbsolute(dir) &&
        hidden.some((hiddenDir) => isWithin(dir, hiddenDir)) &&
        !covered.some((target) => isWithin(dir, target)),
    ),
  );

  const argv = [
    'bwrap',
    '--die-with-parent',
    '--new-session',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    ...(spec.network ? [] : ['--unshare-net']),
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
  ];
  for (const dir of hiddenBefore) argv.push('--tmpfs', dir);
  // -try: a PATH entry that does not exist on this host is skipped rather than failing the run.
  for (const dir of toolchainDirs) argv.push('--ro-bind-try', dir, dir);
  argv.push('--bind', workspace, workspace);
  for (const dir of hiddenAfter) argv.push('--tmpfs', dir);
  for (const mount of mounts) argv.push(...mountArgs(mount));
  // Last, so no bind above can uncover them.
  for (const file of hideFiles) argv.push('--ro-bind', '/dev/null', file);
  argv.push('--clearenv');
  for (const [name, value] of Object.entries(spec.env)) argv.push('--setenv', name, value);
  argv.push('--chdir', spec.cwd ?? workspace, '--', ...spec.command);
  return argv;
}

export function createBwrapSandbox(options: BwrapSandboxOptions): Sandbox {
  const { exec } = options;
  const hide = options.hide ?? defaultHiddenDirs();
  const hideFiles = options.hideFiles ?? defaultHiddenFiles();

  return {
    kind: 'bwrap',
    argv: (spec) => bwrapArgv(spec, hide, hideFiles),
    run(spec: SandboxSpec): Promise<ExecResult> {
      // bwrap itself only needs PATH to be found; the command's env is set by --clearenv/--setenv.
      return exec.run(bwrapArgv(spec, hide, hideFiles), {
        env: { PATH: process.env.PATH ?? SYSTEM_PATH },
        timeoutMs: spec.timeoutMs,
        signal: spec.signal,
        maxOutputBytes: spec.maxOutputBytes,
        onLine: spec.onLine,
      });
    },
    async check(): Promise<string | null> {
      if (!(await exec.which('bwrap'))) {
        return 'bwrap is not on PATH: install bubblewrap (e.g. `sudo apt-get install bubblewrap`) or choose another sandbox';
      }
      // The trial is a real sandbox of the same shape as every run, doing nothing.
      const trialSpec: SandboxSpec = { workspace: os.tmpdir(), command: ['true'], env: { PATH: SYSTEM_PATH }, network: false, timeoutMs: CHECK_TIMEOUT_MS };
      const trial = await exec.run(bwrapArgv(trialSpec, hide, hideFiles), {
        env: { PATH: process.env.PATH ?? SYSTEM_PATH },
        timeoutMs: CHECK_TIMEOUT_MS,
      });
      if (trial.exitCode === 0) return null;
      const why = firstLine(trial.spawnError ?? trial.stderr) || (trial.timedOut ? 'timed out' : `exit ${trial.exitCode}`);
      if (/namespace|not permitted|permission denied|uid map|setting up/i.test(why)) {
        return (
          `bwrap cannot create user namespaces (${why}): allow them with ` +
          '`sudo sysctl -w kernel.unprivileged_userns_clone=1` (Debian) or ' +
          '`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 24.04+), or choose another sandbox'
        );
      }
      return `bwrap failed a trial run (${why}): check the bubblewrap installation or choose another sandbox`;
    },
  };
}

export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line.length > 0) ?? ''
  );
}
