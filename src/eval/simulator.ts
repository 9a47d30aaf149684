// A simulated model for measuring the machinery, not the model: an OpenAI-compatible server on
// 127.0.0.1 that answers each task with its gold patch, spoiled the way real models spoil patches —
// stale line numbers, drifted whitespace, a wrong first attempt, a patch that breaks the build, a
// reply in the wrong format — at configured rates, in whichever edit format the request asks for
// (udiff, search-replace, apply-patch, whole; read from the system prompt). Every choice is a hash
// of (seed, model, task, attempt), so an eval with the same seed gives the same outcomes, run after
// run; a request is a repair (half the rates, no wrong first attempt) when its prompt says so.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../util/errors.js';
import type { EvalTask } from './tasks.js';

export interface SimulatedRates {
  /** Hunk headers off by a few lines. */
  stale: number;
  /** Context lines with their indentation or trailing whitespace changed. */
  whitespace: number;
  /** A first attempt that applies but does not do the task (the gold patch without its added lines). */
  wrongFirst: number;
  /** A patch that does the task and also breaks the build (a stray line in a changed file). */
  breaks: number;
  /** A reply without the format's sections. */
  format: number;
}

const PRESETS: Record<string, SimulatedRates> = {
  perfect: { stale: 0, whitespace: 0, wrongFirst: 0, breaks: 0, format: 0 },
  typical: { stale: 0.3, whitespace: 0.2, wrongFirst: 0.2, breaks: 0.1, format: 0.1 },
  sloppy: { stale: 0.6, whitespace: 0.5, wrongFirst: 0.5, breaks: 0.3, format: 0.3 },
};

const RATE_KEYS: Record<string, keyof SimulatedRates> = {
  stale: 'stale',
  whitespace: 'whitespace',
  wrong_first: 'wrongFirst',
  breaks: 'breaks',
  format: 'format',
};

/** Whether a `--models` name is the simulated model (`sim:<preset>` or `sim:stale=0.3,format=0.1`). */
export function isSimulated(model: string): boolean {
  return model.startsWith('sim:');
}

/** The rates a simulated model's name asks for; a usage error names what is wrong with it. */
export function simulatedRates(model: string): SimulatedRates {
  const spec = model.slice('sim:'.length);
  if (PRESETS[spec]) return PRESETS[spec];
  const rates: SimulatedRates = { ...PRESETS.perfect };
  for (const part of spec.split(',')) {
    const [key, value] = part.split('=');
    const field = RATE_KEYS[key?.trim() ?? ''];
    const rate = Number(value);
    if (!field || value === undefined || !Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new UsageError(
        `--models ${model}: "${part}" is not a preset or a rate`,
        `use sim:${Object.keys(PRESETS).join(' | sim:')}, or sim:<${Object.keys(RATE_KEYS).join('|')}>=<0..1>,...`,
      );
    }
    rates[field] = rate;
  }
  return rates;
}

