// Every edit format through the one applier (applyPatchToDir), on real temp repositories: the same
// guarantees as unified diffs — all or nothing, nothing outside the repository, ambiguity refused.
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { applyPatchToDir, formatPatchError } from '../../src/patch/apply-dir.js';
import { parseEdits } from '../../src/patch/edits.js';
import { PatchParseError } from '../../src/patch/parse.js';
import { cleanup, makeRepo, read, realGitApply, snapshot } from './helpers.js';

const UTIL = `export function add(a: number, b: number): number {
  return a + b;
}

export function sub(a: number, b: number): number {
  return a - b;
}

export function twice(a: number): number {
  return a + a;
}
`;
const DUP = `function a() {
  return 1;
}

function b() {
  return 1;
}
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) cleanup(d);
});
function repo(files: Record<string, string> = { 'src/util.ts': UTIL, 'src/dup.ts': DUP, 'README.md': '# x\n' }): string {
  const dir = makeRepo(files);
  dirs.push(dir);
  return dir;
}
async function apply(dir: string, text: string) {
  return applyPatchToDir(dir, text, { gitApply: realGitApply });
}
async function refused(dir: string, text: string, error: RegExp): Promise<string> {
  const before = snapshot(dir);
  const r = await apply(dir, text);
  expect(r.applied).toBe(false);
  expect(r.error).toMatch(error);
  expect(snapshot(dir)).toEqual(before);
  return r.error!;
}

const sr = (p: string, search: string, replace: string): string =>
  `${p}\n\`\`\`ts\n<<<<<<< SEARCH\n${search}=======\n${replace}>>>>>>> REPLACE\n\`\`\`\n`;

