// bubblewrap: the sandbox sees only what a build needs, never the host's root. Read-only: the
// system directories (/usr, /lib*, /bin, /sbin: on merged-/usr hosts the latter are recreated as
// symlinks), a short list of /etc entries (name service, TLS certificates, dynamic linker,
// alternatives, JDK and Maven configuration) and the toolchains the command's PATH leads to.
// Writable: the workspace at its own host path (so paths in compiler output are the repository's
// paths, with no mapping back), the caches the caller mounts, and private, empty tmpfs over /tmp,
// /var/tmp and /run (where hosts keep unix sockets and shared scratch files), /dev and /proc of
// the sandbox's own. Everything else (/root, /home, /etc/shadow, /var, /srv, other projects on the
// machine) does not exist inside. No network unless asked (which also keeps the host's abstract
// unix sockets out of reach), no capabilities (when autodev runs as root, a sandboxed root could
// otherwise remount), and the sandbox's own root is read-only.
//
// Toolchains are found from the spec's PATH: for each program of COMMON_PROGRAMS and of the spec's
// `toolchains.programs` (the registered toolchains' programs, from the plan) found there,
// the PATH directory holding it and the installation it resolves to (`realpath`, the parent of its
// `bin/`) are bound read-only. A program that resolves to a proxy the toolchains name (rustup) has
// only its PATH directory bound, plus the home parts they name (src/toolchains/<id>/index.ts).

import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Exec, ExecResult, Mount, Sandbox, SandboxSpec, ToolchainBinds } from '../types.js';
import { isWithin } from './scrubbed-env.js';

export interface BwrapSandboxOptions {
  exec: Exec;
  /** Host directories never shown, even inside a bound directory. Default: those of /home, /root, $HOME, /run/user that exist. */
  hide?: string[];
  /** Host files (engine sockets) replaced by /dev/null where a bound directory holds them. Default: the docker/podman sockets that exist. */
  hideFiles?: string[];
}

/** A top-level system path: bound read-only, or recreated as the same symlink (`link`). */
export interface SystemEntry {
  path: string;
  link: string | null;
}

/** What of the host a bwrap sandbox shows, besides the workspace and the spec's mounts. */
export interface BwrapLayout {
  system: SystemEntry[];
  /** /etc entries bound read-only at their own path. */
  etc: string[];
  /** Toolchain directories bound read-only at their own path (see toolchainDirs). */
  toolchains: string[];
  hide: string[];
  hideFiles: string[];
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CHECK_TIMEOUT_MS = 15_000;

const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/nix/store'];

// What builds read under /etc, found by running cargo, rustc, clippy, node, npm, git, python3, go,
// java and mvn inside the sandbox. Not /etc/gitconfig or /etc/npmrc (they may name credential
// helpers or tokens), not /etc/ssl/private, never shadow files.
const ETC_FILES = [
  'passwd',
  'group',
  'nsswitch.conf',
  'hosts',
  'host.conf',
  'resolv.conf',
  'gai.conf',
  'services',
  'protocols',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'localtime',
  'timezone',
  'locale.alias',
  'os-release',
  'ssl/certs',
  'ssl/openssl.cnf',
  'pki/tls/certs',
  'pki/ca-trust/extracted',
  'maven',
];
// The JDK's and Python's configuration live in versioned directories (/usr/lib/jvm/*/conf links there).
const ETC_PATTERNS = [/^java-\d+-openjdk$/, /^python3(\.\d+)?$/];

/**
 * Programs whose installations are bound into the sandbox when the command's PATH finds them,
 * besides those the spec names: git, which builds call, and languages with no toolchain folder yet.
 */
export const COMMON_PROGRAMS = ['git', 'go', 'java', 'javac', 'mvn', 'python3'];

const NO_BINDS: ToolchainBinds = { programs: [], proxies: [], homes: [] };

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

/** This host's system directories, symlinks kept as symlinks (a bind would follow them). */
export function systemEntries(): SystemEntry[] {
  const entries: SystemEntry[] = [];
  for (const dir of SYSTEM_DIRS) {
    try {
      const stat = lstatSync(dir);
      if (stat.isSymbolicLink()) entries.push({ path: dir, link: readlinkSync(dir) });
      else if (stat.isDirectory()) entries.push({ path: dir, link: null });
    } catch {
      // not on this host
    }
  }
  return entries;
}

/** The /etc entries of ETC_FILES and ETC_PATTERNS that exist on this host. */
export function etcEntries(etc = '/etc'): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(etc);
  } catch {
    return [];
  }
  const versioned = names.filter((name) => ETC_PATTERNS.some((pattern) => pattern.test(name)));
  return [...ETC_FILES, ...versioned.sort()].map((name) => path.join(etc, name)).filter((entry) => existsSync(entry));
}

/**
 * The directories to bind so the toolchains on `env.PATH` run: for each program found there, the
 * PATH directory and the installation root it resolves to (never a directory holding a hidden one,
 * such as a home, never a top-level one like /opt, never a proxy's), plus the parts of the homes
 * the toolchains name (RUSTUP_HOME's toolchains and settings).
 */
