// Test-integrity and scope guards: what a change does that games the checks instead of passing
// them — a test deleted or skipped, an assertion removed or loosened, a lint or type check silenced,
// CI, a lockfile or a registry edited. A pure reading of the diff; each finding carries a reason
// code that the policy (local rules and OPA alike) decides on.
import { parsePatch, type FilePatch } from '../patch/parse.js';
import {
  CI_FILES,
  LINT_CONFIG_FILES,
  LINT_CONFIG_LINE,
  LINT_MANIFESTS,
  REGISTRY_FILES,
  REGISTRY_LINE,
  TOLERANCE,
  markersFor,
  type LanguageMarkers,
} from '../toolchains/guard-markers.js';

import { GUARD_CODES, type GuardCode } from './codes.js';

export { GUARD_CODES, type GuardCode, type GuardsSetting } from './codes.js';

export interface GuardFinding {
  code: GuardCode;
  file: string;
  /** Line in the new file (added lines) or the old one (removed lines); null for the whole file. */
  line: number | null;
  message: string;
}

export interface GuardOptions {
  /** Whether a file is test code (the toolchains' isTestFile). */
  isTestFile: (file: string) => boolean;
  /** Lockfile base names (the toolchains' context.lockfiles). */
  lockfiles: readonly string[];
}

interface Line {
  text: string;
  /** New-file line for `+`, old-file line for `-`. */
  line: number;
  hunk: number;
}

interface FileLines {
  path: string;
  added: Line[];
  removed: Line[];
}

/** The findings of one diff, in file order; an unreadable diff gives none (the apply step already read it). */
export function checkGuards(diff: string, options: GuardOptions): GuardFinding[] {
  let files: FilePatch[];
  try {
    files = parsePatch(diff).files;
  } catch {
    return [];
  }
  const findings: GuardFinding[] = [];
  for (const file of files) findings.push(...checkFile(file, options));
  return findings;
}

function linesOf(file: FilePatch): FileLines {
  const added: Line[] = [];
  const removed: Line[] = [];
  file.hunks.forEach((hunk, index) => {
    let oldLine = hunk.oldStart ?? 1;
    let newLine = hunk.newStart ?? 1;
    for (const l of hunk.lines) {
      if (l.kind === '+') added.push({ text: l.text, line: newLine++, hunk: index });
      else if (l.kind === '-') removed.push({ text: l.text, line: oldLine++, hunk: index });
      else {
        oldLine++;
        newLine++;
      }
    }
  });
  return { path: (file.newPath ?? file.oldPath) as string, added, removed };
}

