// Lenient matching never writes content the author did not mean: when the context (or SEARCH text)
// matched only modulo whitespace, the added lines follow the file's indentation, line ends and
// trailing blanks; when that cannot be told, or the text fits two places, the edit is refused.
import { afterEach, describe, expect, it } from '@jest/globals';
import { applyPatchToDir } from '../../src/patch/apply-dir.js';
import { cleanup, makeRepo, read, realGitApply, snapshot } from './helpers.js';

// Indented in steps of 4, several levels deep.
const SERVICE = `export class Service {
    start(): void {
        if (this.ready) {
            this.run();
            this.log('started');
        }
        this.count += 1;
    }

    stop(): void {
        this.count = 0;
    }
}
`;
// Two methods whose bodies are alike line for line.
const TWINS = `function first() {
    const total = compute(1);
    report(total);
    return total;
}

function second() {
    const total = compute(1);
    report(total);
    return total;
}
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) cleanup(d);
});
function repo(files: Record<string, string>): string {
  const dir = makeRepo(files);
  dirs.push(dir);
  return dir;
}
async function apply(dir: string, text: string) {
  return applyPatchToDir(dir, text, { gitApply: realGitApply });
}
async function refused(dir: string, text: string, error: RegExp): Promise<void> {
  const before = snapshot(dir);
  const r = await apply(dir, text);
  expect(r.applied).toBe(false);
  expect(r.error).toMatch(error);
  expect(snapshot(dir)).toEqual(before);
}
const sr = (p: string, search: string[], replace: string[]): string =>
  [p, '<<<<<<< SEARCH', ...search, '=======', ...replace, '>>>>>>> REPLACE', ''].join('\n');

describe('drifted whitespace in context and added lines', () => {
  it("a hunk written with 2-space steps for the file's 4 is applied with the file's steps (scale, not shift)", async () => {
    const dir = repo({ 'src/service.ts': SERVICE });
    // Context at two depths (2 → 4, 4 → 8): only a scale of 2 fits both; the added line at 3 levels
    // (6 in the patch) belongs at 12.
    const diff = [
      '--- a/src/service.ts',
      '+++ b/src/service.ts',
      '@@ -2,5 +2,6 @@',
      '   start(): void {',
      '     if (this.ready) {',
      '       this.run();',
      '+      this.flush();',
      "       this.log('started');",
      '     }',
      '',
    ].join('\n');
    const r = await apply(dir, diff);
    expect(r.applied).toBe(true);
    expect(read(dir, 'src/service.ts')).toBe(SERVICE.replace('this.run();\n', 'this.run();\n            this.flush();\n'));
  });

  it("when the matched lines fit a shift and a scale alike, the file's indent step decides, else it is refused", async () => {
    const dir = repo({ 'src/service.ts': SERVICE });
    // The one context line at 4 in the patch, 8 in the file: +4 and ×2 both fit it. An added line at
    // 6 would be 10 or 12: only 12 is a step of the file's 4.
    const ok = sr(
      'src/service.ts',
      ['    this.count = 0;'],
      ['    this.count = 0;', '    if (this.verbose) {', "      this.log('stopped');", '    }'],
    );
    const r = await apply(dir, ok);
    expect(r.applied).toBe(true);
    expect(read(dir, 'src/service.ts')).toContain(
      "        this.count = 0;\n        if (this.verbose) {\n            this.log('stopped');\n        }\n    }\n",
    );
    // At 3 it would be 7 or 6, neither a step of 4: refused, not pasted verbatim.
    await refused(dir, sr('src/service.ts', ['    this.count = 0;'], ['    this.count = 0;', '   this.reset();']), /re-indent/);
  });

  it('tabs in the patch for a file indented with spaces, and spaces for a file indented with tabs', async () => {
    const tabbed = SERVICE.replace(/^( {4})+/gm, (m) => '\t'.repeat(m.length / 4));
    const dir = repo({ 'src/service.ts': SERVICE, 'src/tabbed.ts': tabbed });
    const r = await apply(
      dir,
      [
        sr(
          'src/service.ts',
          ['\tstop(): void {', '\t\tthis.count = 0;'],
          ['\tstop(): void {', '\t\tthis.count = 0;', '\t\tthis.stopped = true;'],
        ),
        sr(
          'src/tabbed.ts',
          ['    stop(): void {', '        this.count = 0;'],
          ['    stop(): void {', '        this.count = 0;', '        this.stopped = true;'],
        ),
      ].join('\n'),
    );
    expect(r.applied).toBe(true);
    expect(read(dir, 'src/service.ts')).toContain('        this.count = 0;\n        this.stopped = true;\n');
    expect(read(dir, 'src/tabbed.ts')).toContain('\t\tthis.count = 0;\n\t\tthis.stopped = true;\n');
  });

  it('trailing blanks the model added to context lines are not written into its added lines', async () => {
    const dir = repo({ 'src/service.ts': SERVICE });
    const r = await apply(
      dir,
      sr(
        'src/service.ts',
        ['    stop(): void {  ', '        this.count = 0;  ', '    }  '],
        ['    stop(): void {  ', '        this.count = 0;  ', '        this.stopped = true;  ', '    }  '],
      ),
    );
    expect(r.applied).toBe(true);
    expect(read(dir, 'src/service.ts')).toBe(SERVICE.replace('this.count = 0;\n', 'this.count = 0;\n        this.stopped = true;\n'));
  });

  it("CRLF: a CRLF reply for an LF file and an LF reply for a CRLF file keep each file's own line ends", async () => {
    const crlf = SERVICE.replace(/\n/g, '\r\n');
    const dir = repo({ 'src/service.ts': SERVICE, 'src/windows.ts': crlf });
    const edit = (p: string) =>
      sr(p, ['    stop(): void {', '        this.count = 0;'], ['    stop(): void {', '        this.count = -1;']);
    expect((await apply(dir, edit('src/service.ts').replace(/\n/g, '\r\n'))).applied).toBe(true);
    expect(read(dir, 'src/service.ts')).toBe(SERVICE.replace('count = 0', 'count = -1'));
    expect((await apply(dir, edit('src/windows.ts'))).applied).toBe(true);
    expect(read(dir, 'src/windows.ts')).toBe(crlf.replace('count = 0', 'count = -1'));
  });
});

describe('two places are refused, never guessed', () => {
  it('a SEARCH text found twice', async () => {
    const dir = repo({ 'src/twins.ts': TWINS });
    await refused(dir, sr('src/twins.ts', ['    report(total);'], ['    report(total, true);']), /found 2 times/);
  });

  it('a SEARCH text found twice modulo whitespace', async () => {
    const dir = repo({ 'src/twins.ts': TWINS });
    await refused(
      dir,
      sr('src/twins.ts', ['  report(total);', '  return total;'], ['  report(total, true);', '  return total;']),
      /ambiguous/,
    );
  });

  it('an apply_patch chunk without an anchor that fits both functions', async () => {
    const dir = repo({ 'src/twins.ts': TWINS });
    const text = [
      '*** Begin Patch',
      '*** Update File: src/twins.ts',
      '@@',
      '     const total = compute(1);',
      '-    report(total);',
      '+    report(total, true);',
      '*** End Patch',
      '',
    ].join('\n');
    await refused(dir, text, /ambiguous/);
  });

  it('a unified diff hunk without line numbers that matches in two places', async () => {
    const dir = repo({ 'src/twins.ts': TWINS });
    const text = [
      '--- a/src/twins.ts',
      '+++ b/src/twins.ts',
      '@@ @@',
      '     const total = compute(1);',
      '-    report(total);',
      '+    report(total, true);',
      '',
    ].join('\n');
    await refused(dir, text, /ambiguous|equally|2 times|places/);
  });
});

describe('a stale context line in an edit without line numbers', () => {
  it('is forgiven when every removed line is intact and the place is clear', async () => {
    const dir = repo({ 'src/service.ts': SERVICE });
    // `this.log('begun')` is what the model remembers; the file says 'started'.
    const r = await apply(
      dir,
      sr(
        'src/service.ts',
        ['        if (this.ready) {', '            this.run();', "            this.log('begun');", '        }', '        this.count += 1;'],
        ['        if (this.ready) {', '            this.run();', "            this.log('begun');", '        }', '        this.count += 2;'],
      ),
    );
    expect(r.applied).toBe(true);
    expect(r.strategy).toBe('fuzzy');
    // The file keeps its own context line; only the removed line changed.
    expect(read(dir, 'src/service.ts')).toBe(SERVICE.replace('count += 1', 'count += 2'));
  });

  it('is refused when it fits two alike places', async () => {
    const dir = repo({ 'src/twins.ts': TWINS });
    await refused(
      dir,
      sr(
        'src/twins.ts',
        ['    const total = compute(2);', '    report(total);', '    return total;'],
        ['    const total = compute(2);', '    report(total);', '    return total + 1;'],
      ),
      /ambiguous|not in the file|equally/,
    );
  });
});

describe('whole files', () => {
  it('keep a missing final newline', async () => {
    const dir = repo({ 'VERSION.txt': 'name = x\nversion = 1' });
    const r = await apply(dir, 'VERSION.txt\n```\nname = x\nversion = 2\n```\n');
    expect(r.applied).toBe(true);
    expect(read(dir, 'VERSION.txt')).toBe('name = x\nversion = 2');
  });
});

describe('files named without a dot or a slash', () => {
  it('a SEARCH/REPLACE block and a whole file for LICENSE and Makefile; a fence after a plain word is still prose', async () => {
    const dir = repo({ LICENSE: 'MIT License\n\nCopyright (c) 2025 x\n', Makefile: 'all:\n\techo hi\n' });
    const text = [
      sr('LICENSE', ['Copyright (c) 2025 x'], ['Copyright (c) 2026 x']),
      'Makefile',
      '```',
      'all:',
      '\techo bye',
      '```',
      '',
      'Example',
      '```sh',
      'make all',
      '```',
      '',
    ].join('\n');
    const r = await apply(dir, text);
    expect(r.error).toBeNull();
    expect(read(dir, 'LICENSE')).toBe('MIT License\n\nCopyright (c) 2026 x\n');
    expect(read(dir, 'Makefile')).toBe('all:\n\techo bye\n');
    expect(snapshot(dir)).not.toHaveProperty('Example');
  });
});
