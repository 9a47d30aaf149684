import { afterEach, describe, expect, it } from '@jest/globals';
import { summarizeDiff } from '../../src/secrets/added-lines.js';
import { TempRepo } from './temp-repo.js';

let repo: TempRepo | null = null;
afterEach(() => {
  repo?.cleanup();
  repo = null;
});

describe('summarizeDiff on real git output', () => {
  it('numbers added lines in the new file across hunks, and follows renames, deletions and odd names', () => {
    const long = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    repo = new TempRepo({
      'a.txt': long.join('\n') + '\n',
      'gone.txt': 'bye\n',
      'old name.md': 'same\ncontent\nhere\n',
      'no-eol.txt': 'x',
    });
    const changed = [...long];
    changed.splice(1, 0, 'inserted at 2');
    changed[25] = 'replaced 25';
    repo.write({
      'a.txt': changed.join('\n') + '\n',
      'café dir/new.ts': 'export const a = 1;\r\nexport const b = 2;\r\n',
      'no-eol.txt': 'y',
    });
    repo.git('rm', '-q', 'gone.txt');
    repo.git('mv', 'old name.md', 'new name.md');
    const summary = summarizeDiff(repo.diff());

    expect(summary.added).toEqual([
      { file: 'a.txt', line: 2, text: 'inserted at 2' },
      { file: 'a.txt', line: 26, text: 'replaced 25' },
      { file: 'café dir/new.ts', line: 1, text: 'export const a = 1;' },
      { file: 'café dir/new.ts', line: 2, text: 'export const b = 2;' },
      { file: 'no-eol.txt', line: 1, text: 'y' },
    ]);
    expect(summary.files.sort()).toEqual(['a.txt', 'café dir/new.ts', 'gone.txt', 'new name.md', 'no-eol.txt']);
    expect(summary.deletedFiles).toEqual(['gone.txt']);
    expect(summary.additions).toBe(5);
    expect(summary.deletions).toBe(3);
  });

  it('returns nothing for an empty diff', () => {
    expect(summarizeDiff('')).toEqual({ files: [], deletedFiles: [], added: [], additions: 0, deletions: 0 });
  });
});
