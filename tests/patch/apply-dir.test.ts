import { afterEach, describe, expect, it } from '@jest/globals';
import { applyPatchToDir, formatPatchError } from '../../src/patch/apply-dir.js';
import { cleanup, gitDiff, makeRepo, read, realGitApply, snapshot } from './helpers.js';

const LIB_RS = `use std::collections::HashMap;

pub struct Inventory {
    items: HashMap<String, u32>,
}

impl Inventory {
    pub fn new() -> Self {
        Inventory { items: HashMap::new() }
    }

    pub fn add(&mut self, name: &str, count: u32) {
        let entry = self.items.entry(name.to_string()).or_insert(0);
        *entry += count;
    }

    pub fn remove(&mut self, name: &str, count: u32) -> bool {
        match self.items.get_mut(name) {
            Some(n) if *n >= count => {
                *n -= count;
                true
            }
            _ => false,
        }
    }

    pub fn total(&self) -> u32 {
        let mut total = 0;
        for v in self.items.values() {
            total += v;
        }
        total
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.items.keys().cloned().collect();
        names.sort();
        names
    }
}
`;

const LIB_RS_NEW = LIB_RS.replace(
  '        let entry = self.items.entry(name.to_string()).or_insert(0);\n        *entry += count;\n',
  '        if count == 0 {\n            return;\n        }\n        let entry = self.items.entry(name.to_string()).or_insert(0);\n        *entry += count;\n',
).replace('        names.sort();\n', '        names.sort_unstable();\n        names.dedup();\n');

const UTIL_TS = `export function clamp(value: number, lo: number, hi: number): number {
  if (value < lo) return lo;
  if (value > hi) return hi;
  return value;
}

export function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
`;
const UTIL_TS_NEW = UTIL_TS.replace('  let total = 0;\n', '  let total = 0;\n  if (values.length === 0) return 0;\n');

const WIN_TXT = 'first line\r\nsecond line\r\nthird line\r\nfourth line\r\nfifth line\r\n';
const WIN_TXT_NEW = 'first line\r\nsecond line\r\nTHIRD LINE\r\nfourth line\r\nfifth line\r\n';

const BASE = { 'src/lib.rs': LIB_RS, 'src/util.ts': UTIL_TS, 'docs/win.txt': WIN_TXT, 'old/legacy.txt': 'legacy\ncontent\n' };
const CHANGE = { 'src/lib.rs': LIB_RS_NEW, 'src/util.ts': UTIL_TS_NEW };

let dirs: string[] = [];
function repo(): string {
  const d = makeRepo(BASE);
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs) cleanup(d);
  dirs = [];
});

/** Map every hunk header through `f`. */
function mapHeaders(patch: string, f: (header: string, k: number) => string): string {
  let k = 0;
  return patch.replace(/^@@.*$/gm, (h) => f(h, k++));
}

/** The hunks of one file's section of a patch, reordered last-first. */
function reverseHunks(patch: string, file: string): string {
  const start = patch.indexOf(`diff --git a/${file}`);
  const end = patch.indexOf('diff --git', start + 1);
  const section = patch.slice(start, end < 0 ? undefined : end);
  const firstHunk = section.indexOf('\n@@') + 1;
  const head = section.slice(0, firstHunk);
  const hunks = section.slice(firstHunk).split(/(?=^@@)/m);
  expect(hunks.length).toBeGreaterThan(1);
  return patch.replace(section, head + hunks.reverse().join(''));
}

async function expectApplies(dir: string, patch: string, strategies: Array<string | null>): Promise<void> {
  const r = await applyPatchToDir(dir, patch);
  expect(r.error).toBeNull();
  expect(r.applied).toBe(true);
  expect(strategies).toContain(r.strategy);
  expect(read(dir, 'src/lib.rs')).toBe(LIB_RS_NEW);
  expect(read(dir, 'src/util.ts')).toBe(UTIL_TS_NEW);
}

