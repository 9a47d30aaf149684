import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

// XDG base directories. The spec says a relative XDG_* value is invalid and must be ignored, which also
// keeps a stray `XDG_STATE_HOME=.` from scattering audit files into whatever directory we run in.
type Env = Record<string, string | undefined>;

function xdgBase(env: Env, variable: string, fallback: string[]): string {
  const value = env[variable];
  if (value && isAbsolute(value)) return join(value, 'autodev');
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
  return join(home, ...fallback, 'autodev');
}

/** Task store and audit trail: `$XDG_STATE_HOME/autodev`, else `~/.local/state/autodev`. */
export function stateDir(env: Env): string {
  return xdgBase(env, 'XDG_STATE_HOME', ['.local', 'state']);
}

/** Re-creatable data (clones, indexes): `$XDG_CACHE_HOME/autodev`, else `~/.cache/autodev`. */
export function cacheDir(env: Env): string {
  return xdgBase(env, 'XDG_CACHE_HOME', ['.cache']);
}

/** User configuration: `$XDG_CONFIG_HOME/autodev`, else `~/.config/autodev`. */
export function configDir(env: Env): string {
  return xdgBase(env, 'XDG_CONFIG_HOME', ['.config']);
}

/** Where the audit trail of one task lives. */
export function auditFile(stateDirectory: string, taskId: string): string {
  return join(stateDirectory, 'audit', `${safeFileName(taskId)}.jsonl`);
}

// Task ids are ours, but a path separator in one must never let a file escape the audit directory.
function safeFileName(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? `_${cleaned}` : cleaned;
}

/**
 * Where a run's Prometheus textfile goes: the flag, else `metrics.textfile`, else
 * `<stateDir>/metrics.prom` (every run leaves metrics); "off" or "none" writes none.
 */
export function metricsTextfile(flag: string | undefined, configured: string, env: Env): string | null {
  const chosen = flag ?? configured;
  if (/^(off|none)$/i.test(chosen)) return null;
  return chosen || join(stateDir(env), 'metrics.prom');
}
