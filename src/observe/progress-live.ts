// The live view of `autodev run` on a terminal: one row per thing that runs (setup, clone, planning,
// each baseline run, each plan step), redrawn in place. The frame is a pure function of the events seen
// and the clock, so tests drive it with scripted events and a fake clock and compare frames as text.
// It imports only node built-ins and ./format.js: the CLI draws its first frame before the run's heavy
// modules load, and this module must not be one of them.
import { inspect } from 'node:util';
import type { EngineEvent, RunMode, StepStatus, TaskStatus } from '../engine/types.js';
import type { Plan } from '../plan/types.js';
import { cleanLine, feedbackHeadline, firstLine, formatDuration, runQualifiers, statusWord } from './format.js';
import { identity, type Redact, type Subscriber } from './types.js';

export interface LiveProgressOptions {
  /** Usually process.stderr (a terminal): stdout is reserved for the result. */
  stream: NodeJS.WritableStream;
  /** The task's title, for the header. */
  title: string;
  /** `run --resume`: no clone and no planning; the stored plan goes on. */
  resume?: boolean;
  redact?: Redact;
  /** How often the frame is redrawn (spinner, elapsed times); 0 turns the timer off (tests redraw by hand). */
  tickMs?: number;
  /** Milliseconds since the process started (the header's elapsed time); tests pass a fake clock. */
  now?: () => number;
  /** Colours and clipping by the terminal; off in tests that compare text. */
  color?: boolean;
}

/** The view as the CLI holds it: an event subscriber that also learns the plan and takes the CLI's own notes. */
export interface LiveProgress extends Subscriber {
  /** `startAt`: a resumed task goes on from this step; the ones before it ran in an earlier process. */
  setPlan(plan: Plan, startAt?: string): void;
  /** A line the CLI would have written to stderr (a warning, "cancelling"): shown under the rows. */
  note(line: string): void;
  /** The current frame, without colours. */
  frame(): string;
  /** Redraws now (the timer does this on its own). */
  repaint(): void;
  /** The run never started (a usage error): the frame is erased, so the error stands alone; notes stay as lines. */
  discard(): void;
  /** Whether the view still owns the stream (false after close or discard). */
  readonly live: boolean;
}

interface Run {
  mode: RunMode;
  round: number;
  attempt: number;
}

type RowState =
  | { kind: 'waiting' }
  /** Done by the earlier process of a resumed task. */
  | { kind: 'earlier' }
  | { kind: 'running'; since: number; run: Run; output: string; note: string }
  | { kind: 'done'; status: StepStatus | 'stopped'; run: Run; durationMs: number; summary: string }
  /** Ran in an earlier round; the repair round under way will run it again. */
  | { kind: 'queued'; round: number; previous: Extract<RowState, { kind: 'done' }> };

interface Row {
  key: string;
  label: string;
  /** What the row does (the plan step's title): shown until the row has a result. */
  title: string;
  state: RowState;
}

const ENDING: ReadonlySet<TaskStatus> = new Set(['failed', 'unproven', 'cancelled', 'denied', 'pr_created', 'merged']);
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_FRAME_MS = 80;

const SETUP = 'setup';
const PLANNING = 'plan';

function rowKey(mode: RunMode, stepId: string): string {
  return mode === 'baseline' ? `baseline:${stepId}` : stepId;
}

/**
 * The rows and their states, driven by events. Rows are keyed by step and mode, so any number of them
 * may run at once (the baseline beside context and codegen) and each shows its own spinner and time.
 */
