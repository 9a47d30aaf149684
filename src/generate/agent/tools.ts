// The agent's tools: what the model is told it may call (JSON Schema, as the chat-completions API
// takes it), and each call carried out on the workspace with its arguments checked first. A result is
// always text for the model; a refused or malformed call says why, so the model can do otherwise.
import type { ToolSpec } from '../../ports/types.js';
import { ToolRefused, type AgentWorkspace } from './types.js';

/** Lines of a file shown per read when no range is asked for; longer files are paged. */
export const READ_PAGE_LINES = 400;

export const AGENT_TOOLS: ToolSpec[] = [
  {
    name: 'list_files',
    description: 'List the files under a directory of the repository (relative path; "." for the root). Ignored files are left out.',
    parameters: {
      type: 'object',
      properties: { path: { type: 'string', description: 'Directory relative to the repository root; "." for the root.' } },
      required: [],
      additionalProperties: false,
    },
  },
  {
    name: 'read_file',
    description: `Read a file (relative path), with line numbers. Long files come in pages of ${READ_PAGE_LINES} lines: give start_line/end_line for another part.`,
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string' },
        start_line: { type: 'integer', minimum: 1 },
        end_line: { type: 'integer', minimum: 1 },
      },
      required: ['path'],
      additionalProperties: false,
    },
  },
  {
    name: 'search',
    description: 'Search the repository with ripgrep: a regular expression, optionally under a path. Returns path:line: text.',
    parameters: {
      type: 'object',
      properties: { pattern: { type: 'string' }, path: { type: 'string' } },
      required: ['pattern'],
      additionalProperties: false,
    },
  },
  {
    name: 'run',
    description:
      'Run a shell command (sh -c) at the repository root, in a sandbox without network and without credentials. Returns the exit code and the output (long output: its head and tail).',
    parameters: {
      type: 'object',
      properties: { command: { type: 'string' } },
      required: ['command'],
      additionalProperties: false,
    },
  },
  {
    name: 'edit',
    description:
      'Edit a file: replace the one exact occurrence of old_text with new_text (old_text must occur exactly once; include enough surrounding lines). To create a new file, omit old_text and give its whole content as new_text.',
    parameters: {
      type: 'object',
      properties: { path: { type: 'string' }, old_text: { type: 'string' }, new_text: { type: 'string' } },
      required: ['path', 'new_text'],
      additionalProperties: false,
    },
  },
  {
    name: 'submit',
    description:
      'Submit the change the workspace now holds, when it is done. autodev builds, tests and lints it itself; failures come back to you.',
    parameters: {
      type: 'object',
      properties: {
        rationale: { type: 'string', description: 'Why this change does the task, in a few sentences.' },
        commit_message: { type: 'string', description: 'A conventional commit message: a subject line, optionally a body.' },
      },
      required: ['rationale', 'commit_message'],
      additionalProperties: false,
    },
  },
];

const NAMES = new Set(AGENT_TOOLS.map((t) => t.name));

/** A call whose arguments could not be used: the model is told what is wrong. */
export class BadArguments extends Error {
  override name = 'BadArguments';
}

