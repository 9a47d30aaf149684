// The `search-replace` edit format: a file's path on its own line, then SEARCH/REPLACE blocks.
import type { EditFormat } from '../types.js';
import { editFormat } from './reply.js';

const EXAMPLE = `path/to/file.ext
\`\`\`
<<<<<<< SEARCH
exact lines copied from the file as shown
=======
the lines that replace them
>>>>>>> REPLACE
\`\`\``;

const RULES = `Rules for the changes: each block starts with the file's path (relative to the repository root) on the
line before its fence; several blocks may follow one path, in the file's order. The SEARCH text must be
copied exactly from the file (indentation and blank lines included) and must match exactly one place:
include enough unchanged lines to make it unique, but keep blocks short. To create a file, leave SEARCH
empty and put the whole content in REPLACE. To delete lines, leave REPLACE empty.`;

export const searchReplaceFormat: EditFormat = editFormat('search-replace', 'Changes', EXAMPLE, RULES);
