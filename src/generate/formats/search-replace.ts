// The `search-replace` edit format: a file's path on its own line, then SEARCH/REPLACE blocks.
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
<<<<<<< SEARCH
exact lines copied from the file as shown
=======
the lines that replace them
>>>>>>> REPLACE
\`\`\`

Rules for the changes: each block starts with the file's path (relative to the repository root) on the
line before its fence; several blocks may follow one path, in the file's order. The SEARCH text must be
copied exactly from the file (indentation and blank lines included) and must match exactly one place:
include enough unchanged lines to make it unique, but keep blocks short. To create a file, leave SEARCH
empty and put the whole content in REPLACE. To delete lines, leave REPLACE empty.
Never touch .git/ or paths outside the repository. Never put secrets, tokens or keys in code.`;

export const searchReplaceFormat: EditFormat = {
  name: 'search-replace',
  instructions: INSTRUCTIONS,
  parse: (reply) => parseReply(reply, 'Changes'),
};
