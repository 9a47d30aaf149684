// The checks that run before anything touches the network: the off switch and the allowlist.
import path from 'node:path';
import picomatch from 'picomatch';
import type { Config } from '../config/schema.js';
import { RefusedError } from '../util/errors.js';
import { displayRepo } from '../util/display.js';

/** The forms a repository can be named by, for matching allowlist patterns. */
export function repoIdentities(repo: string, cwd: string): string[] {
  const out = new Set<string>([repo]);
  const scp = /^(?:[\w.-]+@)?([\w.-]+):([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(repo);
  let url: URL | null = null;
  try {
    url = /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) ? new URL(repo) : null;
  } catch {
    url = null;
  }
  if (url && url.protocol !== 'file:') {
    const name = url.pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
    out.add(name);
    out.add(`${url.host}/${name}`);
    out.add(`${url.protocol}//${url.host}/${name}`);
  } else if (scp && !repo.startsWith('/') && !repo.startsWith('.')) {
    out.add(scp[2]);
    out.add(`${scp[1]}/${scp[2]}`);
  } else {
    const local = url ? decodeURIComponent(url.pathname) : path.resolve(cwd, repo);
    out.add(local.replace(/\/+$/, ''));
    out.add(local.replace(/\/+$/, '').replace(/\.git$/, ''));
  }
  return [...out];
}

/** Throws RefusedError (exit 3) when the tool is off or the repo is outside the allowlist. */
export function checkGates(config: Config, repo: string, cwd: string): void {
  if (!config.enabled) {
    throw new RefusedError('autodev is disabled (enabled = false in the configuration)', 'set [autodev] enabled = true to allow runs');
  }
  if (config.allowlist_repos.length === 0) return;
  const ids = repoIdentities(repo, cwd);
  const matchers = config.allowlist_repos.map((p) => picomatch(p, { dot: true, nocase: true }));
  if (ids.some((id) => matchers.some((m) => m(id)))) return;
  throw new RefusedError(
    `repository ${displayRepo(repo)} is not in allowlist_repos (${config.allowlist_repos.join(', ')})`,
    'add a matching pattern to [autodev] allowlist_repos',
  );
}

