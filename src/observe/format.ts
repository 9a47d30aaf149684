import { stripVTControlCharacters } from 'node:util';
import type { RunMode } from '../engine/types.js';

/** 340ms, 2.3s, 1m05s: short enough for a title, exact enough to compare runs. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0ms';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSecs = Math.round(ms / 1000);
  const h = Math.floor(totalSecs / 3600);
  const m = Math.floor((totalSecs % 3600) / 60);
  const s = totalSecs % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}h` : ''}${mm}m${String(s).padStart(2, '0')}s`;
}

/**
 * `round` has one base everywhere (events, `--json` steps, `tasks show`, these views): the number of
 * repair rounds before the run, so 0 is the first generation and 1 the first repair.
 * "baseline, round 1, attempt 3": only the parts that differ from a plain first run.
 */
export function runQualifiers(run: { mode: RunMode; round: number; attempt: number }): string[] {
  const parts: string[] = [];
  if (run.mode === 'baseline') parts.push('baseline');
  if (run.round > 0) parts.push(`round ${run.round}`);
  if (run.attempt > 1) parts.push(`attempt ${run.attempt}`);
  return parts;
}

/** Tool output arrives with colours and carriage returns; plain views must carry neither. */
export function cleanLine(line: string): string {
  return (
    stripVTControlCharacters(line)
      .replace(/[\r\n]+/g, ' ')
      // Other C0 controls (bell, backspace) would still move a terminal's cursor.
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
      .trimEnd()
  );
}

export function firstLine(text: string, max = 160): string {
  const line = cleanLine(text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '');
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/**
 * The line that says what a repair round is about. Feedback often opens with a header that ends in a
 * colon ("The build failed with 1 error:") and the error itself below it; a header alone tells nothing,
 * so it is joined with the lines that follow until the text says something.
 */
export function feedbackHeadline(text: string, max = 200): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => cleanLine(l).trim())
    .filter((l) => l !== '');
  let headline = lines[0] ?? '';
  for (let i = 1; i < lines.length && i < 4 && headline.endsWith(':'); i += 1) headline = `${headline} ${lines[i]}`;
  return headline.length > max ? `${headline.slice(0, max - 3)}...` : headline;
}

/**
 * A baseline run measures the untouched base; "ok" would read as "the base is fine" when its tests
 * fail, so a baseline run that completed "ran" and its summary says what the base is like.
 */
export function statusWord(run: { mode: string; status: string }): string {
  return run.mode === 'baseline' && run.status === 'ok' ? 'ran' : run.status;
}