function createModel(options: { title: string; resume: boolean; now: () => number }) {
  const { now } = options;
  const rows: Row[] = [];
  const notes: string[] = [];
  let status: TaskStatus | null = null;
  let repair: { round: number; budget: number } | null = null;
  let plan: Plan | null = null;
  let ended = false;

  function add(key: string, label: string, title: string, before?: string): Row {
    const row: Row = { key, label, title, state: { kind: 'waiting' } };
    const at = before === undefined ? -1 : rows.findIndex((r) => r.key === before);
    if (at < 0) rows.push(row);
    else rows.splice(at, 0, row);
    return row;
  }
  const find = (key: string): Row | undefined => rows.find((r) => r.key === key);

  function start(row: Row, run: Run): void {
    row.state = { kind: 'running', since: now(), run, output: '', note: '' };
  }
  function finish(row: Row, status: StepStatus | 'stopped', summary: string, durationMs?: number): void {
    const state = row.state;
    const run = state.kind === 'running' ? state.run : { mode: 'change' as const, round: 0, attempt: 1 };
    const took = durationMs ?? (state.kind === 'running' ? now() - state.since : 0);
    row.state = { kind: 'done', status, run, durationMs: took, summary };
  }

  add(SETUP, 'setup', 'loading, checking credentials');
  start(find(SETUP)!, { mode: 'change', round: 0, attempt: 1 });
  if (!options.resume) {
    add('clone', 'clone', 'clone the repository');
    add(PLANNING, 'plan', 'read the repository and this machine, make the plan');
  }

  /** Setup ends with the first thing the engine runs (the clone) or the plan (a resumed task). */
  function endSetup(): void {
    const setup = find(SETUP)!;
    if (setup.state.kind === 'running') finish(setup, 'ok', '');
  }

  function setPlan(next: Plan, startAt?: string): void {
    plan = next;
    const resumedAt = startAt === undefined ? -1 : next.steps.findIndex((s) => s.id === startAt);
    // The plan's rows in its order; a clone that ran before the plan existed keeps its row.
    const planning = find(PLANNING);
    const loopFrom = next.repair?.from ?? null;
    next.steps.forEach((step, index) => {
      const existing = find(step.id);
      if (existing) existing.title = step.title || existing.title;
      else add(step.id, step.id, step.title || step.id).state = index < resumedAt ? { kind: 'earlier' } : { kind: 'waiting' };
    });
    // Baseline runs go before the repair loop's first step, where the engine starts them; a task resumed
    // past that point ran them earlier. (Without a loop there is no baseline pass: a baseline event
    // would still get its row, beside its step.)
    const loopAt = loopFrom === null ? -1 : next.steps.findIndex((s) => s.id === loopFrom);
    for (const step of loopAt < 0 ? [] : next.steps.filter((s) => s.baseline)) {
      if (find(rowKey('baseline', step.id))) continue;
      const row = add(rowKey('baseline', step.id), `baseline ${step.id}`, `${step.title || step.id} on the untouched base`, loopFrom!);
      if (resumedAt > loopAt) row.state = { kind: 'earlier' };
    }
    // Rows the plan does not list (a clone the plan calls otherwise) keep their place; planning goes
    // after what ran before it.
    const ran = rows.filter((r) => r.key !== SETUP && r.key !== PLANNING && r.state.kind !== 'waiting').at(-1);
    if (planning && ran) {
      rows.splice(rows.indexOf(planning), 1);
      rows.splice(rows.indexOf(ran) + 1, 0, planning);
    }
  }

  function rowFor(stepId: string, mode: RunMode, title: string): Row {
    const key = rowKey(mode, stepId);
    return find(key) ?? add(key, mode === 'baseline' ? `baseline ${stepId}` : stepId, title, mode === 'baseline' ? stepId : PLANNING);
  }

  function apply(event: EngineEvent): void {
    switch (event.type) {
      case 'task.status': {
        status = event.status;
        if (event.status === 'executing') {
          endSetup();
          const planning = find(PLANNING);
          if (planning?.state.kind === 'running') finish(planning, 'ok', planSummary(plan));
        }
        if (ENDING.has(event.status)) end(event.status, event.reason ?? null);
        return;
      }
      case 'step.started': {
        endSetup();
        const row = rowFor(event.stepId, event.mode, event.title);
        start(row, { mode: event.mode, round: event.round, attempt: event.attempt });
        return;
      }
      case 'step.output': {
        // Output names the step, not the run: it belongs to whichever of its rows is running.
        const running = [find(event.stepId), find(rowKey('baseline', event.stepId))].find((r) => r?.state.kind === 'running');
        const text = cleanLine(event.line);
        if (running?.state.kind === 'running' && text.trim() !== '') running.state.output = text;
        return;
      }
      case 'step.finished': {
        const row = rowFor(event.stepId, event.mode, event.stepId);
        row.state = {
          kind: 'done',
          status: event.status,
          run: { mode: event.mode, round: event.round, attempt: event.attempt },
          durationMs: event.durationMs,
          summary: event.summary,
        };
        // Before the plan exists, what follows the clone is planning.
        if (status === 'planning' && event.status === 'ok' && !rows.some((r) => r.state.kind === 'running')) {
          const planning = find(PLANNING);
          if (planning?.state.kind === 'waiting') start(planning, { mode: 'change', round: 0, attempt: 1 });
        }
        return;
      }
      case 'step.retry': {
        const row = find(event.stepId);
        if (!row) return;
        const previous = row.state;
        const run = previous.kind === 'done' ? previous.run : { mode: 'change' as const, round: 0, attempt: 1 };
        // The backoff is part of the step: it is still the step that runs.
        start(row, { ...run, attempt: event.attempt });
        if (row.state.kind === 'running') {
          row.state.note = `retrying in ${formatDuration(event.delayMs)} (attempt ${event.attempt}): ${firstLine(event.reason, 80)}`;
        }
        return;
      }
      case 'repair.round': {
        repair = { round: event.round, budget: event.budget };
        notes.push(`repair round ${event.round} of ${event.budget}: ${event.failedStep} failed: ${feedbackHeadline(event.feedback, 160)}`);
        // Every change row of the loop, up to the failed step, runs again in this round.
        const from = plan?.repair?.from ?? event.failedStep;
        const steps = plan?.steps.map((s) => s.id) ?? [event.failedStep];
        const first = Math.max(0, steps.indexOf(from));
        const last = steps.indexOf(event.failedStep);
        for (const id of steps.slice(first, last < 0 ? undefined : last + 1)) {
          const row = find(id);
          if (row?.state.kind === 'done') row.state = { kind: 'queued', round: event.round, previous: row.state };
        }
        return;
      }
      case 'log':
        if (event.level === 'warn' || event.level === 'error')
          notes.push(`${event.level === 'warn' ? 'warning' : 'error'}: ${event.message}`);
        return;
      default:
        return;
    }
  }

  /** The task is over: every row gets the state it reached. */
  function end(final: TaskStatus | null, reason: string | null): void {
    if (ended) return;
    ended = true;
    for (const row of rows) {
      const state = row.state;
      if (state.kind === 'running') {
        const why = final === 'cancelled' ? 'cancelled' : (reason ?? final ?? 'stopped');
        finish(row, final === 'cancelled' || final === null ? 'stopped' : 'failed', why);
      } else if (state.kind === 'queued') {
        row.state = state.previous;
      }
    }
  }

  return {
    apply,
    setPlan,
    end,
    note(line: string): void {
      notes.push(line);
    },
    header(): { title: string; status: TaskStatus | null; repair: typeof repair } {
      return { title: options.title, status, repair };
    },
    rows: (): readonly Row[] => rows,
    notes: (): readonly string[] => notes,
    get ended(): boolean {
      return ended;
    },
  };
}

