// Edit formats by name: the plan's codegen step names one. A new format is one module beside this
// (its prompt text; every format's reply is read by reply.ts) and one line here.
import type { EditFormat } from '../types.js';
import { applyPatchFormat } from './apply-patch.js';
import { searchReplaceFormat } from './search-replace.js';
import { udiffFormat } from './udiff.js';
import { wholeFormat } from './whole.js';

const FORMATS: ReadonlyMap<string, EditFormat> = new Map(
  [udiffFormat, searchReplaceFormat, applyPatchFormat, wholeFormat].map((f) => [f.name, f]),
);

export function editFormat(name: string): EditFormat {
  const format = FORMATS.get(name);
  if (!format) throw new Error(`unknown edit format "${name}" (known: ${[...FORMATS.keys()].join(', ')})`);
  return format;
}
