// The checks that run before anything touches the network: the off switch and the allowlist.
// Local repositories are matched by their real path (symlinks resolved), read from the filesystem:
// a lexical match would let `allowed/link -> ../victim` through.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { picomatchLib } from '../util/libs.js';
import type { Config } from '../config/schema.js';
import { RefusedError } from '../util/errors.js';
import { displayRepo } from '../util/display.js';

const SCP = /^(?:[\w.-]+@)?([\w.-]+):([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/;

function parseUrl(repo: string): URL | null {
  try {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) ? new URL(repo) : null;
  } catch {
    return null;
  }
}

/** The absolute path a local repository (a path or a file:// URL) names; null for a remote. */
export function localRepoPath(repo: string, cwd: string): string | null {
  const url = parseUrl(repo);
  if (url) {
    if (url.protocol !== 'file:') return null;
    try {
      return fileURLToPath(url);
    } catch {
      return decodeURIComponent(url.pathname);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return null;
  if (SCP.test(repo) && !repo.startsWith('/') && !repo.startsWith('.')) return null;
  return path.resolve(cwd, repo);
}

/**
 * `file` with every symlink resolved. A path that does not exist (yet) keeps its missing tail on the
 * real path of the deepest part that does, so a link in an existing parent is still seen through.
 */
export function realPath(file: string): string {
  const tail: string[] = [];
  let current = path.resolve(file);
  for (;;) {
    try {
      return path.join(realpathSync(current), ...tail.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return path.resolve(file);
      tail.push(path.basename(current));
      current = parent;
    }
  }
}

/**
 * What a run clones and pushes to: a local repository by its real absolute path (so what the
 * allowlist checked is what is written to, even if a link changes later); a remote unchanged.
 */
export function canonicalRepo(repo: string, cwd: string): string {
  const local = localRepoPath(repo, cwd);
  return local === null ? repo : realPath(local).replace(/(.)\/+$/, '$1');
}

/** The forms a repository can be named by, for matching allowlist patterns. */
export function repoIdentities(repo: string, cwd: string): string[] {
  const local = localRepoPath(repo, cwd);
  if (local !== null) {
    // Only the real path: the name the caller used may run through a link out of the allowed tree.
    const real = realPath(local).replace(/(.)\/+$/, '$1');
    return [...new Set([real, real.replace(/\.git$/, '')])];
  }
  const out = new Set<string>([repo]);
  const url = parseUrl(repo);
  const scp = SCP.exec(repo);
  if (url) {
    const name = url.pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
    out.add(name);
    out.add(`${url.host}/${name}`);
    out.add(`${url.protocol}//${url.host}/${name}`);
  } else if (scp) {
    out.add(scp[2]);
    out.add(`${scp[1]}/${scp[2]}`);
  }
  return [...out];
}

/** An absolute-path pattern with its literal directory part resolved, so it compares with real paths. */
function realPattern(pattern: string): string {
  if (!path.isAbsolute(pattern)) return pattern;
  const { base, glob } = picomatchLib().scan(pattern);
  if (base === '' || !path.isAbsolute(base)) return pattern;
  const real = realPath(base);
  return glob === '' ? real : `${real.replace(/\/+$/, '')}/${glob}`;
}

export interface GateOptions {
  /**
   * Refuse local repositories (paths, file:// URLs) unless allowlist_repos names them, even when it
   * is empty: `serve` without a token must not let whoever reaches it push into any repository here.
   */
  localNeedsAllowlist?: boolean;
}

/** Throws RefusedError when the config asks for the agent strategy with sandbox = "none" and does not allow it. */
export function checkAgentSandbox(config: Config): void {
  // The agent runs commands the model writes: on this machine only when the user says so in as many words.
  if (config.generate.strategy === 'agent' && config.sandbox === 'none' && !config.agent.allow_unsandboxed) {
    throw new RefusedError(
      'agent mode refused with sandbox = "none": the commands the model writes would run on this machine',
      'use a sandbox (bwrap, docker, podman), or pass --allow-unsandboxed-agent (agent.allow_unsandboxed = true)',
    );
  }
}

/** Throws RefusedError (exit 3) when the tool is off or the repo is outside the allowlist. */
export function checkGates(config: Config, repo: string, cwd: string, options: GateOptions = {}): void {
  if (!config.enabled) {
    throw new RefusedError('autodev is disabled (enabled = false in the configuration)', 'set [autodev] enabled = true to allow runs');
  }
  checkAgentSandbox(config);
  if (config.allowlist_repos.length === 0) {
    if (options.localNeedsAllowlist && localRepoPath(repo, cwd) !== null) {
      throw new RefusedError(
        `local repository ${displayRepo(repo)} refused: without a token, serve takes local paths only when allowlist_repos names them`,
        'add the path (or a glob) to [autodev] allowlist_repos, or set the serve token',
      );
    }
    return;
  }
  const ids = repoIdentities(repo, cwd);
  const matchers = config.allowlist_repos.map((p) => picomatchLib()(realPattern(p), { dot: true, nocase: true }));
  if (ids.some((id) => matchers.some((m) => m(id)))) return;
  throw new RefusedError(
    `repository ${displayRepo(repo)} is not in allowlist_repos (${config.allowlist_repos.join(', ')})`,
    'add a matching pattern to [autodev] allowlist_repos',
  );
}