/** The call's arguments as an object; throws BadArguments for JSON that is not one. */
export function parseArguments(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === '' ? '{}' : text);
  } catch (error) {
    throw new BadArguments(`the arguments are not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadArguments('the arguments must be a JSON object');
  return value as Record<string, unknown>;
}

function text(args: Record<string, unknown>, key: string, required: true): string;
function text(args: Record<string, unknown>, key: string, required: false): string | null;
function text(args: Record<string, unknown>, key: string, required: boolean): string | null {
  const value = args[key];
  if (value === undefined || value === null) {
    if (required) throw new BadArguments(`"${key}" is required`);
    return null;
  }
  if (typeof value !== 'string') throw new BadArguments(`"${key}" must be a string`);
  return value;
}

function line(args: Record<string, unknown>, key: string): number | null {
  const value = args[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new BadArguments(`"${key}" must be a positive integer`);
  return value;
}

export interface ToolLimits {
  commandTimeoutSecs: number;
  maxOutputChars: number;
}

/** What one call did: the text the model is shown, and whether the call itself went wrong. */
export interface ToolResult {
  text: string;
  ok: boolean;
}

/** Carries out one call of a tool other than `submit` (the loop handles that one). */
export async function runTool(
  workspace: AgentWorkspace,
  name: string,
  args: Record<string, unknown>,
  limits: ToolLimits,
): Promise<ToolResult> {
  try {
    switch (name) {
      case 'list_files': {
        const dir = text(args, 'path', false) ?? '.';
        const files = await workspace.listFiles(dir);
        if (files.length === 0) return { text: `no files under ${dir}`, ok: true };
        return { text: capLines(files, limits.maxOutputChars), ok: true };
      }
      case 'read_file':
        return {
          text: await readPage(workspace, text(args, 'path', true), line(args, 'start_line'), line(args, 'end_line'), limits),
          ok: true,
        };
      case 'search': {
        const hits = await workspace.search(text(args, 'pattern', true), text(args, 'path', false));
        if (hits.length === 0) return { text: 'no matches', ok: true };
        return { text: capLines(hits, limits.maxOutputChars), ok: true };
      }
      case 'run': {
        const command = text(args, 'command', true);
        if (!command.trim()) throw new BadArguments('"command" is empty');
        const outcome = await workspace.run(command, limits.commandTimeoutSecs, limits.maxOutputChars);
        const status = outcome.timedOut ? `timed out after ${limits.commandTimeoutSecs}s` : `exit code ${outcome.exitCode ?? 'none'}`;
        return { text: `${status}\n${outcome.output}`.trimEnd(), ok: true };
      }
      case 'edit': {
        const path = text(args, 'path', true);
        const newText = text(args, 'new_text', true);
        const oldText = text(args, 'old_text', false);
        return { text: await workspace.edit(path, oldText === '' ? null : oldText, newText), ok: true };
      }
      default:
        return { text: `unknown tool "${name}"; the tools are ${[...NAMES].join(', ')}`, ok: false };
    }
  } catch (error) {
    if (error instanceof ToolRefused) return { text: `refused: ${error.message}`, ok: false };
    if (error instanceof BadArguments) return { text: `bad arguments for ${name}: ${error.message}`, ok: false };
    return { text: `${name} failed: ${(error as Error).message}`, ok: false };
  }
}

async function readPage(
  workspace: AgentWorkspace,
  path: string,
  start: number | null,
  end: number | null,
  limits: ToolLimits,
): Promise<string> {
  const content = await workspace.readFile(path);
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const from = start ?? 1;
  if (lines.length === 0) return `${path} is empty`;
  if (from > lines.length) throw new BadArguments(`start_line ${from} is past the end (${path} has ${lines.length} lines)`);
  const to = Math.min(lines.length, end ?? from + READ_PAGE_LINES - 1);
  if (to < from) throw new BadArguments('end_line is before start_line');
  const shown: string[] = [];
  let size = 0;
  let last = from - 1;
  for (let k = from; k <= to; k++) {
    const numbered = `${String(k).padStart(5)}  ${lines[k - 1]}`;
    if (size + numbered.length + 1 > limits.maxOutputChars && shown.length > 0) break;
    shown.push(numbered);
    size += numbered.length + 1;
    last = k;
  }
  const more = last < lines.length ? `\n[lines ${from}-${last} of ${lines.length}; read on with start_line=${last + 1}]` : '';
  return `${shown.join('\n')}${more}`;
}

/** Whole lines up to the limit, and how many were left out. */
function capLines(lines: string[], maxChars: number): string {
  const shown: string[] = [];
  let size = 0;
  for (const l of lines) {
    if (size + l.length + 1 > maxChars) break;
    shown.push(l);
    size += l.length + 1;
  }
  const left = lines.length - shown.length;
  return left > 0 ? `${shown.join('\n')}\n[${left} more not shown]` : shown.join('\n');
}
