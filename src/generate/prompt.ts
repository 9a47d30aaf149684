// What the model is told: the task, the selected code, and in a repair round the distilled failure.
import type { ContextSelection } from '../context/index.js';
import type { ChatMessage } from '../ports/types.js';
import { hasRedactions } from '../secrets/redact-content.js';
import { redact } from '../util/redact.js';

/** Said only when the prompt holds a placeholder, so the model keeps it instead of "fixing" it. */
export const REDACTION_NOTE = `Note: values shown as [REDACTED:<kind>] are secrets (keys, tokens, passwords) hidden from you; the files hold
the real values. Copy such a placeholder exactly as shown wherever your patch repeats its line, never replace,
re-type or remove it, and never write a new secret in its place.`;

export const SYSTEM_PROMPT = `You are autodev, a careful software engineer. You change a repository to do the task you are given,
with the smallest correct change. Your change will be built, tested and linted in a sandbox; failures come back to you.

Reply in exactly this format and nothing else:

## Rationale
<why this change does the task, briefly>

## Commit message
<subject line, imperative, at most 72 characters>
<optional body after a blank line>

## Patch
\`\`\`diff
--- a/path/to/file
+++ b/path/to/file
@@ -start,count +start,count @@
 context line
-removed line
+added line
\`\`\`

Rules for the patch: a unified diff against the files as shown, paths relative to the repository root,
at least 3 lines of unchanged context around each change, new files as "--- /dev/null" / "+++ b/path".
Never touch .git/ or paths outside the repository. Never put secrets, tokens or keys in code.`;

export function buildMessages(input: {
  title: string;
  description: string;
  context: ContextSelection | null;
  feedback: string | null;
  previousPatch: string | null;
  formatError: string | null;
}): ChatMessage[] {
  const parts: string[] = [];
  parts.push(`# Task\n${input.title}`);
  if (input.description.trim()) parts.push(`## Description\n${input.description.trim()}`);
  if (input.context && input.context.files.length) {
    parts.push('# Repository code (selected for this task)');
    for (const file of input.context.files) {
      const what = file.ranges ? ` (lines ${file.ranges.map(([a, b]) => `${a}-${b}`).join(', ')})` : '';
      parts.push(`## ${file.path}${what}\n\`\`\`\n${file.content.replace(/\n$/, '')}\n\`\`\``);
    }
  }
  if (input.feedback) {
    parts.push('# Your previous patch failed');
    if (input.previousPatch) parts.push(`It was:\n\`\`\`diff\n${input.previousPatch.replace(/\n$/, '')}\n\`\`\``);
    parts.push(`What failed:\n${input.feedback}\n\nWrite a new patch against the ORIGINAL files above (not on top of the previous patch).`);
  }
  // Everything the model is shown leaves the tool: the repository's secrets, one the model wrote in
  // a failed round (quoted back in the previous patch or a build error) and our own keys are redacted.
  let user = redact(parts.join('\n\n'));
  if (hasRedactions(user)) user = `${user}\n\n${REDACTION_NOTE}`;
  const messages: ChatMessage[] = [
    { role: 'system', content: SYSTEM_PROMPT },
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
