// The off switch and the allowlist, checked before anything is cloned.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import { canonicalRepo, checkGates, repoIdentities, type GateOptions } from '../../src/plan/gates.js';
import { cleanup, makeTempDir } from '../support/fixture-repo.js';
import { ExitCode, RefusedError } from '../../src/util/errors.js';

const CWD = '/home/me/src';

afterAll(cleanup);

function gate(allowlist: string[], repo: string, enabled = true, cwd = CWD, options: GateOptions = {}): RefusedError | null {
  try {
    checkGates(autodevSchema.parse({ allowlist_repos: allowlist, enabled }), repo, cwd, options);
    return null;
  } catch (error) {
    if (error instanceof RefusedError) return error;
    throw error;
  }
}

describe('checkGates', () => {
  it('refuses everything with exit 3 when enabled = false, even an allowed repo', () => {
    expect(gate(['acme/*'], 'https://github.com/acme/calc')).toBeNull();
    const off = gate(['acme/*'], 'https://github.com/acme/calc', false);
    expect(off).toBeInstanceOf(RefusedError);
    expect(off?.exitCode).toBe(ExitCode.refused);
    expect(off?.message).toMatch(/disabled/);
    expect(off?.hint).toMatch(/enabled = true/);
  });

  it('allows every repository when the allowlist is empty', () => {
    for (const repo of ['https://github.com/acme/calc', 'git@github.com:x/y.git', '/tmp/anything', './rel', 'file:///srv/git/r.git']) {
      expect(gate([], repo)).toBeNull();
    }
  });

  it('matches owner/name globs against https, ssh and scp-style URLs', () => {
    const allow = ['acme/*'];
    expect(gate(allow, 'https://github.com/acme/calc')).toBeNull();
    expect(gate(allow, 'https://github.com/acme/calc.git')).toBeNull();
    expect(gate(allow, 'https://github.com/ACME/Calc/')).toBeNull();
    expect(gate(allow, 'git@github.com:acme/calc.git')).toBeNull();
    expect(gate(allow, 'ssh://git@github.com/acme/calc.git')).toBeNull();
    expect(gate(allow, 'https://github.com/other/calc')).toBeInstanceOf(RefusedError);
    expect(gate(allow, 'https://github.com/acme-evil/calc')).toBeInstanceOf(RefusedError);
  });

  it('matches host/owner/name patterns, telling hosts apart', () => {
    const allow = ['github.example.com/team/*'];
    expect(gate(allow, 'https://github.example.com/team/api.git')).toBeNull();
    expect(gate(allow, 'git@github.example.com:team/api.git')).toBeNull();
    expect(gate(allow, 'https://github.com/team/api')).toBeInstanceOf(RefusedError);
  });

  it('matches full URL patterns', () => {
    const allow = ['https://github.com/acme/calc'];
    expect(gate(allow, 'https://github.com/acme/calc.git')).toBeNull();
    expect(gate(allow, 'http://github.com/acme/calc')).toBeInstanceOf(RefusedError);
  });

  it('matches local paths, relative ones resolved against the cwd, and file:// URLs', () => {
    const allow = ['/home/me/src/*'];
    expect(gate(allow, '/home/me/src/calc')).toBeNull();
    expect(gate(allow, './calc')).toBeNull();
    expect(gate(allow, 'calc/')).toBeNull();
    expect(gate(allow, 'file:///home/me/src/calc.git')).toBeNull();
    expect(gate(allow, '/home/me/other/calc')).toBeInstanceOf(RefusedError);
    expect(gate(allow, '../other')).toBeInstanceOf(RefusedError);
    // a star does not cross directories
    expect(gate(allow, '/home/me/src/a/b')).toBeInstanceOf(RefusedError);
    expect(gate(['/home/me/src/**'], '/home/me/src/a/b')).toBeNull();
  });

  it('names the repository and the patterns in the refusal', () => {
    const error = gate(['acme/*', 'b/c'], 'https://github.com/evil/repo');
    expect(error?.exitCode).toBe(3);
    expect(error?.message).toContain('https://github.com/evil/repo');
    expect(error?.message).toContain('acme/*, b/c');
    expect(error?.hint).toMatch(/allowlist_repos/);
  });
});