function checkFile(file: FilePatch, options: GuardOptions): GuardFinding[] {
  const lines = linesOf(file);
  const path = lines.path;
  const findings: GuardFinding[] = [];
  const oldPath = file.oldPath ?? path;
  const base = path.split('/').pop() ?? path;

  if (file.isDeleted && options.isTestFile(oldPath)) {
    findings.push({ code: 'test_deleted', file: oldPath, line: null, message: `test file ${oldPath} deleted` });
  } else if (file.isRename && file.oldPath && file.newPath && options.isTestFile(file.oldPath) && !options.isTestFile(file.newPath)) {
    findings.push({
      code: 'test_deleted',
      file: file.oldPath,
      line: null,
      message: `test file ${file.oldPath} renamed to ${file.newPath}, which is not run as a test`,
    });
  }
  if (CI_FILES.some((re) => re.test(path) || re.test(oldPath))) {
    findings.push({ code: 'ci_changed', file: path, line: null, message: `CI configuration ${path} ${verb(file)}` });
  }
  if (options.lockfiles.includes(base)) {
    findings.push({ code: 'lockfile_changed', file: path, line: null, message: `lockfile ${path} ${verb(file)}` });
  }
  if (REGISTRY_FILES.some((re) => re.test(path))) {
    findings.push({ code: 'registry_changed', file: path, line: null, message: `registry configuration ${path} ${verb(file)}` });
  } else {
    const line = [...lines.added, ...lines.removed].find((l) => REGISTRY_LINE.test(l.text));
    if (line)
      findings.push({ code: 'registry_changed', file: path, line: line.line, message: `registry setting changed: ${clip(line.text)}` });
  }
  if (LINT_CONFIG_FILES.some((re) => re.test(path))) {
    findings.push({ code: 'lint_relaxed', file: path, line: null, message: `lint or type-check configuration ${path} ${verb(file)}` });
  } else if (LINT_MANIFESTS.test(path)) {
    const line = [...lines.added, ...lines.removed].find((l) => LINT_CONFIG_LINE.test(l.text));
    if (line) findings.push({ code: 'lint_relaxed', file: path, line: line.line, message: `lint settings changed: ${clip(line.text)}` });
  }

  const markers = markersFor(path) ?? (file.oldPath ? markersFor(file.oldPath) : null);
  // A whole deleted test file is one finding; its tests and assertions are not listed again.
  if (!markers || (file.isDeleted && options.isTestFile(oldPath))) return findings;
  findings.push(...deletedTests(path, lines, markers));
  findings.push(...newlyAdded(path, lines, markers.skip, 'test_skipped', (t) => `test skipped or ignored: ${clip(t)}`));
  findings.push(...newlyAdded(path, lines, markers.lintSuppression, 'lint_relaxed', (t) => `check silenced: ${clip(t)}`));
  findings.push(...weakenedAssertions(path, lines, markers));
  return findings;
}

function verb(file: FilePatch): string {
  return file.isDeleted ? 'deleted' : file.isNew ? 'added' : 'changed';
}

function clip(text: string): string {
  const t = text.trim();
  return t.length > 100 ? `${t.slice(0, 99)}…` : t;
}

function matches(text: string, patterns: RegExp[]): boolean {
  return patterns.some((re) => re.test(text));
}

function count(list: Line[], patterns: RegExp[]): Map<string, Line[]> {
  const by = new Map<string, Line[]>();
  for (const l of list) {
    if (!matches(l.text, patterns)) continue;
    const key = l.text.trim();
    by.set(key, [...(by.get(key) ?? []), l]);
  }
  return by;
}

/**
 * Added lines matching `patterns` beyond those the diff removes with the same text (a moved
 * `#[ignore]` is not a new one).
 */
function newlyAdded(
  path: string,
  lines: FileLines,
  patterns: RegExp[],
  code: GuardCode,
  message: (text: string) => string,
): GuardFinding[] {
  const removed = count(lines.removed, patterns);
  const out: GuardFinding[] = [];
  for (const [text, added] of count(lines.added, patterns)) {
    const surplus = added.length - (removed.get(text)?.length ?? 0);
    for (const l of added.slice(added.length - Math.max(0, surplus))) out.push({ code, file: path, line: l.line, message: message(text) });
  }
  return out;
}

/** Test declarations the diff removes and does not add back (by name where the language gives one). */
function deletedTests(path: string, lines: FileLines, markers: LanguageMarkers): GuardFinding[] {
  const removed = lines.removed.filter((l) => matches(l.text, markers.testDeclaration));
  const added = lines.added.filter((l) => matches(l.text, markers.testDeclaration));
  const named = (l: Line): string | null => {
    for (const re of markers.testDeclaration) {
      const m = re.exec(l.text);
      const name = m?.slice(1).find((g) => g !== undefined);
      if (m) return name ?? null;
    }
    return null;
  };
  const addedNames = new Set(added.map(named).filter((n): n is string => n !== null));
  const unnamedAdded = added.filter((l) => named(l) === null).length;
  const out: GuardFinding[] = [];
  let unnamedRemoved = 0;
  const unnamed: Line[] = [];
  // A test given a skip modifier (it → it + `.skip`, or `xit`) is a skip, reported as such, not a deletion.
  const skipped = lines.added.filter((l) => matches(l.text, markers.skip)).map((l) => l.text);
  for (const l of removed) {
    const name = named(l);
    if (name !== null) {
      if (!addedNames.has(name) && !skipped.some((t) => t.includes(name)))
        out.push({ code: 'test_deleted', file: path, line: l.line, message: `test ${name} removed` });
    } else {
      unnamedRemoved++;
      unnamed.push(l);
    }
  }
  // Attribute-style declarations (`#[test]`, `@Test`) carry no name: compared by count.
  for (const l of unnamed.slice(0, Math.max(0, unnamedRemoved - unnamedAdded))) {
    out.push({ code: 'test_deleted', file: path, line: l.line, message: `test removed (${clip(l.text)} at old line ${l.line})` });
  }
  return out;
}

