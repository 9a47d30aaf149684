// Which GitHub repository a git remote names (github.com or a GitHub Enterprise host). Pure string
// work, no octokit: the planner's caller needs it before anything is cloned, `--plan-only` included.

export interface GitHubRemote {
  /** Host as written in the remote, lower-cased (github.com, github.example.com, ...). */
  host: string;
  owner: string;
  repo: string;
  /** The REST API root for `createForge`. */
  apiBaseUrl: string;
}

const GITHUB_COM = new Set(['github.com', 'www.github.com', 'ssh.github.com']);

function isGitHubHost(host: string, enterpriseHosts: string[]): boolean {
  if (GITHUB_COM.has(host)) return true;
  if (enterpriseHosts.some((known) => known.toLowerCase() === host)) return true;
  // GitHub Enterprise Cloud with data residency lives under <tenant>.ghe.com; self-hosted instances are
  // conventionally named github.<company>.<tld> (anything else can be listed in enterpriseHosts).
  if (host.endsWith('.ghe.com')) return true;
  return host.split('.').some((label) => label.startsWith('github'));
}

function apiBaseFor(host: string, webOrigin: string): string {
  if (GITHUB_COM.has(host)) return 'https://api.github.com';
  if (host.endsWith('.ghe.com')) return `https://api.${host}`;
  return `${webOrigin}/api/v3`;
}

/**
 * Owner, repository and API root of a GitHub remote: https (with or without credentials), ssh
 * (`git@github.com:o/r.git`, `ssh://git@host[:port]/o/r.git`) and git:// forms, on github.com or a
 * GitHub Enterprise host. Null for local paths and other forges.
 */
export function parseGitHubRemote(remote: string, options: { enterpriseHosts?: string[] } = {}): GitHubRemote | null {
  const text = remote.trim();
  let host: string;
  let path: string;
  let webOrigin: string;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(text);
  if (!text.includes('://') && scp) {
    host = scp[1].toLowerCase();
    // A one-letter "host" is a Windows drive (C:\repo), which git treats as a local path.
    if (host.length === 1) return null;
    path = scp[2];
    webOrigin = `https://${host}`;
  } else {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return null;
    }
    const protocol = url.protocol.replace(/:$/, '');
    if (!['https', 'http', 'ssh', 'git', 'git+ssh', 'ssh+git'].includes(protocol)) return null;
    host = url.hostname.toLowerCase();
    path = decodeURIComponent(url.pathname);
    // ssh and git ports say nothing about where the web UI (and API) is served.
    webOrigin = protocol === 'https' || protocol === 'http' ? `${protocol}://${url.host.toLowerCase()}` : `https://${host}`;
  }
  if (!isGitHubHost(host, options.enterpriseHosts ?? [])) return null;
  const parts = path
    .replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/, '')
    .split('/');
  if (parts.length !== 2 || parts.some((part) => part === '' || part === '.' || part === '..')) return null;
  const [owner, repo] = parts;
  return { host: GITHUB_COM.has(host) ? 'github.com' : host, owner, repo, apiBaseUrl: apiBaseFor(host, webOrigin) };
}