describe('applyPatchToDir: perturbed patches still apply correctly', () => {
  it('applies the exact patch with the exact layer and reports each hunk', async () => {
    const dir = repo();
    const patch = gitDiff(dir, CHANGE);
    const r = await applyPatchToDir(dir, patch);
    expect(r).toEqual({
      applied: true,
      files: ['src/lib.rs', 'src/util.ts'],
      strategy: 'exact',
      hunks: [
        { file: 'src/lib.rs', status: 'applied', strategy: 'exact', offset: 0 },
        { file: 'src/lib.rs', status: 'applied', strategy: 'exact', offset: 0 },
        { file: 'src/util.ts', status: 'applied', strategy: 'exact', offset: 0 },
      ],
      error: null,
    });
    expect(read(dir, 'src/lib.rs')).toBe(LIB_RS_NEW);
  });

  it('wrong line numbers', async () => {
    const dir = repo();
    const patch = mapHeaders(gitDiff(dir, CHANGE), (h, k) =>
      h.replace(/-(\d+),(\d+) \+(\d+)/, (_m, a, b, c) => `-${Number(a) + 7 * (k + 1)},${Number(b) + 2} +${Number(c) + 3}`),
    );
    const r = await applyPatchToDir(dir, patch);
    expect(r.hunks.map((h) => h.strategy)).toEqual(['offset', 'offset', 'offset']);
    expect(r.hunks[0].offset).toBe(-7);
    expect(read(dir, 'src/lib.rs')).toBe(LIB_RS_NEW);
  });

  it('missing line numbers and counts', async () => {
    const dir = repo();
    const patch = mapHeaders(gitDiff(dir, CHANGE), (h, k) => (k === 0 ? '@@ ... @@' : k === 1 ? '@@' : '@@ -1 +1 @@'));
    await expectApplies(dir, patch, ['offset', 'exact']);
  });

  it('indentation drift: writes the file own indentation', async () => {
    const dir = repo();
    // The model re-indented the Rust hunks with 2-space steps instead of 4.
    const patch = gitDiff(dir, CHANGE).replace(
      /^([ +-])((?:    )+)/gm,
      (_m, sign: string, ind: string) => sign + '  '.repeat(ind.length / 4),
    );
    await expectApplies(dir, patch, ['whitespace']);
  });

  it('trimmed context (one line around each change)', async () => {
    const dir = repo();
    await expectApplies(dir, gitDiff(dir, CHANGE, ['-U1']), ['exact']);
  });

  it('one stale context line', async () => {
    const dir = repo();
    const patch = gitDiff(dir, CHANGE).replace(
      ' pub fn add(&mut self, name: &str, count: u32) {',
      ' pub fn add(&mut self, name: &str, n: u32) {',
    );
    expect(patch).toContain('n: u32');
    await expectApplies(dir, patch, ['fuzzy']);
  });

  it('no a/ b/ prefixes', async () => {
    const dir = repo();
    await expectApplies(dir, gitDiff(dir, CHANGE, ['--no-prefix']), ['exact']);
  });

  it('hunks out of order', async () => {
    const dir = repo();
    await expectApplies(dir, reverseHunks(gitDiff(dir, CHANGE), 'src/lib.rs'), ['exact']);
  });

  it('a new file, with its directories and mode', async () => {
    const dir = repo();
    const patch = gitDiff(dir, { 'src/deep/new/mod.rs': 'pub mod x;\npub fn f() {}\n' });
    const r = await applyPatchToDir(dir, patch);
    expect(r.applied).toBe(true);
    expect(read(dir, 'src/deep/new/mod.rs')).toBe('pub mod x;\npub fn f() {}\n');
  });

  it('a deleted file', async () => {
    const dir = repo();
    const patch = gitDiff(dir, { 'old/legacy.txt': null });
    const r = await applyPatchToDir(dir, patch);
    expect(r.applied).toBe(true);
    expect(r.files).toEqual(['old/legacy.txt']);
    expect(Object.keys(snapshot(dir, true))).not.toContain('old/legacy.txt');
  });

  it('CRLF: a patch sent with CRLF line ends, and a CRLF file patched by an LF patch', async () => {
    const dir = repo();
    await expectApplies(dir, gitDiff(dir, CHANGE).replace(/\n/g, '\r\n'), ['exact']);
    const lf = [
      '--- a/docs/win.txt',
      '+++ b/docs/win.txt',
      '@@ -2,3 +2,3 @@',
      ' second line',
      '-third line',
      '+THIRD LINE',
      ' fourth line',
      '',
    ].join('\n');
    const r = await applyPatchToDir(dir, lf);
    expect(r.applied).toBe(true);
    expect(read(dir, 'docs/win.txt')).toBe(WIN_TXT_NEW);
  });

  it('uses git apply as layer 1 and falls back to the text layers when it refuses', async () => {
    const dir = repo();
    const clean = gitDiff(dir, CHANGE);
    const viaGit = await applyPatchToDir(dir, clean, { gitApply: realGitApply });
    expect(viaGit.strategy).toBe('git-apply');
    expect(read(dir, 'src/lib.rs')).toBe(LIB_RS_NEW);

    const dir2 = repo();
    // git apply refuses the trailing blank on a context line; the whitespace layer does not.
    const drifted = gitDiff(dir2, CHANGE).replace(
      ' pub fn add(&mut self, name: &str, count: u32) {',
      ' pub fn add(&mut self, name: &str, count: u32) {  ',
    );
    const viaText = await applyPatchToDir(dir2, drifted, { gitApply: realGitApply });
    expect(viaText.applied).toBe(true);
    expect(viaText.strategy).toBe('whitespace');
    expect(read(dir2, 'src/lib.rs')).toBe(LIB_RS_NEW);
  });

  it('check mode writes nothing', async () => {
    const dir = repo();
    const patch = gitDiff(dir, CHANGE, ['--no-prefix']);
    const before = snapshot(dir);
    const r = await applyPatchToDir(dir, patch, { check: true, gitApply: realGitApply });
    expect(r.applied).toBe(true);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('applyPatchToDir: refusals leave the tree byte-for-byte unchanged', () => {
  async function expectRefused(dir: string, patch: string, error: RegExp): Promise<string> {
    const before = snapshot(dir);
    const r = await applyPatchToDir(dir, patch, { gitApply: realGitApply });
    expect(r.applied).toBe(false);
    expect(r.error).toMatch(error);
    expect(snapshot(dir)).toEqual(before);
    return formatPatchError(r);
  }

  it('ambiguous context', async () => {
    const dir = repo();
    const patch = ['--- a/src/lib.rs', '+++ b/src/lib.rs', '@@', '     }', '+    // end', ' ', ''].join('\n');
    const text = await expectRefused(dir, patch, /matches 4 places/);
    expect(text).toMatch(/NOT applied/);
  });

  it('context found nowhere, even when an earlier file would apply', async () => {
    const dir = repo();
    const good = gitDiff(dir, { 'src/util.ts': UTIL_TS_NEW });
    const bad = [
      '--- a/src/lib.rs',
      '+++ b/src/lib.rs',
      '@@ -27,5 +27,5 @@',
      '     pub fn grand_total(&self) -> u64 {',
      '-        let mut acc = 0u64;',
      '+        let mut acc = 1u64;',
      '         for v in self.stock.iter() {',
      '',
    ].join('\n');
    const text = await expectRefused(
      dir,
      good + bad,
      /src\/lib\.rs: hunk #1 \(@@ -27,5 \+27,5 @@\) does not apply.*closest at line \d+ \(similarity \d+%\)/,
    );
    // The model is shown what the file really has around the closest match.
    expect(text).toMatch(/pub fn total\(&self\) -> u32 \{/);
    expect(text).toMatch(/The file actually has there/);
  });

  it('a hunk whose removed line is stale is not fuzzed onto the file', async () => {
    const dir = repo();
    const patch = gitDiff(dir, CHANGE).replace('-        names.sort();', '-        names.sort_by(|a, b| b.cmp(a));');
    await expectRefused(dir, patch, /hunk #2/);
  });

  it.each([
    ['../escape.txt', /escapes the repository/],
    ['/tmp/absolute.txt', /absolute path/],
    ['.git/hooks/post-checkout', /\.git/],
    ['src/.git/config', /\.git/],
  ])('path %s', async (p, reason) => {
    const dir = repo();
    const patch = [`--- /dev/null`, `+++ ${p}`, '@@ -0,0 +1 @@', '+#!/bin/sh', ''].join('\n');
    await expectRefused(dir, patch, reason);
    const modify = [`--- a/${p}`, `+++ b/${p}`, '@@ -1 +1 @@', '-x', '+y', ''].join('\n');
    await expectRefused(dir, modify, reason);
  });

  it('a file the patch creates that already exists, and one it changes that does not', async () => {
    const dir = repo();
    await expectRefused(dir, ['--- /dev/null', '+++ b/src/util.ts', '@@ -0,0 +1 @@', '+x', ''].join('\n'), /already exists/);
    await expectRefused(
      dir,
      ['--- a/src/nope.ts', '+++ b/src/nope.ts', '@@ -1,2 +1,2 @@', ' a', '-b', '+c', ''].join('\n'),
      /does not exist/,
    );
  });
});