type Model = ReturnType<typeof createModel>;

function planSummary(plan: Plan | null): string {
  if (!plan) return '';
  const parts = [plan.toolchain ?? 'no toolchain', `sandbox ${plan.sandbox}`, `${plan.steps.length} steps`];
  return parts.join(', ');
}

type Style = 'bold' | 'dim' | 'cyan' | 'yellow' | 'green' | 'red';
type Paint = (text: string, style: Style) => string;

/** SGR colours as node's inspect knows them (styleText would ask whether stdout, not our stream, is a terminal). */
function sgr(text: string, style: Style): string {
  const [on, off] = inspect.colors[style]!;
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/**
 * One line per row; a running row may add its latest output line beneath it. A live frame taller than
 * the terminal could not be redrawn in place (the cursor cannot move above the screen), so it folds
 * what matters least until it fits: finished rows first, then output lines, then rows still to come.
 * The last frame is not folded: it stays as the record of the run.
 */
function renderFrame(model: Model, now: number, paint: Paint, maxLines = Infinity): string[] {
  const header = model.header();
  const rows = model.rows();
  const width = Math.max(...rows.map((r) => r.label.length));
  const spin = SPINNER[Math.floor(now / SPINNER_FRAME_MS) % SPINNER.length]!;
  const lines: string[] = [];
  const head = [`autodev run`, header.title];
  if (header.status) head.push(header.status);
  if (header.repair && !model.ended) head.push(`repair round ${header.repair.round} of ${header.repair.budget}`);
  if (header.repair && model.ended) head.push(`${header.repair.round} repair round${header.repair.round === 1 ? '' : 's'}`);
  head.push(formatDuration(now));
  lines.push(paint(head.join(' · '), 'bold'));

  const blocks: { row: Row; lines: string[] }[] = [];
  for (const row of rows) {
    const own: string[] = [];
    blocks.push({ row, lines: own });
    const label = row.label.padEnd(width);
    const state = row.state;
    switch (state.kind) {
      case 'waiting': {
        const why = model.ended ? 'not run' : row.title;
        own.push(`  ${paint('◌', 'dim')} ${label}  ${paint(why, 'dim')}`);
        break;
      }
      case 'running': {
        // A baseline row says so in its label.
        const q = runQualifiers(state.run).filter((x) => x !== 'baseline');
        const what = [formatDuration(now - state.since), ...q].join(', ');
        const tail = state.note || row.title;
        own.push(`  ${paint(spin, 'cyan')} ${label}  ${paint(what, 'yellow')}${tail ? `  ${paint(tail, 'dim')}` : ''}`);
        if (state.output) own.push(`      ${paint(`│ ${state.output}`, 'dim')}`);
        break;
      }
      case 'earlier':
        own.push(`  ${paint('✔', 'green')} ${label}  ${paint('done before the resume', 'dim')}`);
        break;
      case 'queued': {
        const p = state.previous;
        const was = `${statusWord({ mode: p.run.mode, status: p.status })} in round ${p.run.round}`;
        own.push(`  ${paint('◌', 'dim')} ${label}  ${paint(`runs again in round ${state.round} (${was})`, 'dim')}`);
        break;
      }
      case 'done': {
        const [glyph, style] = doneGlyph(state.status, state.run.mode);
        const q = runQualifiers(state.run).filter((x) => x !== 'baseline');
        const word = state.status === 'stopped' ? 'stopped' : statusWord({ mode: state.run.mode, status: state.status });
        const what = `${word} in ${formatDuration(state.durationMs)}${q.length ? ` (${q.join(', ')})` : ''}`;
        const summary = state.summary ? `  ${firstLine(state.summary, 160)}` : '';
        own.push(`  ${paint(glyph, style)} ${label}  ${what}${summary}`);
        break;
      }
    }
  }
  const notes = model
    .notes()
    .slice(-3)
    .map((note) => `  ${paint(note, 'yellow')}`);
  const room = model.ended ? Infinity : maxLines - lines.length - notes.length;
  lines.push(...fold(blocks, room, paint), ...notes);
  return lines;
}

function fold(blocks: { row: Row; lines: string[] }[], room: number, paint: Paint): string[] {
  const count = (): number => blocks.reduce((n, b) => n + b.lines.length, 0);
  const finished = (b: { row: Row }): boolean =>
    b.row.state.kind === 'earlier' || (b.row.state.kind === 'done' && (b.row.state.status === 'ok' || b.row.state.status === 'skipped'));
  const folded: string[] = [];
  while (count() + (folded.length ? 1 : 0) > room) {
    const at = blocks.findIndex(finished);
    if (at < 0) break;
    folded.push(blocks[at]!.row.label);
    blocks.splice(at, 1);
  }
  const head = folded.length ? [`  ${paint('✔', 'green')} ${paint(`${folded.length} done: ${folded.join(', ')}`, 'dim')}`] : [];
  for (const b of blocks) if (count() + head.length > room && b.lines.length > 1) b.lines.length = 1;
  const later: string[] = [];
  while (blocks.length > 1 && count() + head.length + 1 > room && blocks.at(-1)!.row.state.kind === 'waiting') {
    later.unshift(blocks.pop()!.row.label);
  }
  const tail = later.length ? [`  ${paint('◌', 'dim')} ${paint(`${later.length} more: ${later.join(', ')}`, 'dim')}`] : [];
  return [...head, ...blocks.flatMap((b) => b.lines), ...tail];
}

function doneGlyph(status: StepStatus | 'stopped', mode: RunMode): [string, Style] {
  switch (status) {
    case 'ok':
      return ['✔', 'green'];
    case 'skipped':
      return ['–', 'dim'];
    case 'stopped':
      return ['■', 'yellow'];
    default:
      // A base that already fails is what the baseline is for: a finding, not this task's failure.
      return mode === 'baseline' ? ['!', 'yellow'] : ['✖', 'red'];
  }
}

// ECMA-48 controls the painter needs. Autowrap is off while a frame is written, so a line wider than
// the terminal is clipped instead of wrapping, and the number of lines to move up stays exact; it is
// back on at the end of the same write. The cursor is never hidden: a process killed by a signal
// runs no handler that could show it again.
const CSI = '\u001b[';
const WRAP_OFF = `${CSI}?7l`;
const WRAP_ON = `${CSI}?7h`;
const ERASE_LINE_END = `${CSI}K`;
const ERASE_DOWN = `${CSI}J`;
const up = (n: number): string => (n > 0 ? `${CSI}${n}F` : '\r');

/**
 * The live view: draws its first frame at once (before the run's modules load), then redraws in place
 * on every event and every `tickMs`. `close()` leaves the last frame on screen.
 */
export function createLiveProgress(options: LiveProgressOptions): LiveProgress {
  const { stream } = options;
  const redact = options.redact ?? identity;
  const now = options.now ?? (() => performance.now());
  const color = options.color ?? true;
  const tickMs = options.tickMs ?? 100;
  const model = createModel({ title: options.title, resume: options.resume ?? false, now });
  let drawn = 0;
  let live = true;
  let broken = false;

  const paint: Paint = (text, style) => (color ? sgr(text, style) : text);
  const plainPaint: Paint = (text) => text;
  const columns = (): number => (stream as NodeJS.WriteStream).columns || 80;

  function lines(p: Paint): string[] {
    // One line is left free: the cursor rests below the frame.
    const height = (stream as NodeJS.WriteStream).rows;
    return renderFrame(model, now(), p, height ? height - 1 : Infinity).map((line) => redact(line));
  }

  function write(text: string): void {
    if (broken) return;
    try {
      stream.write(text);
    } catch {
      broken = true;
    }
  }

  function draw(): void {
    if (!live) return;
    const frame = lines(paint).map((line) => truncate(line, columns()));
    // One write per frame: a terminal never shows half of one.
    write(
      `${color ? WRAP_OFF : ''}${up(drawn)}${frame.map((l) => `${l}${ERASE_LINE_END}\n`).join('')}${ERASE_DOWN}${color ? WRAP_ON : ''}`,
    );
    drawn = frame.length;
  }

  const onError = (): void => {
    broken = true;
  };
  stream.on('error', onError);

  const timer = tickMs > 0 ? setInterval(draw, tickMs) : null;
  timer?.unref();

  function stop(): void {
    live = false;
    if (timer) clearInterval(timer);
    stream.removeListener('error', onError);
  }

  draw();

  const view = Object.assign(
    (event: EngineEvent): void => {
      if (!live) return;
      try {
        model.apply(event);
        draw();
      } catch {
        // Never let the view break the engine's emit.
      }
    },
    {
      async close(): Promise<void> {
        if (!live) return;
        model.end(null, null);
        draw();
        stop();
      },
      setPlan(plan: Plan, startAt?: string): void {
        if (!live) return;
        model.setPlan(plan, startAt);
        draw();
      },
      note(line: string): void {
        if (!live) return;
        model.note(cleanLine(line));
        draw();
      },
      frame: (): string => lines(plainPaint).join('\n'),
      repaint: draw,
      discard(): void {
        if (!live) return;
        // The notes (config warnings) were meant for stderr: they stay, as the lines they would have been.
        const kept = model.notes().map((line) => `${redact(line)}\n`);
        write(`${up(drawn)}${ERASE_DOWN}${kept.join('')}`);
        drawn = 0;
        stop();
      },
    },
  );
  return Object.defineProperty(view, 'live', { get: () => live }) as LiveProgress;
}

/**
 * Cuts a line to the terminal's width, counting printed characters only (escapes are free). Autowrap
 * is off while drawing, so a wide character the count gets wrong is clipped by the terminal, not wrapped.
 */
function truncate(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (const part of line.split(/(\u001b\[[0-9;]*m)/)) {
    if (part.startsWith('\u001b[')) {
      out += part;
      continue;
    }
    for (const char of part) {
      if (visible >= width - 1) return `${out}${color0}`;
      out += char;
      visible += 1;
    }
  }
  return out;
}

/** Resets colours, so a line cut inside a coloured span does not colour the next. */
const color0 = `${CSI}0m`;
