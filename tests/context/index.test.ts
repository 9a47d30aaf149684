import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { estimateTokens, loadTokenCounter, selectContext, toContextJson } from '../../src/context/index.js';
import { rangesLabel } from '../../src/context/budget.js';
import { createSearcher } from '../../src/ports/search.js';

function write(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8' });
}

function commit(dir: string, files: Record<string, string>, message: string): void {
  write(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', message);
}

function history(dir: string): string[][] {
  return git(dir, 'log', '--name-only', '--format=%x00')
    .split('\0')
    .map((block) => block.split('\n').filter(Boolean))
    .filter((files) => files.length > 0);
}

function rustModule(name: string, fns: string[], lines = 30): string {
  const body = fns.map((f) => `pub fn ${f}(input: &str) -> usize {\n    input.len()\n}\n`).join('\n');
  const pad = Array.from({ length: lines }, (_, i) => `// ${name} note ${i}: keeps the module a realistic size`).join('\n');
  return `//! The ${name} module.\n\n${body}\n${pad}\n`;
}

describe('selectContext', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'autodev-context-'));
    git(dir, 'init', '-q');
    commit(
      dir,
      {
        'Cargo.toml': '[package]\nname = "demo"\nversion = "0.1.0"\n',
        'src/lib.rs': 'pub mod header;\npub mod body;\npub mod cache;\npub mod wire;\n',
        'src/header.rs': rustModule('header', ['parse_header', 'header_len']),
        'src/body.rs': rustModule('body', ['read_body', 'body_len']) + 'fn uses() { crate::header::parse_header("x"); }\n',
        'src/cache.rs': rustModule('cache', ['cache_get', 'cache_put']),
        'src/wire.rs': rustModule('wire', ['encode_frame']),
        'tests/header.rs': 'use demo::header::*;\n#[test]\nfn empty_is_zero() { assert_eq!(header_len(""), 0); }\n',
        'src/huge.rs':
          rustModule('huge', ['checksum_frames'], 4000) + '\npub fn verify_checksum(frame: &[u8]) -> bool {\n    frame.is_empty()\n}\n',
      },
      'initial import',
    );
    // Two fixes that touched the cache and the wire format together.
    commit(
      dir,
      {
        'src/cache.rs': rustModule('cache', ['cache_get', 'cache_put', 'cache_evict']),
        'src/wire.rs': rustModule('wire', ['encode_frame', 'decode_frame']),
      },
      'cache frames',
    );
    commit(
      dir,
      {
        'src/cache.rs': rustModule('cache', ['cache_get', 'cache_put', 'cache_evict', 'cache_len']),
        'src/wire.rs': rustModule('wire', ['encode_frame', 'decode_frame', 'frame_len']),
      },
      'cache frame length',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const engine of ['rg', 'git-grep'] as const) {
    it(`finds the defining file and its test, within the budget (${engine})`, async () => {
      const searcher = createSearcher(engine === 'rg' ? {} : { rgPath: null });
      expect(searcher.engine).toBe(engine);
      const selection = await selectContext({
        dir,
        title: 'parse_header miscounts folded lines',
        description: 'Header continuation lines are counted twice.',
        budgetTokens: 4000,
        model: 'gpt-4o',
        searcher,
        listFiles: (d) => searcher.listFiles(d),
      });
      const paths = selection.files.map((f) => f.path);
      expect(paths[0]).toBe('src/header.rs');
      expect(paths).toContain('tests/header.rs');
      expect(paths.indexOf('tests/header.rs')).toBeLessThan(paths.indexOf('src/body.rs') < 0 ? Infinity : paths.indexOf('src/body.rs'));
      expect(selection.tokens).toBeLessThanOrEqual(4000);
      expect(selection.encoding).toBe('o200k_base');
      // Each file's token count is the estimate of what is shown, and at least the real count.
      const counter = await loadTokenCounter('gpt-4o');
      for (const f of selection.files) {
        const label = f.ranges ? rangesLabel(f.ranges) : '';
        expect(f.tokens).toBe(estimateTokens(f.content) + estimateTokens(label) + estimateTokens(f.path) + 8);
        expect(f.tokens).toBeGreaterThanOrEqual(counter.count(f.content) + counter.count(label) + counter.count(f.path) + 8);
      }
    });
  }

  it('shows ranges of a file too big for the budget, around the definition', async () => {
    const searcher = createSearcher();
    const selection = await selectContext({
      dir,
      title: 'verify_checksum accepts empty frames',
      budgetTokens: 2000,
      model: 'gpt-4',
      searcher,
      listFiles: (d) => searcher.listFiles(d),
    });
    const huge = selection.files.find((f) => f.path === 'src/huge.rs')!;
    expect(huge).toBeDefined();
    expect(huge.ranges).not.toBeNull();
    expect(huge.content).toContain('pub fn verify_checksum(frame: &[u8]) -> bool {');
    expect(selection.tokens).toBeLessThanOrEqual(2000);
    expect(selection.encoding).toBe('cl100k_base');
    const json = toContextJson(selection);
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      files: selection.files.map((f) => ({ path: f.path, score: f.score, tokens: f.tokens, ranges: f.ranges })),
      tokens: selection.tokens,
    });
  });

  it('puts a file named in the task first and pulls in files changed with it', async () => {
    const searcher = createSearcher();
    const task = { title: 'Eviction in src/cache.rs drops the newest entry', description: 'cache_evict should remove the oldest.' };
    const base = { dir, ...task, budgetTokens: 8000, model: 'gpt-4o', searcher, listFiles: (d: string) => searcher.listFiles(d) };
    const without = await selectContext(base);
    expect(without.files[0].path).toBe('src/cache.rs');
    expect(without.ranking.map((r) => r.path)).not.toContain('src/wire.rs');

    const withHistory = await selectContext({ ...base, history: history(dir) });
    expect(withHistory.files[0].path).toBe('src/cache.rs');
    expect(withHistory.files.map((f) => f.path)).toContain('src/wire.rs');
  });

  it('returns an empty selection when nothing matches', async () => {
    const searcher = createSearcher();
    const selection = await selectContext({
      dir,
      title: 'zzqx',
      budgetTokens: 1000,
      model: 'gpt-4o',
      searcher,
      listFiles: (d) => searcher.listFiles(d),
    });
    expect(selection).toMatchObject({ files: [], tokens: 0 });
  });

  it('never shows a file that a symbolic link in the repository leads to outside it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'autodev-context-outside-'));
    const repo = mkdtempSync(join(tmpdir(), 'autodev-context-links-'));
    try {
      write(outside, { 'secret_settings.rs': 'pub fn secret_settings() -> &\'static str { "host-only-value" }\n' });
      git(repo, 'init', '-q');
      write(repo, { 'src/lib.rs': 'pub fn settings_len() -> usize { 0 }\n', 'src/inside.rs': 'pub fn secret_settings_inside() {}\n' });
      symlinkSync(join(outside, 'secret_settings.rs'), join(repo, 'src/secret_settings.rs'));
      symlinkSync(outside, join(repo, 'linked'));
      symlinkSync('inside.rs', join(repo, 'src/alias.rs'));
      git(repo, 'add', '-A');
      git(repo, 'commit', '-qm', 'links');
      const searcher = createSearcher();
      const selection = await selectContext({
        dir: repo,
        title: 'Fix secret_settings',
        description: 'secret_settings in src/secret_settings.rs and linked/secret_settings.rs',
        budgetTokens: 4000,
        model: 'gpt-4o',
        searcher,
        // What a run lists (git ls-files): symbolic links included.
        listFiles: async (d) => git(d, 'ls-files').split('\n').filter(Boolean),
      });
      const shown = selection.files.map((f) => f.path);
      expect(shown).not.toContain('src/secret_settings.rs');
      expect(shown).not.toContain('linked/secret_settings.rs');
      expect(JSON.stringify(selection.files)).not.toContain('host-only-value');
      // A link that stays inside the repository is an ordinary file.
      expect(shown).toContain('src/inside.rs');
    } finally {
      rmSync(outside, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
