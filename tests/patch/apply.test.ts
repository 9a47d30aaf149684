import { describe, expect, it } from '@jest/globals';
import { applyPatchToFiles } from '../../src/patch/apply.js';

const files = (map: Record<string, string>) => (p: string) => (p in map ? map[p] : null);
const content = (r: ReturnType<typeof applyPatchToFiles>, p: string) => r.changes.find((c) => c.path === p)?.content;

const REPEATED = ['fn a() {', '    x();', '}', '', 'fn b() {', '    x();', '}', '', 'fn c() {', '    y();', '}', ''].join('\n');

describe('applyPatchToFiles', () => {
  it('honours "No newline at end of file" on either side', () => {
    const add = ['--- a/v', '+++ b/v', '@@ -1,2 +1,2 @@', ' a', '-b', '\\ No newline at end of file', '+c'].join('\n');
    expect(content(applyPatchToFiles(add, files({ v: 'a\nb' })), 'v')).toBe('a\nc\n');
    const drop = ['--- a/v', '+++ b/v', '@@ -1,2 +1,2 @@', ' a', '-b', '+c', '\\ No newline at end of file'].join('\n');
    expect(content(applyPatchToFiles(drop, files({ v: 'a\nb\n' })), 'v')).toBe('a\nc');
  });

  it('places an ambiguous append at the end of the file when it has context only before', () => {
    const patch = ['--- a/r.rs', '+++ b/r.rs', '@@', '     x();', ' }', ' ', '+fn d() {}'].join('\n');
    const r = applyPatchToFiles(patch, files({ 'r.rs': REPEATED.replace(/\n$/, '\nfn e() {\n    x();\n}\n') }));
    // Context "x(); } <blank>" is in fn a and fn b, neither at the end of the file: ambiguous.
    expect(r.ok).toBe(false);
    const atEnd = applyPatchToFiles(
      ['--- a/r.rs', '+++ b/r.rs', '@@', '     x();', ' }', '+fn d() {}'].join('\n'),
      files({ 'r.rs': 'fn a() {\n    x();\n}\nfn e() {\n    x();\n}\n' }),
    );
    expect(atEnd.ok).toBe(true);
    expect(content(atEnd, 'r.rs')).toBe('fn a() {\n    x();\n}\nfn e() {\n    x();\n}\nfn d() {}\n');
  });

  it('settles an ambiguous hunk with the offset of a resolved neighbour', () => {
    const patch = [
      '--- a/r.rs',
      '+++ b/r.rs',
      '@@ -13,3 +13,3 @@',
      ' fn a() {',
      '-    x();',
      '+    x1();',
      '@@ -17,3 +17,3 @@',
      ' fn b() {',
      '-    x();',
      '+    x2();',
    ].join('\n');
    // Hunk 1 is unique (offset -12); hunk 2's "x();" under "fn b" is unique too, but a bare
    // "    x();" / "}" hunk would not be: check the neighbour rule with one.
    const r = applyPatchToFiles(patch, files({ 'r.rs': REPEATED }));
    expect(r.hunks.map((h) => [h.strategy, h.offset])).toEqual([
      ['offset', -12],
      ['offset', -12],
    ]);
    const ambiguous = [
      '--- a/r.rs',
      '+++ b/r.rs',
      '@@ -11,3 +11,3 @@',
      ' fn a() {',
      '-    x();',
      '+    x1();',
      '@@ -16,2 +16,2 @@',
      '-    x();',
      '+    x2();',
      ' }',
    ].join('\n');
    const settled = applyPatchToFiles(ambiguous, files({ 'r.rs': REPEATED }));
    expect(settled.ok).toBe(true);
    expect(content(settled, 'r.rs')).toContain('fn b() {\n    x2();\n}');
    const bare = ['--- a/r.rs', '+++ b/r.rs', '@@', '-    x();', '+    x2();', ' }'].join('\n');
    const refused = applyPatchToFiles(bare, files({ 'r.rs': REPEATED }));
    expect(refused.failure?.kind).toBe('ambiguous');
    expect(refused.failure?.message).toMatch(/r\.rs: hunk #1 \(@@\) matches 2 places \(lines 2, 6\)/);
  });

  it('re-indents added lines to the file style when the patch used tabs for spaces', () => {
    const file = 'fn f() {\n    if a {\n        b();\n    }\n}\n';
    const patch = ['--- a/f.rs', '+++ b/f.rs', '@@ -1,5 +1,6 @@', ' fn f() {', ' \tif a {', ' \t\tb();', '+\t\tc();', ' \t}', ' }'].join(
      '\n',
    );
    const r = applyPatchToFiles(patch, files({ 'f.rs': file }));
    expect(r.strategy).toBe('whitespace');
    expect(content(r, 'f.rs')).toBe('fn f() {\n    if a {\n        b();\n        c();\n    }\n}\n');
  });

  it('renames with a hunk, and sees earlier sections of the same patch', () => {
    const patch = [
      'diff --git a/old.txt b/new.txt',
      'similarity index 80%',
      'rename from old.txt',
      'rename to new.txt',
      '--- a/old.txt',
      '+++ b/new.txt',
      '@@ -1,2 +1,2 @@',
      ' one',
      '-two',
      '+2',
      '--- a/new.txt',
      '+++ b/new.txt',
      '@@ -1,2 +1,2 @@',
      '-one',
      '+1',
      ' 2',
    ].join('\n');
    const r = applyPatchToFiles(patch, files({ 'old.txt': 'one\ntwo\n' }));
    expect(r.ok).toBe(true);
    expect(r.changes.map((c) => [c.path, c.content])).toEqual([
      ['old.txt', null],
      ['new.txt', '1\n2\n'],
    ]);
  });

  it('refuses overlapping hunks and a deletion that does not remove everything', () => {
    const overlap = ['--- a/t', '+++ b/t', '@@ -1,2 +1,2 @@', ' a', '-b', '+B', '@@ -2,2 +2,2 @@', '-b', '+C', ' c'].join('\n');
    expect(applyPatchToFiles(overlap, files({ t: 'a\nb\nc\n' })).failure?.kind).toBe('overlap');
    const del = ['--- a/t', '+++ /dev/null', '@@ -1,2 +0,0 @@', '-a', '-b'].join('\n');
    expect(applyPatchToFiles(del, files({ t: 'a\nb\nc\n' })).failure?.kind).toBe('delete-mismatch');
  });

  it('refuses a context-free insertion into a non-empty file, and unsafe paths, without changes', () => {
    const r = applyPatchToFiles(['--- a/t', '+++ b/t', '@@ -1,0 +2 @@', '+x'].join('\n'), files({ t: 'a\nb\n' }));
    expect([r.ok, r.failure?.kind, r.changes]).toEqual([false, 'no-context', []]);
    const p = applyPatchToFiles(['--- a/../t', '+++ b/../t', '@@ -1 +1 @@', '-a', '+b'].join('\n'), files({}));
    expect([p.failure?.kind, p.changes]).toEqual(['path', []]);
  });

  it('fuzzy: accepts one stale context line, refuses when the best match is not clearly better', () => {
    const file = ['let a = 1;', 'let b = 2;', 'let c = 3;', 'let d = 4;', 'let e = 5;', 'let f = 6;', 'let g = 7;'].join('\n') + '\n';
    const patch = [
      '--- a/x',
      '+++ b/x',
      '@@ -2,5 +2,5 @@',
      ' let b = 2;',
      ' let c = 30;',
      '-let d = 4;',
      '+let d = 40;',
      ' let e = 5;',
      ' let f = 6;',
    ].join('\n');
    const r = applyPatchToFiles(patch, files({ x: file }));
    expect(r.strategy).toBe('fuzzy');
    expect(content(r, 'x')).toBe(file.replace('let d = 4;', 'let d = 40;'));
    const twice = 'let xx = 1;\nlet yy = 2;\nlet zz = 3;\n\nlet xx = 1;\nlet yy = 2;\nlet zz = 3;\n';
    const amb = applyPatchToFiles(
      ['--- a/q', '+++ b/q', '@@', ' let xx = 1;', '-let yy = 2;', '+let yy = 20;', ' let zz = 33;'].join('\n'),
      files({ q: twice }),
    );
    expect(amb.ok).toBe(false);
    expect(amb.failure?.message).toMatch(/about equally|matches 2 places/);
  });

  it('fuzzy: refuses a stale line that only trivial lines anchor (another function of the same shape)', () => {
    const file = 'pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n\npub fn mul(a: i32, b: i32) -> i32 {\n    a * b\n}\n';
    const patch = [
      '--- a/lib.rs',
      '+++ b/lib.rs',
      '@@ -1,3 +1,3 @@',
      ' pub fn divide(a: i32, b: i32) -> i32 {',
      '-    a * b',
      '+    a / b',
      ' }',
    ].join('\n');
    const r = applyPatchToFiles(patch, files({ 'lib.rs': file }));
    expect(r.ok).toBe(false);
    expect(r.changes).toEqual([]);
  });
});
