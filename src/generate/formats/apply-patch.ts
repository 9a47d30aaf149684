// The `apply-patch` edit format: OpenAI's envelope, which GPT models are trained to write.
import type { EditFormat } from '../types.js';
import { editFormat } from './reply.js';

const EXAMPLE = `*** Begin Patch
*** Update File: path/to/file.ext
@@ a line that names the place, e.g. the enclosing function's signature
 unchanged line
-removed line
+added line
 unchanged line
*** Add File: path/to/new.ext
+every line of the new file, each starting with +
*** Delete File: path/to/old.ext
*** End Patch`;

const RULES = `Rules for the changes: paths relative to the repository root; no line numbers. In an Update File, each
chunk starts with "@@" (optionally followed by one line of the file that comes before the chunk, copied
exactly) and holds 3 unchanged lines (" ") before and after each change, copied exactly from the file,
so the chunk matches exactly one place. Put "*** Move to: new/path" right after "*** Update File:" to rename.`;

export const applyPatchFormat: EditFormat = editFormat('apply-patch', 'Changes', EXAMPLE, RULES);
