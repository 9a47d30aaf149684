// The minimal environment a project build sees. Nothing is copied from the host by default: the
// values are derived (PATH, toolchain homes) or fixed, so no token can ride along by accident.

import os from 'node:os';
import path from 'node:path';
import type { SandboxKind } from '../../plan/types.js';

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** HOME inside every sandbox: exists in bwrap (private tmpfs), in any image, and on the host. */
export const SANDBOX_HOME = '/tmp';

const SECRET_NAME =
  /TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE|(^|_)KEY($|_)|(^|_)AUTH|COOKIE|SESSION|SIGNATURE|_PAT$|^PAT_|DSN$|WEBHOOK/i;

/** Whether an environment variable's name suggests it holds a secret (such names are never passed on). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export interface ScrubbedEnvOptions {
  /**
   * The sandbox the env is for. Container kinds get no host paths (PATH and the toolchains' homes
   * come from the image); bwrap and none get the host toolchains.
   */
  kind?: SandboxKind;
  /** Host variables copied by name when present and not secret-looking (e.g. RUST_BACKTRACE). */
  passthrough?: string[];
  /** The host environment to derive from (default: process.env, read at call time). */
  hostEnv?: NodeJS.ProcessEnv;
  /** The host home directory (default: os.homedir()). */
  hostHome?: string;
  /** Where the toolchains are installed on the host (each toolchain's `hostInstall`), for bwrap and none. */
  installs?: HostInstallLocator[];
}

/** PATH entries and variables pointing at a toolchain installed outside the system directories. */
interface HostInstall {
  path: string[];
  env: Record<string, string>;
}

type HostInstallLocator = (hostEnv: NodeJS.ProcessEnv, hostHome: string) => HostInstall | null;

/**
 * PATH, HOME, LANG, CI, and what the toolchains' `installs` find on the host (e.g. a toolchain's
 * homes when it is installed under a home directory), overlaid with `extra` (e.g. a writable cache
 * dir from the caller, which the caller must also mount writable). Secret-looking names are
 * dropped, even from `extra`.
 */
export function scrubbedEnv(extra: Record<string, string> = {}, options: ScrubbedEnvOptions = {}): Record<string, string> {
  const hostEnv = options.hostEnv ?? process.env;
  const container = options.kind === 'docker' || options.kind === 'podman';
  const env: Record<string, string> = {
    HOME: SANDBOX_HOME,
    LANG: 'C.UTF-8',
    CI: 'true',
  };

  if (!container) {
    const hostHome = options.hostHome ?? hostEnv.HOME ?? os.homedir();
    const found = (options.installs ?? []).map((locate) => locate(hostEnv, hostHome)).filter((i): i is HostInstall => i !== null);
    env.PATH = hostPath(
      hostEnv.PATH,
      found.flatMap((i) => i.path),
      hostHome,
    ).join(':');
    for (const install of found) Object.assign(env, install.env);
  }

  for (const name of options.passthrough ?? []) {
    const value = hostEnv[name];
    if (value !== undefined && !isSecretName(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (!isSecretName(name)) env[name] = value;
  }
  return env;
}

// System directories, the toolchains' own directories (an installation under a home), the
// directory of the running node, then the host's own absolute PATH entries outside its home (home
// entries would be hidden by the sandbox).
function hostPath(hostPathVar: string | undefined, installPaths: string[], hostHome: string): string[] {
  const entries: string[] = [...SYSTEM_PATH, ...installPaths];
  entries.push(path.dirname(process.execPath));
  for (const entry of (hostPathVar ?? '').split(':')) {
    if (path.isAbsolute(entry) && (hostHome === '/' || !isWithin(entry, hostHome))) entries.push(path.normalize(entry));
  }
  return [...new Set(entries)];
}

export function isWithin(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
