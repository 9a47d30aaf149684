import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createSearcher, listFiles } from '../../src/ports/search.js';
import type { SearchHit } from '../../src/ports/types.js';

function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

function git(dir: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, stdio: 'ignore' });
}

const FILES: Record<string, string | Buffer> = {
  'src/header.rs': 'pub fn parse_header(line: &str) -> Header {\n    todo!()\n}\n\nconst PARSE_HEADER_LIMIT: usize = 8;\n',
  'src/lib.rs': 'mod header;\npub use header::parse_header;\n// RetryBudget lives elsewhere\n',
  'src/budget.ts': 'export class RetryBudget {}\nconst retrybudget = new RetryBudget();\n',
  'README.md': 'Call parse_header first.\n',
  '.gitignore': 'ignored/\n*.log\n',
  'ignored/copy.rs': 'fn parse_header() {}\n',
  'debug.log': 'parse_header failed\n',
  'data.bin': Buffer.concat([Buffer.from('parse_header'), Buffer.from([0, 1, 2, 0]), Buffer.from('parse_header\n')]),
  '.config/settings.toml': 'parse_header = true\n',
};

function keys(hits: SearchHit[]): string[] {
  return hits.map((h) => `${h.path}:${h.line}:${h.term}`).sort();
}

describe('createSearcher', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autodev-search-'));
    write(dir, FILES);
    git(dir, 'init', '-q');
    git(dir, 'add', 'src', 'README.md', '.gitignore', '.config');
    git(dir, 'commit', '-qm', 'init');
    // Untracked but not ignored: part of the working tree.
    write(dir, { 'src/new.rs': 'fn uses() { parse_header("x"); }\n' });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds fixed strings with ripgrep, skipping ignored and binary files', async () => {
    const searcher = createSearcher();
    expect(searcher.engine).toBe('rg');
    const hits = await searcher.search(dir, ['parse_header', 'a.b']);
    expect(keys(hits)).toEqual([
      '.config/settings.toml:1:parse_header',
      'README.md:1:parse_header',
      'src/header.rs:1:parse_header',
      'src/header.rs:5:parse_header',
      'src/lib.rs:2:parse_header',
      'src/new.rs:1:parse_header',
    ]);
    expect(hits.find((h) => h.path === 'src/header.rs' && h.line === 1)?.text).toBe('pub fn parse_header(line: &str) -> Header {');
  });

  it('matches lowercase terms case-insensitively and mixed-case terms exactly', async () => {
    const searcher = createSearcher();
    const hits = await searcher.search(dir, ['retrybudget', 'RetryBudget']);
    expect(keys(hits)).toEqual([
      'src/budget.ts:1:RetryBudget',
      'src/budget.ts:1:retrybudget',
      'src/budget.ts:2:RetryBudget',
      'src/budget.ts:2:retrybudget',
      'src/lib.rs:3:RetryBudget',
      'src/lib.rs:3:retrybudget',
    ]);
    const exact = await searcher.search(dir, ['RETRYBUDGET']);
    expect(exact).toEqual([]);
  });

  it('attributes a line to every term it contains, even overlapping ones', async () => {
    const hits = await createSearcher().search(dir, ['parse', 'parse_header_limit']);
    expect(keys(hits).filter((k) => k.startsWith('src/header.rs'))).toEqual([
      'src/header.rs:1:parse',
      'src/header.rs:5:parse',
      'src/header.rs:5:parse_header_limit',
    ]);
  });

  it('finds terms that JSON escapes: quotes, backslashes, non-ASCII', async () => {
    write(dir, { 'src/strings.rs': 'let a = "quoted";\nlet b = r"C:\\dir";\nlet größe = 1;\n' });
    for (const searcher of [createSearcher(), createSearcher({ rgPath: null })]) {
      const hits = await searcher.search(dir, ['"quoted"', 'C:\\dir', 'größe']);
      expect(keys(hits)).toEqual(['src/strings.rs:1:"quoted"', 'src/strings.rs:2:C:\\dir', 'src/strings.rs:3:größe']);
    }
  });

  it('caps hits per term', async () => {
    const hits = await createSearcher().search(dir, ['parse_header'], { maxHitsPerTerm: 2 });
    expect(hits).toHaveLength(2);
  });

  it('gives the same hits through git grep when rg is missing', async () => {
    const rg = createSearcher();
    const gitGrep = createSearcher({ rgPath: null });
    expect(gitGrep.engine).toBe('git-grep');
    for (const terms of [
      ['parse_header', 'a.b'],
      ['retrybudget', 'RetryBudget'],
      ['parse', 'parse_header_limit'],
    ]) {
      expect(keys(await gitGrep.search(dir, terms))).toEqual(keys(await rg.search(dir, terms)));
    }
  });

  it('git grep works outside a git repository too', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'autodev-search-plain-'));
    try {
      write(plain, { 'a.py': 'def load_config():\n    pass\n', '.gitignore': 'skip.py\n', 'skip.py': 'load_config()\n' });
      const hits = await createSearcher({ rgPath: null }).search(plain, ['load_config']);
      expect(keys(hits)).toEqual(['a.py:1:load_config']);
      expect(keys(await createSearcher().search(plain, ['load_config']))).toEqual(['a.py:1:load_config']);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  it('lists the working tree files with rg and with git, without ignored files', async () => {
    const expected = [
      '.config/settings.toml',
      '.gitignore',
      'README.md',
      'data.bin',
      'src/budget.ts',
      'src/header.rs',
      'src/lib.rs',
      'src/new.rs',
    ];
    expect(await listFiles(dir)).toEqual(expected);
    expect(await listFiles(dir, { rgPath: null })).toEqual(expected);
  });

  it('returns nothing for no terms and rejects when the program cannot start', async () => {
    expect(await createSearcher().search(dir, [])).toEqual([]);
    const broken = createSearcher({ rgPath: join(dir, 'no-such-rg') });
    await expect(broken.search(dir, ['x'])).rejects.toThrow(/ENOENT/);
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(createSearcher().search(dir, ['parse_header'], { signal: controller.signal })).rejects.toThrow(/abort/i);
  });
});
