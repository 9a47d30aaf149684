// A small reader of unified diffs for the scanners and the policy input: which lines a patch adds,
// at which line of the new file, and how many it removes. Only what a scan needs; the layered
// patch applier lives in src/patch/.
import { unquoteGitPath } from '../util/git-path.js';

export interface AddedLine {
  /** Path in the new tree, without the `b/` prefix. */
  file: string;
  /** 1-based line number in the new file. */
  line: number;
  text: string;
}

export interface DiffSummary {
  /** Every file the diff touches (new path; the old path for a deletion). */
  files: string[];
  /** Files the diff deletes. */
  deletedFiles: string[];
  added: AddedLine[];
  additions: number;
  deletions: number;
}

function headerPath(rest: string): string | null {
  // `+++ b/path\tdate` (the timestamp only appears in non-git diffs)
  const raw = unquoteGitPath(rest.split('\t')[0].trimEnd());
  if (raw === '/dev/null') return null;
  return raw.replace(/^[ab]\//, '');
}

/** Added lines with their new line numbers, plus per-diff counts. Tolerates CRLF and `\ No newline`. */
export function summarizeDiff(diffText: string): DiffSummary {
  const lines = diffText.split('\n');
  const files: string[] = [];
  const deletedFiles: string[] = [];
  const added: AddedLine[] = [];
  let additions = 0;
  let deletions = 0;

  let oldPath: string | null = null;
  let newPath: string | null = null;
  let newLine = 0;
  let oldRemaining = 0;
  let newRemaining = 0;

  const addFile = (p: string): void => {
    if (!files.includes(p)) files.push(p);
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const inHunk = oldRemaining > 0 || newRemaining > 0;
    if (inHunk) {
      if (line.startsWith('+')) {
        additions++;
        newRemaining--;
        if (newPath !== null) added.push({ file: newPath, line: newLine, text: line.slice(1) });
        newLine++;
        continue;
      }
      if (line.startsWith('-')) {
        deletions++;
        oldRemaining--;
        continue;
      }
      if (line.startsWith(' ') || line === '') {
        oldRemaining--;
        newRemaining--;
        newLine++;
        continue;
      }
      if (line.startsWith('\\')) continue;
      // Anything else ends a malformed hunk early; fall through to header parsing.
      oldRemaining = 0;
      newRemaining = 0;
    }
    if (line.startsWith('\\')) continue;
    if (line.startsWith('diff --git ')) {
      oldPath = null;
      newPath = null;
      continue;
    }
    if (line.startsWith('--- ')) {
      oldPath = headerPath(line.slice(4));
      continue;
    }
    if (line.startsWith('+++ ')) {
      newPath = headerPath(line.slice(4));
      if (newPath !== null) addFile(newPath);
      else if (oldPath !== null) {
        addFile(oldPath);
        deletedFiles.push(oldPath);
      }
      continue;
    }
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldRemaining = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newRemaining = hunk[4] === undefined ? 1 : Number(hunk[4]);
      newLine = Number(hunk[3]);
      continue;
    }
    // A rename or mode change without content: `rename to <path>`.
    const rename = /^rename to (.+)$/.exec(line);
    if (rename) addFile(unquoteGitPath(rename[1]));
  }
  return { files, deletedFiles, added, additions, deletions };
}

/** The lines a patch adds, with file and new line number: the input of the secret scanners. */
export function addedLines(diffText: string): AddedLine[] {
  return summarizeDiff(diffText).added;
}
