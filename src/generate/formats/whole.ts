// The `whole` edit format: the complete new content of each changed file (best for small files).
import type { EditFormat } from '../types.js';
import { editFormat } from './reply.js';

const EXAMPLE = `path/to/file.ext
\`\`\`
the COMPLETE new content of the file, every line, unchanged lines included
\`\`\``;

const RULES = `Rules for the changes: one path line (relative to the repository root) then one fenced block per file
you change or create; never abbreviate ("..." or "rest unchanged" would replace the real lines).
Files you do not list are left as they are.`;

export const wholeFormat: EditFormat = editFormat('whole', 'Changes', EXAMPLE, RULES);
