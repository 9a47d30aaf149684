// The rows of `tasks watch`, shared by the ink view (tasks-watch.tsx) and the one-shot table a
// non-terminal gets (tasks.ts), so neither imports the other.
import type { TaskStatus } from '../engine/types.js';
import { formatDuration } from '../observe/format.js';
import { isStale } from '../store/control.js';
import { isFinished, type StoredTask } from '../store/task-store.js';

/** One line of `tasks watch`: the same rows feed the ink view and the one-shot table. */
export interface WatchRow {
  id: string;
  status: TaskStatus;
  /** The status as shown: with "(owner gone)" for a stale one. */
  label: string;
  symbol: string;
  colour: 'gray' | 'cyan' | 'green' | 'magenta' | 'red' | 'yellow';
  running: boolean;
  step: string;
  elapsed: string;
  title: string;
  pr: string;
}

const LOOK: Record<TaskStatus, { symbol: string; colour: WatchRow['colour'] }> = {
  pending: { symbol: '○', colour: 'gray' },
  planning: { symbol: '◔', colour: 'cyan' },
  executing: { symbol: '▶', colour: 'cyan' },
  verified: { symbol: '✓', colour: 'green' },
  pr_created: { symbol: '✔', colour: 'green' },
  merged: { symbol: '◆', colour: 'magenta' },
  failed: { symbol: '✖', colour: 'red' },
  unproven: { symbol: '△', colour: 'yellow' },
  cancelled: { symbol: '⊘', colour: 'gray' },
  denied: { symbol: '⊗', colour: 'red' },
};

/** Running tasks first (they are what one watches), then the most recent finished ones, `limit` rows in all. */
export function watchRows(tasks: readonly StoredTask[], now: number, limit = 20): WatchRow[] {
  const running = tasks.filter((t) => !isFinished(t));
  const ended = (t: StoredTask): string => t.finishedAt ?? t.updatedAt;
  const finished = tasks.filter((t) => isFinished(t)).sort((a, b) => (ended(a) < ended(b) ? 1 : ended(a) > ended(b) ? -1 : 0));
  return [...running, ...finished].slice(0, Math.max(limit, running.length)).map((task) => {
    const stale = isStale(task);
    const look = stale ? { symbol: '?', colour: 'yellow' as const } : LOOK[task.status];
    const start = Date.parse(task.startedAt ?? task.createdAt);
    // A stale task stopped when its owner died; its last write is the best guess of when.
    const end = task.finishedAt ? Date.parse(task.finishedAt) : stale ? Date.parse(task.updatedAt) : now;
    return {
      id: task.id,
      status: task.status,
      label: stale ? `${task.status} (owner gone)` : task.status,
      symbol: look.symbol,
      colour: look.colour,
      running: !isFinished(task) && !stale,
      step: task.currentStep ?? '',
      elapsed: formatDuration(end - start),
      title: task.request.title,
      pr: task.pr?.url ?? '',
    };
  });
}

export const WATCH_COLUMNS = [
  { key: 'label', header: 'STATUS', width: 24 },
  { key: 'id', header: 'ID', width: 21 },
  { key: 'step', header: 'STEP', width: 12 },
  { key: 'elapsed', header: 'ELAPSED', width: 9 },
  { key: 'title', header: 'TITLE', width: 40 },
  { key: 'pr', header: 'PR', width: 0 },
] as const satisfies readonly { key: keyof WatchRow; header: string; width: number }[];

/** Pads to `width` (leaving a gap), cutting with … what does not fit; width 0: as is. */
export function fitCell(text: string, width: number): string {
  if (width === 0) return text;
  return (text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text).padEnd(width);
}

/** The one-shot table of `tasks watch` on a non-terminal: symbols, no colour. */
export function formatWatchTable(rows: readonly WatchRow[]): string {
  if (rows.length === 0) return 'no tasks yet\n';
  const line = (symbol: string, cells: string[]): string =>
    `${symbol} ${cells.map((c, i) => fitCell(c, WATCH_COLUMNS[i].width)).join('')}`.trimEnd();
  const header = line(
    ' ',
    WATCH_COLUMNS.map((c) => c.header),
  );
  return `${[
    header,
    ...rows.map((row) =>
      line(
        row.symbol,
        WATCH_COLUMNS.map((c) => String(row[c.key])),
      ),
    ),
  ].join('\n')}\n`;
}
