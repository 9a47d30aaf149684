// The `udiff` edit format: "## Rationale", "## Commit message", "## Patch" with one ```diff block.
import type { EditFormat } from '../types.js';
import { editFormat } from './reply.js';

const EXAMPLE = `\`\`\`diff
--- a/path/to/file
+++ b/path/to/file
@@ -start,count +start,count @@
 context line
-removed line
+added line
\`\`\``;

const RULES = `Rules for the patch: a unified diff against the files as shown, paths relative to the repository root,
at least 3 lines of unchanged context around each change, new files as "--- /dev/null" / "+++ b/path".`;

export const udiffFormat: EditFormat = editFormat('udiff', 'Patch', EXAMPLE, RULES);
