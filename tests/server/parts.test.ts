import { describe, expect, it } from '@jest/globals';
import { autodevSchema } from '../../src/config/schema.js';
import { parseIssueRef, repoUrlFor } from '../../src/task/issue.js';
import { pullRef } from '../../src/task/task-sync.js';
import { isLoopback } from '../../src/server/http.js';

describe('the pieces serve relies on', () => {
  it('knows loopback addresses from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'example.com', '128.0.0.1']) expect(isLoopback(host)).toBe(false);
  });

  it('takes serve_token_env from config, never an AUTODEV_* name (those are config keys)', () => {
    expect(autodevSchema.parse({}).serve_token_env).toBe('AUTODEVD_TOKEN');
    expect(autodevSchema.safeParse({ serve_token_env: 'AUTODEV_API_TOKEN' }).success).toBe(false);
    expect(autodevSchema.safeParse({ serve_token_env: 'MY_TOKEN' }).success).toBe(true);
  });

  it('reads issue references and PR URLs', () => {
    expect(parseIssueRef('acme/calc#12')).toEqual({ owner: 'acme', repo: 'calc', number: 12 });
    expect(parseIssueRef('https://github.example.com/acme/calc/issues/3')).toEqual({ owner: 'acme', repo: 'calc', number: 3 });
    for (const bad of [
      'acme/calc',
      '#3',
      'acme/calc#0',
      'ftp://github.com/acme/calc/issues/3',
      'https://github.com/acme/calc/tree/3',
      '../x#1',
    ]) {
      expect(parseIssueRef(bad)).toBeNull();
    }
    expect(repoUrlFor({ owner: 'acme', repo: 'calc' }, 'https://api.github.com')).toBe('https://github.com/acme/calc.git');
    expect(repoUrlFor({ owner: 'acme', repo: 'calc' }, 'https://ghe.corp/api/v3')).toBe('https://ghe.corp/acme/calc.git');
    expect(pullRef('https://github.com/acme/calc/pull/7')).toEqual({ owner: 'acme', repo: 'calc', number: 7 });
    expect(pullRef('not a url')).toBeNull();
  });
});
