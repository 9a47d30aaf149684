// Reproduce first: what the model is asked for (one new test file showing the reported behaviour,
// before anything is fixed), how its reply is read, and the one bounded call that asks. Whether the
// test is kept is decided by running it on the base (reproduce-verdict.ts, steps/reproduce.ts).
import type { ContextSelection } from '../context/index.js';
import { checkRepoPath } from '../patch/paths.js';
import { TransientError, type ChatMessage, type Llm } from '../ports/types.js';
import { AutodevError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import type { BudgetMeter } from './budget.js';
import { codeSection } from './prompt.js';
import { ReplyFormatError } from './types.js';

const SYSTEM = `You are autodev, a careful software engineer. Before anything is fixed, you write ONE new test file that
reproduces the behaviour the task reports. The test must compile and run against the current code and FAIL there
for the reason the task states (an assertion on the reported behaviour, not a missing function or a typo), so that
it passes once the behaviour is fixed. Test only what the task says; do not fix the code; add no dependency.

Reply in exactly this layout:

## Test file
<the new file's path, relative to the repository root>

## Test
\`\`\`
<the whole content of the test file>
\`\`\``;

/** A rejected try, shown to the model when it is asked again. */
export interface PreviousTry {
  file: string | null;
  content: string | null;
  /** Why it was not kept (does not compile, passes on the base, malformed reply…). */
  problem: string;
}

export interface ReproduceRequest {
  task: { title: string; description: string };
  context: ContextSelection | null;
  /** The toolchain's language and how a new test file is written there. */
  toolchain: { language: string; conventions: string };
  previous: PreviousTry | null;
}

/** The conversation for one reproduction request. */
export function buildReproduceMessages(input: ReproduceRequest): ChatMessage[] {
  const parts: string[] = [`# Task\n${input.task.title}`];
  if (input.task.description.trim()) parts.push(`## Description\n${input.task.description.trim()}`);
  parts.push(`# How tests are written here (${input.toolchain.language})\n${input.toolchain.conventions}`);
  parts.push(...codeSection(input.context));
  const previous = input.previous;
  if (previous) {
    parts.push('# Your previous test was not kept');
    if (previous.file && previous.content !== null)
      parts.push(`It was ${previous.file}:\n\`\`\`\n${previous.content.replace(/\n$/, '')}\n\`\`\``);
    parts.push(`Why: ${previous.problem}\n\nWrite a new test file that fails on the current code for the reason the task states.`);
  }
  return [
    { role: 'system', content: SYSTEM },
    // Everything shown leaves the tool: the repository's secrets are redacted.
    { role: 'user', content: redact(parts.join('\n\n')) },
  ];
}

/** The test file the reply names and its content; throws ReplyFormatError when the reply cannot be used. */
export function parseReproduction(reply: string): { file: string; content: string } {
  const fileHeading = /^#{1,4}\s*Test file\s*$/im.exec(reply);
  if (!fileHeading) throw new ReplyFormatError('no "## Test file" heading with the path of the test');
  const after = reply.slice(fileHeading.index + fileHeading[0].length);
  const pathLine = after.split('\n').find((line) => line.trim() !== '');
  const file = pathLine
    ?.trim()
    .replace(/^[`*"']+|[`*"']+$/g, '')
    .replace(/^\.\//, '');
  if (!file || /\s/.test(file) || file.startsWith('#')) throw new ReplyFormatError('the "## Test file" heading is not followed by a path');
  const checked = checkRepoPath(file);
  if (!checked.ok) throw new ReplyFormatError(`the test file ${file} is not a path inside the repository (${checked.reason})`);
  const testHeading = /^#{1,4}\s*Test\s*$/im.exec(after);
  const body = testHeading ? after.slice(testHeading.index + testHeading[0].length) : after;
  const fence = /^(`{3,}|~{3,})[^\n]*\n([\s\S]*?)^\1\s*$/m.exec(body);
  if (!fence) throw new ReplyFormatError('no fenced code block with the test file after "## Test"');
  const content = fence[2];
  if (content.trim() === '') throw new ReplyFormatError('the test file is empty');
  return { file: checked.path, content: content.endsWith('\n') ? content : `${content}\n` };
}

export type ReproduceCall = { ok: true; reply: string } | { ok: false; reason: string };

/**
 * One reproduction request, bounded before it is made and counted after, like every model call of
 * the task. A refused request (bad key, unknown model) is no reason to fail the task here: it goes on
 * without a reproduction (codegen will meet the same refusal and report it). Transient failures and
 * cancellation propagate: the engine retries the step, or stops.
 */
export async function askReproduction(input: {
  llm: Llm;
  budget: BudgetMeter;
  messages: ChatMessage[];
  settings: { model: string; temperature: number; maxTokens: number };
  signal: AbortSignal;
}): Promise<ReproduceCall> {
  const over = input.budget.exhausted();
  if (over) return { ok: false, reason: over };
  const admitted = input.budget.admit(input.messages, input.settings.maxTokens);
  if (!admitted.ok) return { ok: false, reason: admitted.reason };
  try {
    const reply = await input.llm.chat({
      messages: input.messages,
      model: input.settings.model,
      temperature: input.settings.temperature,
      maxTokens: admitted.maxTokens,
      signal: input.signal,
    });
    input.budget.record(reply.promptTokens, reply.completionTokens);
    return { ok: true, reply: reply.content };
  } catch (error) {
    if (error instanceof TransientError || error instanceof AutodevError || !(error instanceof Error) || input.signal.aborted) throw error;
    return { ok: false, reason: `the model refused the request: ${error.message.split('\n')[0]}` };
  }
}