export function toolchainDirs(env: Record<string, string>, hide: string[], binds: ToolchainBinds = NO_BINDS): string[] {
  const dirs: string[] = [];
  const acceptable = (dir: string): boolean =>
    path.isAbsolute(dir) && dir.split('/').filter(Boolean).length >= 2 && !hide.some((hidden) => isWithin(hidden, dir));
  const entries = (env.PATH ?? '').split(':').filter((entry) => path.isAbsolute(entry));
  for (const program of [...new Set([...binds.programs, ...COMMON_PROGRAMS])]) {
    const found = entries.map((entry) => path.join(entry, program)).find(isExecutableFile);
    if (!found) continue;
    if (acceptable(path.dirname(found))) dirs.push(path.dirname(found));
    let real: string;
    try {
      real = realpathSync(found);
    } catch {
      continue;
    }
    if (binds.proxies.includes(path.basename(real))) continue;
    const realDir = path.dirname(real);
    const root = path.basename(realDir) === 'bin' ? path.dirname(realDir) : realDir;
    if (acceptable(root)) dirs.push(root);
    else if (acceptable(realDir)) dirs.push(realDir);
  }
  for (const home of binds.homes) {
    const root = env[home.env];
    if (!root || !path.isAbsolute(root)) continue;
    for (const part of home.parts) {
      const dir = path.join(root, part);
      if (existsSync(dir)) dirs.push(dir);
    }
  }
  return outermost(dirs);
}

function isExecutableFile(file: string): boolean {
  try {
    const stat = statSync(file);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function unique(items: string[]): string[] {
  return [...new Set(items.map((item) => path.normalize(item)))];
}

// Parents first, and a directory inside another listed one is already covered.
function outermost(dirs: string[]): string[] {
  const sorted = unique(dirs).sort((a, b) => a.length - b.length);
  return sorted.filter((dir, index) => !sorted.slice(0, index).some((parent) => isWithin(dir, parent)));
}

function mountArgs(mount: Mount): string[] {
  return [mount.writable ? '--bind' : '--ro-bind', mount.host, mount.target];
}

export function bwrapArgv(spec: SandboxSpec, layout: BwrapLayout): string[] {
  const workspace = path.resolve(spec.workspace);
  const mounts = spec.mounts ?? [];
  const systemDirs = layout.system.filter((entry) => entry.link === null).map((entry) => entry.path);
  const covered = [workspace, ...mounts.map((mount) => mount.target)];
  const toolchains = layout.toolchains.filter(
    (dir) => !systemDirs.some((system) => isWithin(dir, system)) && !covered.some((target) => isWithin(dir, target)),
  );
  const hidden = outermost(layout.hide);
  // A hidden directory inside the workspace must be mounted after the workspace, or the bind would uncover it.
  const hiddenInWorkspace = hidden.filter((dir) => isWithin(dir, workspace) && dir !== workspace);
  // Only what a bind brings in needs hiding; the rest of the host is absent anyway.
  const bound = [...systemDirs, ...toolchains, ...covered];
  const hiddenFiles = layout.hideFiles.filter((file) => bound.some((dir) => isWithin(file, dir)));

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
  ];
  for (const entry of layout.system) {
    if (entry.link === null) argv.push('--ro-bind', entry.path, entry.path);
    else argv.push('--symlink', entry.link, entry.path);
  }
  argv.push('--dev', '/dev', '--proc', '/proc');
  // Where hosts keep unix sockets and shared scratch files: empty and private inside.
  argv.push('--tmpfs', '/tmp', '--tmpfs', '/var/tmp', '--tmpfs', '/run', '--symlink', '../run', '/var/run');
  // -try: an entry removed since the layout was read is skipped rather than failing the run.
  for (const entry of layout.etc) argv.push('--ro-bind-try', entry, entry);
  for (const dir of toolchains) argv.push('--ro-bind-try', dir, dir);
  argv.push('--bind', workspace, workspace);
  for (const dir of hiddenInWorkspace) argv.push('--tmpfs', dir);
  for (const mount of mounts) argv.push(...mountArgs(mount));
  // Last, so no bind above can uncover them.
  for (const file of hiddenFiles) argv.push('--ro-bind', '/dev/null', file);
  // The sandbox's own root (the directories bwrap made for the mount points) takes no writes.
  argv.push('--remount-ro', '/');
  argv.push('--clearenv');
  for (const [name, value] of Object.entries(spec.env)) argv.push('--setenv', name, value);
  argv.push('--chdir', spec.cwd ?? workspace, '--', ...spec.command);
  return argv;
}

export function createBwrapSandbox(options: BwrapSandboxOptions): Sandbox {
  const { exec } = options;
  const hide = options.hide ?? defaultHiddenDirs();
  const hideFiles = options.hideFiles ?? defaultHiddenFiles();
  const system = systemEntries();
  const etc = etcEntries();
  // Every spec of one run carries the same PATH, so the lookups are made once per PATH.
  const toolchainsByPath = new Map<string, string[]>();
  const layoutFor = (spec: SandboxSpec): BwrapLayout => {
    const binds = spec.toolchains ?? NO_BINDS;
    const key = JSON.stringify([spec.env.PATH ?? '', binds, binds.homes.map((h) => spec.env[h.env] ?? '')]);
    let toolchains = toolchainsByPath.get(key);
    if (!toolchains) {
      toolchains = toolchainDirs(spec.env, hide, binds);
      toolchainsByPath.set(key, toolchains);
    }
    return { system, etc, toolchains, hide, hideFiles };
  };
  const argv = (spec: SandboxSpec): string[] => bwrapArgv(spec, layoutFor(spec));

  return {
    kind: 'bwrap',
    argv,
    run(spec: SandboxSpec): Promise<ExecResult> {
      // bwrap itself only needs PATH to be found; the command's env is set by --clearenv/--setenv.
      return exec.run(argv(spec), {
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
      const trialSpec: SandboxSpec = {
        workspace: os.tmpdir(),
        command: ['true'],
        env: { PATH: SYSTEM_PATH },
        network: false,
        timeoutMs: CHECK_TIMEOUT_MS,
      };
      const trial = await exec.run(argv(trialSpec), {
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
