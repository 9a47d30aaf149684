// What the agent is told at the start: how it works (tools, a scratch copy, autodev's own checks),
// then the task, the code selected for it, the toolchain's commands and what already fails on the base.
import type { ContextSelection } from '../../context/index.js';
import { hasRedactions } from '../../secrets/redact-content.js';
import { redact } from '../../util/redact.js';
import type { BaselineFailures } from '../types.js';

const SYSTEM = `You are autodev, a careful software engineer working in a copy of a repository through tools.
- Explore with list_files, read_file and search; run commands (the tests, say) with run. Commands run in a
  sandbox: no network, no credentials, only the repository directory is writable.
- Change files with edit (one exact, unique occurrence of a text replaced, or a new file created). Paths are
  relative to the repository root; nothing outside it or under .git can be read or written.
- Make the smallest correct change for the task. Reproduce the failure first when you can, then fix it,
  then run the tests again.
- When done, call submit with a rationale and a commit message. autodev then builds, tests and lints your
  change itself: what you say you ran counts for nothing, only its own checks do. Their failures come back
  to you here; fix them and submit again.`;

const REDACTION_NOTE = `Values shown as [REDACTED:<kind>] are secrets hidden from you: keep such a placeholder exactly as
shown in any text you pass to edit, and never write a secret in its place.`;

/** How many tests failing on the base are named. */
const MAX_BASELINE_TESTS = 20;

export function agentSystemPrompt(): string {
  return SYSTEM;
}

export function agentTaskPrompt(input: {
  task: { title: string; description: string };
  context: ContextSelection | null;
  baseline: BaselineFailures;
  commands: { build?: string[]; test?: string[]; lint?: string[] };
}): string {
  const parts: string[] = [`# Task\n${input.task.title}`];
  if (input.task.description.trim()) parts.push(`## Description\n${input.task.description.trim()}`);
  const commands = (['build', 'test', 'lint'] as const).flatMap((kind) => {
    const argv = input.commands[kind];
    return argv ? [`- ${kind}: \`${argv.join(' ')}\``] : [];
  });
  if (commands.length) parts.push(`# How autodev checks the change (run these yourself as you need)\n${commands.join('\n')}`);
  const failing = input.baseline.failingTests;
  if (failing.length) {
    const more = failing.length > MAX_BASELINE_TESTS ? `\n- …and ${failing.length - MAX_BASELINE_TESTS} more` : '';
    parts.push(
      `# Failing on the base (before any change)\n${failing
        .slice(0, MAX_BASELINE_TESTS)
        .map((name) => `- ${name}`)
        .join('\n')}${more}`,
    );
  }
  if (input.context && input.context.files.length) {
    parts.push('# Code selected for this task (read more with the tools)');
    for (const file of input.context.files) {
      const what = file.ranges ? ` (lines ${file.ranges.map(([a, b]) => `${a}-${b}`).join(', ')})` : '';
      parts.push(`## ${file.path}${what}\n\`\`\`\n${file.content.replace(/\n$/, '')}\n\`\`\``);
    }
  }
  const text = redact(parts.join('\n\n'));
  return hasRedactions(text) ? `${text}\n\n${REDACTION_NOTE}` : text;
}

/** A repair round: what autodev's checks found in the submitted change. */
export function agentRepairPrompt(feedback: string): string {
  return redact(
    `autodev applied your submitted change to a clean checkout of the base and checked it. It failed:\n\n${feedback}\n\n` +
      'Your workspace still holds your change. Fix it, run what you need, and call submit again.',
  );
}