/** A number in [0, 1) from the seed and the names of the choice: the same every run. */
function draw(seed: number, ...names: (string | number)[]): number {
  const digest = createHash('sha256')
    .update(JSON.stringify([seed, ...names]))
    .digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** What the simulated model does on one attempt at one task. */
export interface SimulatedChoice {
  spoils: ('stale' | 'whitespace' | 'wrongFirst' | 'breaks' | 'format')[];
}

/**
 * The choice for attempt `attempt` (0 = the first call for the task): the first attempt meets
 * every failure at its full rate, later ones (repair rounds, re-asks) at half of it, as a model
 * shown its error does better. `wrongFirst` only ever spoils the first attempt.
 */
export function chooseSpoils(
  rates: SimulatedRates,
  seed: number,
  model: string,
  task: string,
  attempt: number,
  /** A repair round or a re-ask (the model was shown its error); default: any attempt after the first. Candidates asked side by side are all first attempts. */
  repair: boolean = attempt > 0,
): SimulatedChoice {
  const factor = repair ? 0.5 : 1;
  const spoils: SimulatedChoice['spoils'] = [];
  for (const kind of ['format', 'wrongFirst', 'stale', 'whitespace', 'breaks'] as const) {
    if (kind === 'wrongFirst' && repair) continue;
    if (draw(seed, model, task, attempt, kind) < rates[kind] * factor) spoils.push(kind);
  }
  return { spoils };
}

/** The edit formats the simulated model writes (src/generate/formats/). */
export type SimulatedFormat = 'udiff' | 'search-replace' | 'apply-patch' | 'whole';

/**
 * The gold patch spoiled as `choice` says, written in `format` (default: udiff). Spoils happen to
 * the diff first and carry into the other formats as a model's would: drifted whitespace in a
 * SEARCH text or an apply_patch chunk, a stray line, a change without its added lines; stale line
 * numbers only matter where there are line numbers (udiff). `whole` rewrites the files the prompt
 * shows in full (`shown`: path → content), and falls back to SEARCH/REPLACE blocks for a file it
 * was not shown whole, as a model would have to.
 */
export function spoiledReply(
  task: EvalTask,
  choice: SimulatedChoice,
  seed: number,
  format: SimulatedFormat = 'udiff',
  shown: ReadonlyMap<string, string> = new Map(),
): string {
  const gold = task.goldPatch ?? '';
  if (!gold.trim()) return replyText('I could not find a change that does this task.', 'No change', '', 'udiff');
  let patch = gold;
  if (choice.spoils.includes('wrongFirst')) patch = withoutAddedLines(patch);
  if (choice.spoils.includes('breaks')) patch = withStrayLine(patch);
  if (choice.spoils.includes('stale')) patch = shiftHunks(patch, 2 + Math.floor(draw(seed, task.id, 'shift') * 6));
  if (choice.spoils.includes('whitespace')) patch = driftWhitespace(patch);
  const edits = format === 'udiff' ? patch : inFormat(patch, format, shown);
  if (choice.spoils.includes('format')) return `Here is the fix:\n\n${edits}\n`;
  return replyText(`This change does the task: ${task.title}.`, task.title.slice(0, 72), edits, format);
}

function replyText(rationale: string, subject: string, edits: string, format: SimulatedFormat): string {
  const body = format === 'udiff' ? `## Patch\n\`\`\`diff\n${edits.replace(/\n$/, '')}\n\`\`\`` : `## Changes\n${edits.replace(/\n$/, '')}`;
  return `## Rationale\n${rationale}\n\n## Commit message\n${subject}\n\n${body}\n`;
}

/** One file of a unified diff: its paths and its hunks' bodies (lines with their ' ', '-', '+'). */
interface DiffFile {
  oldPath: string | null;
  newPath: string | null;
  hunks: string[][];
}

function diffFiles(patch: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let hunk: string[] | null = null;
  const lines = patch.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const strip = (p: string): string | null => (p === '/dev/null' ? null : p.replace(/^[ab]\//, '').split('\t')[0]);
      file = { oldPath: strip(line.slice(4).trim()), newPath: strip(lines[i + 1].slice(4).trim()), hunks: [] };
      files.push(file);
      hunk = null;
      i += 1;
    } else if (HUNK.test(line) && file) {
      hunk = [];
      file.hunks.push(hunk);
    } else if (hunk && /^[ +-]/.test(line)) {
      hunk.push(line);
    } else if (hunk && line === '') {
      // A blank context line some writers leave without its space.
      hunk.push(' ');
    }
  }
  for (const f of files) for (const h of f.hunks) while (h.length && h[h.length - 1] === ' ') h.pop();
  return files;
}

const side = (hunk: string[], keep: string): string[] => hunk.filter((l) => l[0] === ' ' || l[0] === keep).map((l) => l.slice(1));

function inFormat(patch: string, format: Exclude<SimulatedFormat, 'udiff'>, shown: ReadonlyMap<string, string>): string {
  const files = diffFiles(patch);
  if (format === 'apply-patch') {
    const out = ['*** Begin Patch'];
    for (const f of files) {
      if (f.newPath === null) out.push(`*** Delete File: ${f.oldPath}`);
      else if (f.oldPath === null) out.push(`*** Add File: ${f.newPath}`, ...f.hunks.flatMap((h) => side(h, '+').map((l) => `+${l}`)));
      else {
        out.push(`*** Update File: ${f.oldPath}`);
        if (f.newPath !== f.oldPath) out.push(`*** Move to: ${f.newPath}`);
        for (const h of f.hunks) out.push('@@', ...h);
      }
    }
    out.push('*** End Patch');
    return out.join('\n');
  }
  const blocks: string[] = [];
  for (const f of files) {
    const target = f.newPath ?? f.oldPath!;
    const whole = format === 'whole' && f.newPath !== null ? wholeFile(f, shown) : null;
    if (whole !== null) {
      blocks.push(`${target}\n${fence(whole)}`);
      continue;
    }
    if (f.oldPath === null) {
      blocks.push(
        `${target}\n${fence(['<<<<<<< SEARCH', '=======', ...f.hunks.flatMap((h) => side(h, '+')), '>>>>>>> REPLACE'].join('\n'))}`,
      );
      continue;
    }
    for (const h of f.hunks) {
      const search = side(h, '-');
      const replace = side(h, '+');
      blocks.push(`${target}\n${fence(['<<<<<<< SEARCH', ...search, '=======', ...replace, '>>>>>>> REPLACE'].join('\n'))}`);
    }
  }
  return blocks.join('\n\n');
}

/** A fence longer than any backtick run inside. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const mark = '`'.repeat(Math.max(3, longest + 1));
  return `${mark}\n${text}\n${mark}`;
}

/** The file's new content: its hunks applied, each where its old text is, to the content shown; null when it cannot be. */
function wholeFile(f: DiffFile, shown: ReadonlyMap<string, string>): string | null {
  if (f.oldPath === null) return f.hunks.flatMap((h) => side(h, '+')).join('\n');
  const before = shown.get(f.oldPath);
  if (before === undefined) return null;
  let lines = before.replace(/\n$/, '').split('\n');
  for (const h of f.hunks) {
    const old = side(h, '-');
    const at = lines.findIndex((_, i) => old.every((l, k) => lines[i + k] === l));
    if (at < 0) return null;
    lines = [...lines.slice(0, at), ...side(h, '+'), ...lines.slice(at + old.length)];
  }
  return lines.join('\n');
}

/** The files a prompt shows whole (`## path` then a fence; a file shown by line ranges is not whole). */
export function filesShown(prompt: string): Map<string, string> {
  const shown = new Map<string, string>();
  for (const m of prompt.matchAll(/^## (\S+)\n(`{3,})\n([\s\S]*?)\n\2$/gm)) shown.set(m[1], m[3]);
  return shown;
}

/** The format a system prompt asks for, by the example it shows (src/generate/formats/). */
export function requestedFormat(system: string): SimulatedFormat {
  if (system.includes('*** Begin Patch')) return 'apply-patch';
  if (system.includes('<<<<<<< SEARCH')) return 'search-replace';
  if (system.includes('COMPLETE new content')) return 'whole';
  return 'udiff';
}

const HUNK = /^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@(.*)$/;

/** Every hunk header `by` lines off (the model counted wrong). */
export function shiftHunks(patch: string, by: number): string {
  return patch
    .split('\n')
    .map((line) => {
      const m = HUNK.exec(line);
      if (!m) return line;
      const from = Math.max(1, Number(m[1]) + by);
      const to = Math.max(1, Number(m[3]) + by);
      return `@@ -${from}${m[2] ?? ''} +${to}${m[4] ?? ''} @@${m[5]}`;
    })
    .join('\n');
}

/** Context lines re-indented (tabs and spaces swapped) and given trailing spaces. */
export function driftWhitespace(patch: string): string {
  let inHunk = false;
  return patch
    .split('\n')
    .map((line) => {
      if (HUNK.test(line)) inHunk = true;
      else if (line.startsWith('diff ') || line.startsWith('--- ')) inHunk = false;
      if (!inHunk || !line.startsWith(' ') || line.trim() === '') return line;
      const body = line.slice(1);
      const indent = /^[ \t]*/.exec(body)![0];
      const swapped = indent.includes('\t') ? indent.replace(/\t/g, '    ') : indent.replace(/ {4}/g, '\t');
      return ` ${swapped}${body.slice(indent.length)}  `;
    })
    .join('\n');
}

/** The patch without its added lines: it applies, and does not do the task. Counts are fixed up. */
export function withoutAddedLines(patch: string): string {
  return rewriteHunks(patch, (lines) => lines.filter((l) => !l.startsWith('+')));
}

/** The patch with one stray line added after the first added line: it breaks the file's syntax. */
export function withStrayLine(patch: string): string {
  let done = false;
  return rewriteHunks(patch, (lines) => {
    if (done) return lines;
    const at = lines.findIndex((l) => l.startsWith('+'));
    if (at < 0) return lines;
    done = true;
    return [...lines.slice(0, at + 1), '+this line is not code )]}', ...lines.slice(at + 1)];
  });
}

/** Applies `edit` to each hunk's body and rewrites its header's counts to match. */
function rewriteHunks(patch: string, edit: (body: string[]) => string[]): string {
  const lines = patch.split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const m = HUNK.exec(lines[i]);
    if (!m) {
      out.push(lines[i]);
      i += 1;
      continue;
    }
    let j = i + 1;
    while (j < lines.length && /^[ +\-\\]/.test(lines[j]) && !lines[j].startsWith('--- ') && !lines[j].startsWith('+++ ')) j += 1;
    const body = edit(lines.slice(i + 1, j));
    const oldCount = body.filter((l) => l.startsWith(' ') || l.startsWith('-')).length;
    const newCount = body.filter((l) => l.startsWith(' ') || l.startsWith('+')).length;
    out.push(`@@ -${m[1]},${oldCount} +${m[3]},${newCount} @@${m[5]}`, ...body);
    i = j;
  }
  return out.join('\n');
}

export interface SimulatedServer {
  /** What an OpenAI client takes as its base URL. */
  baseUrl: string;
  /** The spoils chosen so far, per `model task` (for the report and the tests). */
  log(): { model: string; task: string; attempt: number; spoils: string[]; format: SimulatedFormat }[];
  close(): Promise<void>;
}

/**
 * Serves the simulated models for `tasks`. The task of a request is found by the `# Task` title
 * its prompt starts with (and its description, when titles repeat).
 */
export async function startSimulatedModel(options: { tasks: EvalTask[]; seed: number }): Promise<SimulatedServer> {
  const attempts = new Map<string, number>();
  const log: { model: string; task: string; attempt: number; spoils: string[]; format: SimulatedFormat }[] = [];
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: Error) => send(res, 500, { error: { message: error.message, type: 'server_error' } }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.endsWith('/models')) {
      send(res, 200, { object: 'list', data: [{ id: 'sim', object: 'model', created: 0, owned_by: 'autodev' }] });
      return;
    }
    if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
      send(res, 404, { error: { message: `no route ${req.method} ${url.pathname}`, type: 'invalid_request_error' } });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string; messages?: { role: string; content: string }[] };
    const model = String(body.model ?? '');
    const messages = body.messages ?? [];
    const prompt = messages.filter((m) => m.role === 'user').map((m) => m.content)[0] ?? '';
    const task = findTask(options.tasks, prompt);
    let content: string;
    if (!task || !isSimulated(model)) {
      content = 'I do not know this task.';
    } else {
      const key = `${model}\u0000${task.id}`;
      const attempt = attempts.get(key) ?? 0;
      attempts.set(key, attempt + 1);
      const all = messages.map((m) => m.content).join('\n');
      const repair = all.includes('# Your previous patch failed') || all.includes('Your last reply could not be used');
      const choice = chooseSpoils(simulatedRates(model), options.seed, model, task.id, attempt, repair);
      const system = messages.find((m) => m.role === 'system')?.content ?? '';
      const format = requestedFormat(system);
      log.push({ model, task: task.id, attempt, spoils: choice.spoils, format });
      content = spoiledReply(task, choice, options.seed, format, filesShown(prompt));
    }
    const promptTokens = Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / 4);
    const completionTokens = Math.ceil(content.length / 4);
    send(res, 200, {
      id: `simcmpl-${log.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    log: () => [...log],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function findTask(tasks: EvalTask[], prompt: string): EvalTask | null {
  const title = /^# Task\n(.*)$/m.exec(prompt)?.[1]?.trim();
  if (!title) return null;
  const same = tasks.filter((t) => t.title.trim() === title);
  if (same.length <= 1) return same[0] ?? null;
  return same.find((t) => t.description.trim() && prompt.includes(t.description.trim())) ?? same[0];
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
