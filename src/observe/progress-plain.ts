import type { EngineEvent } from '../engine/types.js';
import { cleanLine, feedbackHeadline, firstLine, formatDuration, statusWord } from './format.js';
import { identity, makeSubscriber, type Redact, type Subscriber } from './types.js';

export interface PlainProgressOptions {
  /** Usually process.stderr: stdout is reserved for the result. */
  stream: NodeJS.WritableStream;
  /** Also print debug logs, every line of tool output and LLM usage. */
  verbose?: boolean;
  redact?: Redact;
}

/**
 * Plain progress is for logs that a person reads later (CI, pipes) or terminals that asked for no colour:
 * `NO_COLOR` (https://no-color.org: set and non-empty), `CI` (set by every CI service), `TERM=dumb`, or a
 * stream that is not a terminal.
 */
export function shouldUsePlain({ isTTY, env }: { isTTY: boolean | undefined; env: Record<string, string | undefined> }): boolean {
  if (!isTTY) return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return true;
  const ci = env.CI?.toLowerCase();
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') return true;
  return env.TERM === 'dumb';
}

/**
 * One line per thing that happened, in the order it happened, no ANSI: a CI log stays greppable and
 * diffable. Step lines always name mode, round and attempt so a repaired or retried run can be told apart.
 */
export function createPlainProgress(options: PlainProgressOptions): Subscriber {
  const { stream, verbose = false } = options;
  const redact = options.redact ?? identity;
  let broken = false;
  // A closed pipe reports EPIPE as an 'error' event; unhandled, that would kill the process mid-task.
  const onError = () => {
    broken = true;
  };
  stream.on('error', onError);

  function write(line: string): void {
    if (broken) return;
    try {
      stream.write(`${escapeControls(cleanLine(redact(line)))}\n`);
    } catch {
      // A closed pipe (`autodev run | head`) must not fail the task; stop writing instead.
      broken = true;
    }
  }

  function onEvent(event: EngineEvent): void {
    const line = formatPlainEvent(event, verbose);
    if (line !== null) write(line);
  }

  return makeSubscriber(onEvent, async () => {
    stream.removeListener('error', onError);
  });
}

// C0 controls but tab (harmless in a line), DEL, C1, Unicode line and paragraph separators, bidi
// overrides and isolates.
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Control characters made visible (`\n`, `\x1b`, `\u2028`): a value in a log line (a title, a
 * reason, a server's message) can neither start a line of its own, which would let it forge
 * entries, nor move a terminal's cursor or recolour what follows.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    const code = char.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function runLabel(run: { stepId: string; mode: string; round: number; attempt: number }): string {
  return `${run.stepId} [${run.mode}, round ${run.round}, attempt ${run.attempt}]`;
}

/** The plain line for one event, or null when the event is not shown at this verbosity. */
export function formatPlainEvent(event: EngineEvent, verbose: boolean): string | null {
  switch (event.type) {
    case 'task.status':
      return `task ${event.taskId}: ${event.status}${event.reason ? ` (${event.reason})` : ''}`;
    case 'step.started':
      return `${runLabel(event)}: started`;
    case 'step.finished': {
      const summary = event.summary ? `: ${firstLine(event.summary, 200)}` : '';
      return `${runLabel(event)}: ${statusWord(event)} in ${formatDuration(event.durationMs)}${summary}`;
    }
    case 'step.retry':
      return `${event.stepId}: retrying (attempt ${event.attempt}) in ${formatDuration(event.delayMs)}: ${firstLine(event.reason)}`;
    case 'repair.round': {
      const why = feedbackHeadline(event.feedback);
      return `repair: ${event.failedStep} failed; starting repair round ${event.round} ` + `of ${event.budget}${why ? `: ${why}` : ''}`;
    }
    case 'step.output':
      return verbose ? `  ${event.stepId} | ${event.line}` : null;
    case 'llm.usage': {
      if (!verbose) return null;
      const cost = event.costUsd === null ? '' : `, $${event.costUsd.toFixed(4)}`;
      return `llm: ${event.promptTokens} prompt + ${event.completionTokens} completion tokens${cost}`;
    }
    case 'agent.tool': {
      if (!verbose) return null;
      const args = event.arguments.replace(/\s+/g, ' ');
      return `agent: turn ${event.turn}: ${event.tool} ${args.length > 120 ? `${args.slice(0, 119)}…` : args}${event.ok ? '' : ' (refused or failed)'}`;
    }
    case 'log':
      return event.level === 'debug' && !verbose ? null : `${event.level}: ${event.message}`;
    default:
      return null;
  }
}
