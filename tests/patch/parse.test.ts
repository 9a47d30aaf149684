import { describe, expect, it } from '@jest/globals';
import { PatchParseError, parsePatch } from '../../src/patch/parse.js';

describe('parsePatch', () => {
  it('reads git headers, strips a/ b/ and recounts hunks from their bodies', () => {
    const p = parsePatch(
      [
        'diff --git a/src/lib.rs b/src/lib.rs',
        'index 123..456 100644',
        '--- a/src/lib.rs',
        '+++ b/src/lib.rs',
        '@@ -10,99 +10,1 @@ fn main() {',
        ' let a = 1;',
        '-let b = 2;',
        '+let b = 3;',
        '+let c = 4;',
        ' let d = 5;',
      ].join('\n'),
    );
    expect(p.files).toHaveLength(1);
    const f = p.files[0];
    expect([f.oldPath, f.newPath, f.isNew, f.isDeleted]).toEqual(['src/lib.rs', 'src/lib.rs', false, false]);
    const h = f.hunks[0];
    expect([h.oldStart, h.statedOldCount, h.oldCount, h.newCount]).toEqual([10, 99, 3, 4]);
    expect(h.lines.map((l) => l.kind).join('')).toBe(' -++ ');
  });

  it('accepts paths without prefixes, bare @@ headers and headers without counts', () => {
    const p = parsePatch(
      ['--- src/a.ts', '+++ src/a.ts', '@@', ' x', '-y', '+z', '@@ -7 +7 @@', ' p', '-q', '+r', '@@ ... @@', ' m', '+n'].join('\n'),
    );
    const f = p.files[0];
    expect(f.oldPath).toBe('src/a.ts');
    expect(f.hunks.map((h) => [h.oldStart, h.statedOldCount])).toEqual([
      [null, null],
      [7, 1],
      [null, null],
    ]);
    expect(f.hunks.map((h) => h.oldCount)).toEqual([2, 2, 1]);
  });

  it('keeps a directory really named a/ when the other side has no b/', () => {
    const p = parsePatch(['--- a/x.txt', '+++ a/x.txt', '@@ -1 +1 @@', '-1', '+2'].join('\n'));
    expect(p.files[0].newPath).toBe('a/x.txt');
  });

  it('marks new and deleted files from /dev/null and from git extended headers', () => {
    const p = parsePatch(
      [
        'diff --git a/new.txt b/new.txt',
        'new file mode 100755',
        '--- /dev/null',
        '+++ b/new.txt',
        '@@ -0,0 +1,2 @@',
        '+one',
        '+two',
        '--- a/old.txt',
        '+++ /dev/null',
        '@@ -1 +0,0 @@',
        '-gone',
      ].join('\n'),
    );
    expect(p.files.map((f) => [f.oldPath, f.newPath, f.isNew, f.isDeleted, f.newMode])).toEqual([
      [null, 'new.txt', true, false, '100755'],
      ['old.txt', null, false, true, null],
    ]);
  });

  it('handles "No newline at end of file" on each side', () => {
    const p = parsePatch(['--- a/f', '+++ b/f', '@@ -1,2 +1,2 @@', ' a', '-b', '\\ No newline at end of file', '+c'].join('\n'));
    const h = p.files[0].hunks[0];
    expect([h.noNewlineOld, h.noNewlineNew]).toEqual([true, false]);
  });

  it('strips a CRLF transport but keeps a \\r that is file content', () => {
    const transport = parsePatch(['--- a/f', '+++ b/f', '@@ -1 +1 @@', '-a', '+b', ''].join('\r\n'));
    expect(transport.crlfTransport).toBe(true);
    expect(transport.files[0].hunks[0].lines.map((l) => [l.text, l.cr])).toEqual([
      ['a', false],
      ['b', false],
    ]);
    const content = parsePatch(['--- a/f', '+++ b/f', '@@ -1 +1 @@', '-a\r', '+b\r', ''].join('\n'));
    expect(content.crlfTransport).toBe(false);
    expect(content.files[0].hunks[0].lines.map((l) => [l.text, l.cr])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });

  it('takes blank lines inside a hunk as context and ignores prose and fences around the diff', () => {
    const p = parsePatch(
      ['Here is the fix:', '```diff', '--- a/f', '+++ b/f', '@@', ' a', '', '-b', '+c', '```', '', 'This fixes it.'].join('\n'),
    );
    expect(p.files[0].hunks[0].lines.map((l) => l.kind + l.text)).toEqual([' a', ' ', '-b', '+c']);
  });

  it('tells a removed "-- x" line from a file header by the stated counts', () => {
    const p = parsePatch(
      ['--- a/q.sql', '+++ b/q.sql', '@@ -1,3 +1,3 @@', ' select 1;', '--- old comment', '+++ new comment', ' select 2;'].join('\n'),
    );
    expect(p.files).toHaveLength(1);
    expect(p.files[0].hunks[0].lines.map((l) => l.kind + l.text)).toEqual([
      ' select 1;',
      '--- old comment',
      '+++ new comment',
      ' select 2;',
    ]);
  });

  it('fails with typed errors that name the file and hunk', () => {
    expect(() => parsePatch('just some prose')).toThrow(PatchParseError);
    expect(() => parsePatch('@@ -1 +1 @@\n-a\n+b')).toThrow(/hunk before any file header/);
    try {
      parsePatch(['--- a/f.rs', '+++ b/f.rs', '@@ -1,1 +1,1 @@', ' only context'].join('\n'));
      throw new Error('expected a parse error');
    } catch (err) {
      expect(err).toBeInstanceOf(PatchParseError);
      expect((err as PatchParseError).file).toBe('f.rs');
      expect((err as PatchParseError).hunk).toBe(1);
      expect((err as Error).message).toMatch(/f\.rs.*hunk #1/);
    }
  });
});
