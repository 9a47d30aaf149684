// The `whole` edit format: the complete new content of each changed file (best for small files).
import type { EditFormat } from '../types.js';
import { parseReply } from './reply.js';

const INSTRUCTIONS = `Reply in exactly this format and nothing else:

## Rationale
<why this change does the task, briefly>

## Commit message
<subject line, imperative, at most 72 characters>
<optional body after a blank line>

## Changes
path/to/file.ext
\`\`\`
the COMPLETE new content of the file, every line, unchanged lines included
\`\`\`

Rules for the changes: one path line (relative to the repository root) then one fenced block per file
you change or create; never abbreviate ("..." or "rest unchanged" would replace the real lines).
Files you do not list are left as they are.
Never touch .git/ or paths outside the repository. Never put secrets, tokens or keys in code.`;

export const wholeFormat: EditFormat = {
  name: 'whole',
  instructions: INSTRUCTIONS,
  parse: (reply) => parseReply(reply, 'Changes'),
};
