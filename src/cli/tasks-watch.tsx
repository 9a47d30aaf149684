// `autodev tasks watch` on a terminal: an ink view of running and recent tasks, re-read from the store
// every interval (the store is the only thing shared with the processes that run them). Loaded only
// by that command, so no other command pays for ink and React.
import { Box, Text, render, useApp, useInput, useStdin } from 'ink';
import { useEffect, useState } from 'react';
import type { StoredTask } from '../store/task-store.js';
import { WATCH_COLUMNS, fitCell, watchRows, type WatchRow } from './tasks-table.js';

export interface TasksViewProps {
  load: () => Promise<StoredTask[]>;
  intervalMs: number;
  limit: number;
  /** False under NO_COLOR: symbols only. */
  color: boolean;
  /** The clock elapsed times are measured against (tests pin it). */
  now?: () => number;
}

export function TasksView({ load, intervalMs, limit, color, now = Date.now }: TasksViewProps) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const [tasks, setTasks] = useState<StoredTask[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [at, setAt] = useState(now);

  useEffect(() => {
    let alive = true;
    let busy = false;
    const refresh = async (): Promise<void> => {
      // A slow disk must not pile reads up behind each other.
      if (busy) return;
      busy = true;
      try {
        const next = await load();
        if (!alive) return;
        setTasks(next);
        setError(null);
      } catch (failure) {
        if (alive) setError((failure as Error).message);
      } finally {
        busy = false;
        if (alive) setAt(now());
      }
    };
    void refresh();
    const timer = setInterval(() => void refresh(), intervalMs);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [load, intervalMs, now]);

  // Without a terminal on stdin there are no keys to read; Ctrl-C then ends the process as usual.
  useInput(
    (input, key) => {
      if (input === 'q' || (key.ctrl && input === 'c')) exit();
    },
    { isActive: isRawModeSupported === true },
  );

  const rows = tasks ? watchRows(tasks, at, limit) : [];
  const running = rows.filter((row) => row.running).length;
  return (
    <Box flexDirection="column">
      <Text bold>
        autodev tasks: {tasks === null ? 'loading…' : `${running} running, ${rows.length - running} recent`}
        <Text dimColor> (every {intervalMs} ms; q to quit)</Text>
      </Text>
      {error !== null && <Text color={color ? 'red' : undefined}>cannot read the task store: {error}</Text>}
      {tasks !== null && rows.length === 0 && <Text>no tasks yet</Text>}
      {rows.length > 0 && (
        <Text bold>
          {'  '}
          {WATCH_COLUMNS.map((column) => fitCell(column.header, column.width)).join('')}
        </Text>
      )}
      {rows.map((row) => (
        <TaskLine key={row.id} row={row} color={color} />
      ))}
    </Box>
  );
}

function TaskLine({ row, color }: { row: WatchRow; color: boolean }) {
  const tint = color ? row.colour : undefined;
  return (
    <Text wrap="truncate">
      <Text color={tint}>{row.symbol} </Text>
      {WATCH_COLUMNS.map((column) =>
        column.key === 'label' ? (
          <Text key={column.key} color={tint} bold={row.running}>
            {fitCell(row.label, column.width)}
          </Text>
        ) : (
          <Text key={column.key} color={column.key === 'pr' && color ? 'blue' : undefined}>
            {fitCell(String(row[column.key]), column.width)}
          </Text>
        ),
      )}
    </Text>
  );
}

/** Shows the view until q or Ctrl-C. */
export async function watchTasks(options: TasksViewProps & { stdout: NodeJS.WriteStream; stdin: NodeJS.ReadStream }): Promise<void> {
  const { stdout, stdin, ...props } = options;
  const instance = render(<TasksView {...props} />, { stdout, stdin, exitOnCtrlC: false, patchConsole: false });
  await instance.waitUntilExit();
}
