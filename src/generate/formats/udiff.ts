// The `udiff` edit format: "## Rationale", "## Commit message", "## Patch" with one ```diff block.
import type { EditFormat } from '../types.js';
import { parseReply } from './reply.js';

const INSTRUCTIONS = `Reply in exactly this format and nothing else:

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

export const udiffFormat: EditFormat = { name: 'udiff', instructions: INSTRUCTIONS, parse: (reply) => parseReply(reply, 'Patch') };
