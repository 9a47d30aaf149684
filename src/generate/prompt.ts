// What the model is told, whatever the edit format: the task, the selected code, what already fails
// on the base, and in a repair round the distilled failure; the format adds its own rules.
import type { ContextSelection } from '../context/index.js';
import type { ChatMessage } from '../ports/types.js';
import { hasRedactions } from '../secrets/redact-content.js';
import { redact } from '../util/redact.js';
import type { BaselineFailures, EditFormat, RepairFeedback, ReproductionTest } from './types.js';
import { isPlainDiff } from '../patch/edits.js';

/** Said only when the prompt holds a placeholder, so the model keeps it instead of "fixing" it. */
const REDACTION_NOTE = `Note: values shown as [REDACTED:<kind>] are secrets (keys, tokens, passwords) hidden from you; the files hold
the real values. Copy such a placeholder exactly as shown wherever your patch repeats its line, never replace,
re-type or remove it, and never write a new secret in its place.`;

const PREAMBLE = `You are autodev, a careful software engineer. You change a repository to do the task you are given,
with the smallest correct change. Your change will be built, tested and linted in a sandbox; failures come back to you.`;

/** How many tests failing on the base are named; a broken suite should not fill the prompt. */
const MAX_BASELINE_TESTS = 20;

/** The conversation for one model call: the system prompt with the format's rules, then the task. */
export function buildMessages(input: {
  task: { title: string; description: string };
  context: ContextSelection | null;
  baseline: BaselineFailures;
  repair: RepairFeedback | null;
  format: EditFormat;
  /** The reproduction test kept for the task (generate.reproduce): it fails on the base, the change must make it pass. */
  reproduction?: ReproductionTest | null;
  /** Why the previous reply in this attempt could not be used; the model is asked again. */
  formatError: string | null;
}): ChatMessage[] {
  const parts: string[] = [];
  parts.push(`# Task\n${input.task.title}`);
  if (input.task.description.trim()) parts.push(`## Description\n${input.task.description.trim()}`);
  parts.push(...codeSection(input.context));
  if (input.reproduction) parts.push(reproductionSection(input.reproduction));
  const failing = input.baseline.failingTests;
  if (failing.length) {
    const more = failing.length > MAX_BASELINE_TESTS ? `\n- …and ${failing.length - MAX_BASELINE_TESTS} more` : '';
    parts.push(
      `# Already failing on the base (before any change)\n${failing
        .slice(0, MAX_BASELINE_TESTS)
        .map((name) => `- ${name}`)
        .join('\n')}${more}`,
    );
  }
  if (input.repair) {
    parts.push('# Your previous patch failed');
    if (input.repair.previousPatch) parts.push(`It was:\n${quoted(input.repair.previousPatch)}`);
    parts.push(
      `What failed:\n${input.repair.feedback}\n\nWrite a new patch against the ORIGINAL files above (not on top of the previous patch).`,
    );
  }
  // Everything the model is shown leaves the tool: the repository's secrets, one the model wrote in
  // a failed round (quoted back in the previous patch or a build error) and our own keys are redacted.
  let user = redact(parts.join('\n\n'));
  if (hasRedactions(user)) user = `${user}\n\n${REDACTION_NOTE}`;
  const messages: ChatMessage[] = [
    { role: 'system', content: `${PREAMBLE}\n\n${input.format.instructions}` },
    { role: 'user', content: user },
  ];
  if (input.formatError) {
    messages.push({
      role: 'user',
      content: redact(`Your last reply could not be used: ${input.formatError}. Reply again in exactly the required format.`),
    });
  }
  return messages;
}

/** The code selected for the task, one section per file (also shown when a reproduction test is asked for). */
export function codeSection(context: ContextSelection | null): string[] {
  if (!context || context.files.length === 0) return [];
  const parts = ['# Repository code (selected for this task)'];
  for (const file of context.files) {
    const what = file.ranges ? ` (lines ${file.ranges.map(([a, b]) => `${a}-${b}`).join(', ')})` : '';
    parts.push(`## ${file.path}${what}\n\`\`\`\n${file.content.replace(/\n$/, '')}\n\`\`\``);
  }
  return parts;
}

/** The test written before the fix: the model must make it pass and leave it as it is. */
function reproductionSection(reproduction: ReproductionTest): string {
  const tests = reproduction.tests.map((name) => `- ${name}`).join('\n');
  return [
    `# Reproduction test: ${reproduction.file}`,
    `This test was written before the fix and fails on the base (before any change):\n${tests}\nHow it fails: ${reproduction.baseFailure}`,
    `\`\`\`\n${reproduction.content.replace(/\n$/, '')}\n\`\`\``,
    `It is in place when your change is tested, and your change must make it pass. Do not edit, move or delete ${reproduction.file}: fix the code it tests.`,
  ].join('\n\n');
}

/** The previous edits in a fence longer than any inside them (SEARCH/REPLACE and whole files carry their own). */
function quoted(edits: string): string {
  const longest = Math.max(0, ...[...edits.matchAll(/^\s*(`{3,})/gm)].map((m) => m[1].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${isPlainDiff(edits) ? 'diff' : ''}\n${edits.replace(/\n$/, '')}\n${fence}`;
}