describe('local repositories by their real path', () => {
  /** root/allowed/{real, link -> ../victim}, root/victim, root/outside/in -> ../allowed/real, root/alias -> allowed. */
  async function tree(): Promise<Record<'root' | 'allowed' | 'real' | 'link' | 'victim' | 'inward' | 'alias', string>> {
    const root = await makeTempDir('autodev-gates-');
    const at = (...parts: string[]) => path.join(root, ...parts);
    await mkdir(at('allowed', 'real'), { recursive: true });
    await mkdir(at('victim'));
    await mkdir(at('outside'));
    await symlink('../victim', at('allowed', 'link'));
    await symlink('../allowed/real', at('outside', 'in'));
    await symlink('allowed', at('alias'));
    return {
      root,
      allowed: at('allowed'),
      real: at('allowed', 'real'),
      link: at('allowed', 'link'),
      victim: at('victim'),
      inward: at('outside', 'in'),
      alias: at('alias'),
    };
  }

  it('refuses a link inside the allowed tree that leads out of it, however it is named', async () => {
    const t = await tree();
    const allow = [`${t.allowed}/*`];
    expect(gate(allow, t.real)).toBeNull();
    for (const name of [t.link, `${t.link}/`, `file://${t.link}`, `${t.link}/../link`]) {
      const refused = gate(allow, name);
      expect(refused).toBeInstanceOf(RefusedError);
      expect(refused?.message).toContain('allowlist_repos');
    }
    expect(gate(allow, './link', true, t.allowed)).toBeInstanceOf(RefusedError);
    // A link from outside into the allowed tree names an allowed repository.
    expect(gate(allow, t.inward)).toBeNull();
    // An allowlist written through a link still allows what lies behind it, and only that.
    expect(gate([`${t.alias}/*`], t.real)).toBeNull();
    expect(gate([`${t.alias}/*`], t.link)).toBeInstanceOf(RefusedError);
    expect(repoIdentities(t.link, '/')).toEqual([t.victim]);
  });

  it('gives a local repository its real path to clone and push to, and leaves remotes alone', async () => {
    const t = await tree();
    expect(canonicalRepo(t.link, '/')).toBe(t.victim);
    expect(canonicalRepo('link/', t.allowed)).toBe(t.victim);
    expect(canonicalRepo(`file://${t.inward}`, '/')).toBe(t.real);
    expect(canonicalRepo('https://github.com/acme/calc.git', t.root)).toBe('https://github.com/acme/calc.git');
    expect(canonicalRepo('git@github.com:acme/calc.git', t.root)).toBe('git@github.com:acme/calc.git');
  });

  it('with localNeedsAllowlist (serve without a token), refuses local paths unless the allowlist names them', async () => {
    const t = await tree();
    const strict = { localNeedsAllowlist: true };
    for (const local of [t.real, `file://${t.real}`, './real']) {
      const refused = gate([], local, true, t.allowed, strict);
      expect(refused).toBeInstanceOf(RefusedError);
      expect(refused?.message).toContain('allowlist_repos');
    }
    expect(gate([], 'https://github.com/acme/calc', true, t.allowed, strict)).toBeNull();
    expect(gate([`${t.allowed}/*`], t.real, true, t.allowed, strict)).toBeNull();
    expect(gate([`${t.allowed}/*`], t.link, true, t.allowed, strict)).toBeInstanceOf(RefusedError);
    // Without the option an empty allowlist still allows everything (the CLI's case).
    expect(gate([], t.real, true, t.allowed)).toBeNull();
  });
});

describe('refusal messages', () => {
  it('never repeat credentials embedded in a repository URL', () => {
    const error = gate(['acme/*'], 'https://x-access-token:ghp_SECRETSECRET@github.com/evil/repo.git');
    expect(error).toBeInstanceOf(RefusedError);
    expect(error?.message).not.toContain('ghp_SECRETSECRET');
    expect(error?.message).toContain('https://***@github.com/evil/repo.git');
    // matching ignores the credentials
    expect(gate(['acme/*'], 'https://x-access-token:ghp_SECRETSECRET@github.com/acme/repo.git')).toBeNull();
  });
});

describe('repoIdentities', () => {
  it('gives owner/name, host/owner/name and the URL for a remote', () => {
    expect(repoIdentities('https://github.com/acme/calc.git', CWD)).toEqual(
      expect.arrayContaining(['acme/calc', 'github.com/acme/calc', 'https://github.com/acme/calc']),
    );
    expect(repoIdentities('git@github.com:acme/calc.git', CWD)).toEqual(expect.arrayContaining(['acme/calc', 'github.com/acme/calc']));
  });

  it('gives the absolute path, with and without .git, for a local repository', () => {
    expect(repoIdentities('../calc.git', CWD)).toEqual(expect.arrayContaining(['/home/me/calc.git', '/home/me/calc']));
  });
});