describe('search-replace', () => {
  it('applies several blocks to one file, each after the ones before it, and creates a file from an empty SEARCH', async () => {
    const dir = repo();
    const text = [
      sr('src/util.ts', '  return a + b;\n', '  return b + a;\n'),
      sr('src/util.ts', '  return b + a;\n}\n', '  return b + a;\n}\n// add is commutative\n'),
      sr('src/new.ts', '', 'export const x = 1;\n'),
    ].join('\n');
    expect(parseEdits(text).formats).toEqual(['search-replace']);
    const r = await apply(dir, text);
    expect(r.error).toBeNull();
    expect(r.applied).toBe(true);
    expect(read(dir, 'src/util.ts')).toBe(UTIL.replace('  return a + b;\n}\n', '  return b + a;\n}\n// add is commutative\n'));
    expect(read(dir, 'src/new.ts')).toBe('export const x = 1;\n');
  });

  it('refuses a SEARCH text found twice, naming the block and quoting both places', async () => {
    const dir = repo();
    const text = sr('src/util.ts', '  return a - b;\n', '  return a - b - 0;\n') + sr('src/dup.ts', '  return 1;\n', '  return 2;\n');
    const error = await refused(dir, text, /src\/dup\.ts: SEARCH\/REPLACE block #2 is ambiguous: its text is found 2 times \(lines 2, 6\)/);
    expect(error).toContain('2 |   return 1;');
    expect(error).toContain('6 |   return 1;');
  });

  it('uses the whitespace layer only for a unique match, and re-indents the replacement', async () => {
    const dir = repo();
    const r = await apply(dir, sr('src/util.ts', 'return a - b;\n', 'return b - a;\n'));
    expect(r.applied).toBe(true);
    expect(r.strategy).toBe('whitespace');
    expect(read(dir, 'src/util.ts')).toContain('\n  return b - a;\n');
    // Modulo whitespace, `return 1;` is in two places: refused.
    await refused(repo(), sr('src/dup.ts', 'return 1;\n', 'return 3;\n'), /ambiguous/);
  });

  it('never places a SEARCH text whose removed lines are not in the file, and says where the closest region is', async () => {
    const dir = repo();
    const error = await refused(
      dir,
      sr('src/util.ts', 'export function sub(a: number, b: number): number {\n  return a - c;\n', 'x\n'),
      /SEARCH\/REPLACE block #1 does not apply/,
    );
    expect(error).toMatch(/closest at line 5/);
    expect(error).toContain(' 6 |   return a - b;');
  });

  it('keeps a CRLF file CRLF', async () => {
    const dir = repo({ 'a.txt': 'one\r\ntwo\r\nthree\r\n' });
    const r = await apply(dir, sr('a.txt', 'two\n', 'TWO\nand a half\n'));
    expect(r.applied).toBe(true);
    expect(read(dir, 'a.txt')).toBe('one\r\nTWO\r\nand a half\r\nthree\r\n');
  });

  it('refuses paths outside the repository or under .git, and writes through no symlink', async () => {
    await refused(repo(), sr('../evil.ts', '', 'x\n'), /refused path "\.\.\/evil\.ts"/);
    await refused(repo(), sr('.git/hooks/pre-commit', '', 'x\n'), /refused path/);
    const dir = repo();
    symlinkSync('src/util.ts', path.join(dir, 'link.ts'));
    await refused(dir, sr('link.ts', '  return a + b;\n', '  return 0;\n'), /refused symlink "link\.ts"/);
  });

  it('quotes the first lines of a file shorter than the SEARCH text', async () => {
    const error = await refused(repo(), sr('README.md', 'a\nb\nc\n', 'x\n'), /block #1 does not apply/);
    expect(error).toContain('1 | # x');
  });

  it('an empty SEARCH for a file that exists is refused, not appended', async () => {
    await refused(repo(), sr('src/util.ts', '', 'x\n'), /creates this file but it already exists/);
  });

  it('a block without a path or without its markers is a parse error naming the block', () => {
    expect(() => parseEdits('<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n')).toThrow(/SEARCH\/REPLACE block #1 has no file path/);
    expect(() => parseEdits('a.ts\n<<<<<<< SEARCH\na\n=======\nb\n')).toThrow(PatchParseError);
  });
});

const env = (body: string): string => `*** Begin Patch\n${body}*** End Patch\n`;

describe('apply-patch', () => {
  it('adds, updates (with an anchor), moves and deletes files in one envelope', async () => {
    const dir = repo();
    const text = env(
      [
        '*** Add File: src/new.ts',
        '+export const y = 2;',
        '*** Update File: src/util.ts',
        '*** Move to: src/math.ts',
        '@@ export function twice(a: number): number {',
        '-  return a + a;',
        '+  return 2 * a;',
        ' }',
        '*** Delete File: README.md',
        '',
      ].join('\n'),
    );
    expect(parseEdits(text).formats).toEqual(['apply-patch']);
    const r = await apply(dir, text);
    expect(r.error).toBeNull();
    expect(read(dir, 'src/new.ts')).toBe('export const y = 2;\n');
    expect(read(dir, 'src/math.ts')).toBe(UTIL.replace('return a + a;', 'return 2 * a;'));
    expect(existsSync(path.join(dir, 'src/util.ts'))).toBe(false);
    expect(existsSync(path.join(dir, 'README.md'))).toBe(false);
  });

  it('an anchor tells two equal places apart; without it the chunk is refused as ambiguous', async () => {
    const dir = repo();
    const chunk = ['*** Update File: src/dup.ts', '@@ function b() {', '-  return 1;', '+  return 2;', ''].join('\n');
    expect((await apply(dir, env(chunk))).applied).toBe(true);
    expect(read(dir, 'src/dup.ts')).toBe(DUP.replace(/return 1;\n}\n$/, 'return 2;\n}\n'));
    const error = await refused(
      repo(),
      env(['*** Update File: src/dup.ts', '@@', '-  return 1;', '+  return 2;', ''].join('\n')),
      /chunk #1 of "\*\*\* Update File: src\/dup\.ts" is ambiguous/,
    );
    expect(error).toContain('found 2 times');
  });

  it('takes an anchor repeated as the first context line, and an anchor that is part of a line', async () => {
    const dir = repo();
    const repeated = ['*** Update File: src/dup.ts', '@@ function b() {', ' function b() {', '-  return 1;', '+  return 2;', ''].join('\n');
    expect((await apply(dir, env(repeated))).error).toBeNull();
    expect(read(dir, 'src/dup.ts')).toBe(DUP.replace(/return 1;\n}\n$/, 'return 2;\n}\n'));
    const partial = ['*** Update File: src/util.ts', '@@ function twice', '-  return a + a;', '+  return 2 * a;', ''].join('\n');
    expect((await apply(dir, env(partial))).error).toBeNull();
    expect(read(dir, 'src/util.ts')).toContain('return 2 * a;');
    // An anchor found on several lines places the chunk only when its text is found once after
    // them (`return a + a;` is); when the text is in two places too, it is refused, not picked.
    const several = repo();
    expect(
      (
        await apply(
          several,
          env(['*** Update File: src/util.ts', '@@ export function', '-  return a + a;', '+  return 2 * a;', ''].join('\n')),
        )
      ).error,
    ).toBeNull();
    expect(read(several, 'src/util.ts')).toBe(UTIL.replace('return a + a;', 'return 2 * a;'));
    await refused(
      repo(),
      env(['*** Update File: src/dup.ts', '@@ function', '-  return 1;', '+  return 3;', ''].join('\n')),
      /anchor "@@ function" is found 2 times/,
    );
  });

  it('refuses a delete of a missing file and a path outside the repository', async () => {
    await refused(repo(), env('*** Delete File: nope.ts\n'), /does not exist/);
    await refused(repo(), env('*** Add File: /etc/x\n+x\n'), /refused path "\/etc\/x"/);
    await refused(repo(), env('*** Update File: src/util.ts\n*** Move to: ../out.ts\n'), /refused path "\.\.\/out\.ts"/);
  });

  it('a line that is not a patch line, or a missing End Patch, is a parse error', () => {
    expect(() => parseEdits(env('*** Update File: a.ts\nfoo\n'))).toThrow(/is not a " ", "-", "\+" or "@@" line/);
    expect(() => parseEdits('*** Begin Patch\n*** Delete File: a.ts\n')).toThrow(/End Patch" missing/);
  });
});

describe('whole', () => {
  it('replaces a file with the fenced content after its path, keeping CRLF, and creates new files', async () => {
    const dir = repo({ 'a.txt': 'one\r\ntwo\r\n', 'b/c.py': 'x = 1\n' });
    const text = 'a.txt\n```\none\nTWO\n```\n\nb/new.py\n```python\nprint(1)\n```\n';
    expect(parseEdits(text).formats).toEqual(['whole']);
    const r = await apply(dir, text);
    expect(r.applied).toBe(true);
    expect(read(dir, 'a.txt')).toBe('one\r\nTWO\r\n');
    expect(read(dir, 'b/new.py')).toBe('print(1)\n');
    expect(read(dir, 'b/c.py')).toBe('x = 1\n');
  });

  it('refuses a path under .git', async () => {
    await refused(repo(), '.git/config\n```\n[core]\n```\n', /refused path/);
  });
});

describe('mixed formats in one text', () => {
  it('applies a unified diff, SEARCH/REPLACE blocks, an envelope and a whole file together, all or nothing', async () => {
    const dir = repo();
    const diff = ['```diff', '--- a/README.md', '+++ b/README.md', '@@ -1 +1 @@', '-# x', '+# y', '```'].join('\n');
    const text = [
      diff,
      sr('src/util.ts', '  return a - b;\n', '  return a - b - 0;\n'),
      env('*** Add File: src/z.ts\n+z\n'),
      'src/w.ts\n```\nw\n```',
    ].join('\n');
    expect(parseEdits(text).formats).toEqual(['udiff', 'search-replace', 'apply-patch', 'whole']);
    const r = await apply(dir, text);
    expect(r.error).toBeNull();
    expect(read(dir, 'README.md')).toBe('# y\n');
    expect(read(dir, 'src/util.ts')).toContain('return a - b - 0;');
    expect(read(dir, 'src/z.ts')).toBe('z\n');
    expect(read(dir, 'src/w.ts')).toBe('w\n');
    // One edit that fails leaves every file as it was.
    const bad = `${text}\n${sr('src/dup.ts', 'nothing like this\n', 'x\n')}`;
    await refused(repo(), bad, /block #2 does not apply/);
  });
});

describe('a unified diff of a file that holds markers or fences is still read as a diff', () => {
  it('context lines with `<<<<<<< SEARCH`, a fence and a path-like line do not make it another format', async () => {
    const doc = 'Example:\n\nsrc/a.ts\n```\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\nend\n';
    const dir = repo({ 'doc.md': doc });
    const diff = [
      '--- a/doc.md',
      '+++ b/doc.md',
      '@@ -3,9 +3,9 @@',
      ' src/a.ts',
      ' ```',
      ' <<<<<<< SEARCH',
      ' old',
      ' =======',
      '-new',
      '+newer',
      ' >>>>>>> REPLACE',
      ' ```',
      '',
    ].join('\n');
    expect(parseEdits(diff).formats).toEqual(['udiff']);
    const r = await apply(dir, diff);
    expect(r.error).toBeNull();
    expect(read(dir, 'doc.md')).toBe(doc.replace('new\n>>>', 'newer\n>>>'));
  });
});

describe('formatPatchError: the repair feedback names the failed edit and quotes the real region', () => {
  it('for a SEARCH/REPLACE block, with the SEARCH/REPLACE retry hint', async () => {
    const dir = repo();
    const r = await apply(dir, sr('src/util.ts', '  return a + a + 0;\n', '  return 3 * a;\n'));
    const text = formatPatchError(r, 'search-replace');
    expect(text).toMatch(/src\/util\.ts: SEARCH\/REPLACE block #1 does not apply/);
    expect(text).toMatch(/closest at line 10/);
    expect(text).toContain('10 |   return a + a;');
    expect(text).toContain('Write new SEARCH/REPLACE blocks');
  });

  it('for an apply_patch chunk, with the apply_patch retry hint', async () => {
    const dir = repo();
    const r = await apply(dir, env('*** Update File: src/util.ts\n@@\n-  return a * b;\n+  return 0;\n'));
    const text = formatPatchError(r, 'apply-patch');
    expect(text).toMatch(/chunk #1 of "\*\*\* Update File: src\/util\.ts" does not apply/);
    expect(text).toMatch(/\d+ \|   return a [+-] b;/);
    expect(text).toContain('Write a new apply_patch envelope');
  });
});
