import { stripVTControlCharacters } from 'node:util';

/** Lines of tool output without colour codes or carriage returns. */
export function cleanLines(text: string): string[] {
  return stripVTControlCharacters(text).replace(/\r\n?/g, '\n').split('\n');
}

export function clean(text: string): string {
  return stripVTControlCharacters(text).replace(/\r\n?/g, '\n');
}

/** Drops the common leading indentation and the blank lines around a block. */
export function dedent(lines: string[]): string {
  const body = trimBlank(lines);
  const indents = body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return body.map((l) => l.slice(Math.min(cut, l.length - l.trimStart().length)).trimEnd()).join('\n');
}

export function trimBlank(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].trim() === '') start++;
  while (end > start && lines[end - 1].trim() === '') end--;
  return lines.slice(start, end);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The usual test summary line, shared by every runner. */
export function testSummary(passed: number, failed: number, ignored: number, extra?: string): string {
  const parts = [`${passed} passed`, `${failed} failed`];
  if (ignored > 0) parts.push(`${ignored} ignored`);
  return parts.join(', ') + (extra ? ` ${extra}` : '');
}

/**
 * Why a dependency fetch failed: the innermost `Caused by:` (the actual reason) where the tool
 * chains causes, else its first `error:` line, else the exit code.
 */
export function fetchFailureReason(text: string, exitCode: number | null): string {
  const lines = text.split('\n').map((l) => l.trim());
  const lastCause = lines.lastIndexOf('Caused by:');
  const cause = (lastCause >= 0 ? lines.slice(lastCause + 1).find((l) => l !== '') : undefined)?.replace(/; class=\w+ \(\d+\)$/, '');
  const error =
    lines.find((l) => l.startsWith('error:'))?.replace(/^error:\s*/, '') ??
    lines.find((l) => /error/i.test(l) && !l.startsWith('warning:'));
  return cause ?? error ?? `exit ${exitCode}`;
}
