// The distilled failure: what the model is shown in the next repair round. Compiler errors and
// failing tests' assertions, not the whole log, and never more than the budget.

import type { CargoTestReport, Diagnostic, TestReport } from './types.js';
import { plural } from './text.js';

export interface DistillOptions {
  /** Hard cap on the returned text, note included (default 6000). */
  limitChars?: number;
}

const DEFAULT_LIMIT = 6000;

export function distillFailure(kind: 'build' | 'lint', parsed: Diagnostic[], options?: DistillOptions): string;
export function distillFailure(kind: 'test', parsed: TestReport | CargoTestReport, options?: DistillOptions): string;
export function distillFailure(
  kind: 'build' | 'test' | 'lint',
  parsed: Diagnostic[] | TestReport | CargoTestReport,
  options: DistillOptions = {},
): string {
  const limit = Math.max(200, options.limitChars ?? DEFAULT_LIMIT);
  if (kind === 'test') return distillTests(parsed as TestReport | CargoTestReport, limit);
  return distillDiagnostics(kind, parsed as Diagnostic[], limit);
}

interface Item {
  text: string;
  /** How the item is named in the "not shown" note. */
  label: string;
  kind: string;
}

function distillDiagnostics(kind: 'build' | 'lint', diagnostics: Diagnostic[], limit: number): string {
  const errors = diagnostics.filter((d) => d.level === 'error');
  const warnings = diagnostics.filter((d) => d.level === 'warning');
  // A failed build is about its errors; warnings only matter when they are all there is.
  const shown = kind === 'build' && errors.length > 0 ? errors : [...errors, ...warnings];
  const counts = [
    errors.length > 0 ? plural(errors.length, 'error') : '',
    kind === 'lint' || errors.length === 0 ? plural(warnings.length, 'warning') : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const header =
    shown.length === 0
      ? `The ${kind === 'build' ? 'build' : 'linter'} failed without a located diagnostic.`
      : kind === 'build'
        ? `The build failed with ${counts}:`
        : `The linter reported ${counts}:`;
  const items = shown.map((d) => ({
    text: d.rendered || `${d.level}: ${d.message}`,
    label: `${d.code ?? d.level}${d.file ? ` at ${d.file}${d.line ? `:${d.line}` : ''}` : ''}`,
    kind: d.level,
  }));
  return assemble(header, items, limit);
}

function distillTests(report: TestReport | CargoTestReport, limit: number): string {
  const compileErrors = 'compileErrors' in report ? report.compileErrors : [];
  const items: Item[] = compileErrors.map((d) => ({
    text: d.rendered || `error: ${d.message}`,
    label: `${d.code ?? 'error'}${d.file ? ` at ${d.file}${d.line ? `:${d.line}` : ''}` : ''}`,
    kind: 'compile error',
  }));
  for (const f of report.failed) {
    items.push({ text: `---- ${f.name} ----\n${f.output.trim() || '(no output captured)'}`, label: f.name, kind: 'failing test' });
  }
  const parts: string[] = [];
  if (compileErrors.length > 0) parts.push(`the tests did not compile (${plural(compileErrors.length, 'error')})`);
  if (report.failed.length > 0) parts.push(`${plural(report.failed.length, 'test')} failed`);
  const header =
    parts.length > 0
      ? `${capitalize(parts.join(' and '))}:`
      : `The test command failed, but no failing test was identified (${report.summary}).`;
  return assemble(header, items, limit);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Header and items up to the budget; whatever does not fit is named in a closing note. */
function assemble(header: string, items: Item[], limit: number): string {
  // One huge item (a test that printed megabytes) must not crowd out the others.
  const perItem = Math.max(400, Math.floor(limit * 0.6));
  const texts = items.map((it) => squeeze(it.text.trimEnd(), perItem));
  let out = header;
  let shown = 0;
  for (; shown < items.length; shown++) {
    const note = cutNote(items.slice(shown + 1));
    const candidate = `${out}\n\n${texts[shown]}`;
    if (candidate.length + (note ? note.length + 2 : 0) <= limit) {
      out = candidate;
      continue;
    }
    if (shown === 0) {
      // Nothing shown yet: a cut-down first item is worth more than a bare list of names.
      const room = limit - out.length - 2 - (note ? note.length + 2 : 0);
      if (room > 100) {
        out = `${out}\n\n${squeeze(texts[0], room)}`;
        shown = 1;
      }
    }
    break;
  }
  const note = cutNote(items.slice(shown));
  if (note) out = `${out}\n\n${note}`;
  return out.length <= limit ? out : out.slice(0, limit);
}

function cutNote(rest: Item[]): string {
  if (rest.length === 0) return '';
  const byKind = new Map<string, number>();
  for (const it of rest) byKind.set(it.kind, (byKind.get(it.kind) ?? 0) + 1);
  const what = [...byKind].map(([k, n]) => plural(n, k)).join(', ');
  let names = rest.map((it) => it.label).join(', ');
  if (names.length > 300) names = `${names.slice(0, 297)}...`;
  return `[${what} not shown to stay within the limit: ${names}]`;
}

/** Keeps the head and the tail of an over-long text, marking the cut. */
function squeeze(text: string, max: number): string {
  if (text.length <= max) return text;
  const estimate = `\n[... ${text.length} characters cut ...]\n`.length;
  const marker = `\n[... ${text.length - Math.max(0, max - estimate)} characters cut ...]\n`;
  const keep = Math.max(0, max - marker.length);
  const head = Math.ceil(keep * 0.7);
  return text.slice(0, head) + marker + text.slice(text.length - (keep - head));
}
