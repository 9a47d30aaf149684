// A task request never holds the credentials of a repository URL: it is stored, logged and shown.
import { describe, expect, it } from '@jest/globals';
import { requestSchema, withoutCredentials } from '../../src/config/request.js';

describe('withoutCredentials', () => {
  it('drops all userinfo of an http(s) URL (a lone user name there is a token too)', () => {
    expect(withoutCredentials('https://user:pa55word@github.com/acme/calc.git')).toBe('https://github.com/acme/calc.git');
    expect(withoutCredentials('https://ghp_abcdefghijklmnop@github.com/acme/calc.git')).toBe('https://github.com/acme/calc.git');
    expect(withoutCredentials('HTTP://x-access-token:t0ken@ghe.corp:8443/a/b')).toBe('HTTP://ghe.corp:8443/a/b');
    // A password holding an `@` goes whole: URL parsers split at the last one before the path.
    expect(withoutCredentials('https://user:p@ss@host/a/b.git')).toBe('https://host/a/b.git');
  });

  it('keeps the login name of other schemes, dropping only a password', () => {
    expect(withoutCredentials('ssh://git:secret@github.com/acme/calc.git')).toBe('ssh://git@github.com/acme/calc.git');
    expect(withoutCredentials('ssh://git@github.com/acme/calc.git')).toBe('ssh://git@github.com/acme/calc.git');
  });

  it('leaves everything else alone', () => {
    for (const repo of [
      'https://github.com/acme/calc',
      'git@github.com:acme/calc.git',
      '/srv/git/calc.git',
      './calc',
      'acme/calc',
      'file:///srv/a@b/calc',
    ]) {
      expect(withoutCredentials(repo)).toBe(repo);
    }
  });

  it('is applied by the request schema, so no caller can store them', () => {
    expect(requestSchema.parse({ repo: ' https://u:pw123456@github.com/acme/calc ', title: 't' }).repo).toBe(
      'https://github.com/acme/calc',
    );
  });
});