/**
 * Assertions the diff removes without adding as many back, assertions replaced by weaker ones, and
 * tolerances that grow. Compared per hunk, so an assertion moved from one place to another counts
 * only where the totals differ.
 */
function weakenedAssertions(path: string, lines: FileLines, markers: LanguageMarkers): GuardFinding[] {
  const out: GuardFinding[] = [];
  const removed = lines.removed.filter((l) => matches(l.text, markers.assertion));
  const added = lines.added.filter((l) => matches(l.text, markers.assertion));
  const fewer = removed.length - added.length;
  if (fewer > 0) {
    const addedText = new Set(added.map((l) => l.text.trim()));
    const gone = removed.filter((l) => !addedText.has(l.text.trim())).slice(0, fewer);
    for (const l of gone) out.push({ code: 'assertion_weakened', file: path, line: l.line, message: `assertion removed: ${clip(l.text)}` });
  }
  const hunks = new Set([...removed, ...added].map((l) => l.hunk));
  for (const hunk of hunks) {
    const before = removed.filter((l) => l.hunk === hunk);
    const after = added.filter((l) => l.hunk === hunk);
    const strongBefore = before.filter((l) => !matches(l.text, markers.weakAssertion)).length;
    const weakAfter = after.filter((l) => matches(l.text, markers.weakAssertion));
    const weakBefore = before.length - strongBefore;
    if (strongBefore > 0 && weakAfter.length > weakBefore) {
      const l = weakAfter[0];
      out.push({ code: 'assertion_weakened', file: path, line: l.line, message: `assertion loosened: ${clip(l.text)}` });
    }
    const widened = widenedTolerance(
      lines.removed.filter((l) => l.hunk === hunk && TOLERANCE.test(l.text)),
      lines.added.filter((l) => l.hunk === hunk && TOLERANCE.test(l.text)),
    );
    if (widened)
      out.push({ code: 'assertion_weakened', file: path, line: widened.line, message: `tolerance widened: ${clip(widened.text)}` });
  }
  return out;
}

/**
 * A tolerance line whose numbers grew (1e-9 → 1e-3), or, for digit counts (`toBeCloseTo(x, 5)` →
 * `toBeCloseTo(x, 2)`, `places=7` → `places=2`), shrank.
 */
function widenedTolerance(before: Line[], after: Line[]): Line | null {
  for (let i = 0; i < Math.min(before.length, after.length); i++) {
    const a = numbers(before[i].text);
    const b = numbers(after[i].text);
    if (a.length === 0 || a.length !== b.length) continue;
    const digits = /toBeCloseTo|places\s*=|assertAlmostEqual/.test(after[i].text);
    const last = a.length - 1;
    if (digits ? b[last] < a[last] : b.some((n, k) => n > a[k])) return after[i];
  }
  return null;
}

function numbers(text: string): number[] {
  return (text.match(/\b\d+(?:\.\d+)?(?:e-?\d+)?\b/gi) ?? []).map(Number);
}

/** Findings grouped by code, in the order of GUARD_CODES. */
export function groupFindings(findings: GuardFinding[]): { code: GuardCode; findings: GuardFinding[] }[] {
  return GUARD_CODES.map((code) => ({ code, findings: findings.filter((f) => f.code === code) })).filter((g) => g.findings.length > 0);
}
