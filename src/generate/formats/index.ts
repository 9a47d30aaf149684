// Edit formats by name: the plan's codegen step names one. A new format is one module beside this
// (its prompt text and its parser) and one line here.
import type { EditFormat } from '../types.js';
import { udiffFormat } from './udiff.js';

const FORMATS: ReadonlyMap<string, EditFormat> = new Map([[udiffFormat.name, udiffFormat]]);

export function editFormat(name: string): EditFormat {
  const format = FORMATS.get(name);
  if (!format) throw new Error(`unknown edit format "${name}" (known: ${[...FORMATS.keys()].join(', ')})`);
  return format;
}
