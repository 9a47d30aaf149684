// The off switch and the allowlist, checked before anything is cloned.
import { describe, expect, it } from '@jest/globals';
import { autodevSchema } from '../../src/config/schema.js';
import { checkGates, repoIdentities } from '../../src/plan/gates.js';
import { ExitCode, RefusedError } from '../../src/util/errors.js';

const CWD = '/home/me/src';

function gate(allowlist: string[], repo: string, enabled = true): RefusedError | null {
  try {
    checkGates(autodevSchema.parse({ allowlist_repos: allowlist, enabled }), repo, CWD);
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
