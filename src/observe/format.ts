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
 * Rounds are 0-based in events (0 = first generation); people count from 1, so the first repair round
 * shows as "round 2".
 */
export function displayRound(round: number): number {
  return round + 1;
}

/** "baseline, round 2, attempt 3": only the parts that differ from a plain first run. */
export function runQualifiers(run: { mode: RunMode; round: number; attempt: number }): string[] {
  const parts: string[] = [];
  if (run.mode === 'baseline') parts.push('baseline');
  if (run.round > 0) parts.push(`round ${displayRound(run.round)}`);
  if (run.attempt > 1) parts.push(`attempt ${run.attempt}`);
  return parts;
}

/** Tool output arrives with colours and carriage returns; plain views must carry neither. */
export function cleanLine(line: string): string {
  return stripVTControlCharacters(line)
    .replace(/[\r\n]+/g, ' ')
    // Other C0 controls (bell, backspace) would still move a terminal's cursor.
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .trimEnd();
}

export function firstLine(text: string, max = 160): string {
  const line = cleanLine(text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '');
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
