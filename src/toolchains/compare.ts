// Comparing a change's results with the baseline run on the untouched base, so that warnings and
// failures the base already had are not blamed on the change.

import type { Diagnostic, LineMap, TestFailure, TestReport } from './types.js';

/**
 * The diagnostics `change` adds over `base`. Two diagnostics are the same when level, code, file
 * and message agree; line numbers are not compared, since the patch may have moved the code.
 * When the same message appears several times in a file, a `lineMap` (see lineMapFromDiff) pairs
 * each one with its base twin, so the one on lines the change added is reported; without it the
 * surplus is counted and the later ones in the file are reported.
 */
export function diffDiagnostics(base: Diagnostic[], change: Diagnostic[], lineMap?: LineMap): Diagnostic[] {
  const baseGroups = new Map<string, Diagnostic[]>();
  for (const d of base) push(baseGroups, diagnosticKey(d, d.file), d);

  type Item = { d: Diagnostic; index: number; oldLine: number | null | undefined };
  const changeGroups = new Map<string, Item[]>();
  change.forEach((d, index) => {
    let file = d.file;
    let oldLine: number | null | undefined;
    if (lineMap && d.file !== null && d.line !== null) {
      const mapped = lineMap(d.file, d.line);
      oldLine = mapped ? mapped.line : null;
      if (mapped) file = mapped.file;
    }
    push(changeGroups, diagnosticKey(d, file), { d, index, oldLine });
  });

  const added: { d: Diagnostic; index: number }[] = [];
  for (const [key, items] of changeGroups) {
    const pool = [...(baseGroups.get(key) ?? [])];
    const rest: Item[] = [];
    // First the exact pairs: the change's line maps onto a line where the base had the same message.
    for (const item of items) {
      const at = item.oldLine == null ? -1 : pool.findIndex((b) => b.line === item.oldLine);
      if (at >= 0) pool.splice(at, 1);
      else rest.push(item);
    }
    // Then by count, preferring to pair lines the change kept, so those it added stay "new".
    rest.sort((a, b) => rank(a) - rank(b) || (a.d.line ?? 0) - (b.d.line ?? 0));
    for (const item of rest) {
      if (pool.length > 0) pool.shift();
      else added.push(item);
    }
  }
  return added.sort((a, b) => a.index - b.index).map((a) => a.d);

  function rank(item: Item): number {
    return item.oldLine === null ? 1 : 0;
  }
}

function diagnosticKey(d: Diagnostic, file: string | null): string {
  return JSON.stringify([d.level, d.code, file, d.message.trim()]);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Tests failing on `change` that did not fail on `baseline`. Doc-test names carry their line
 * (`src/lib.rs - add (line 3)`), which a patch may move, so they are compared without it and counted.
 */
export function newFailures(
  baseline: Pick<TestReport, 'failed'> | TestFailure[],
  change: Pick<TestReport, 'failed'> | TestFailure[],
): TestFailure[] {
  const baseFailed = Array.isArray(baseline) ? baseline : baseline.failed;
  const changeFailed = Array.isArray(change) ? change : change.failed;
  const counts = new Map<string, number>();
  for (const f of baseFailed) {
    const key = stableTestName(f.name);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const fresh: TestFailure[] = [];
  for (const f of changeFailed) {
    const key = stableTestName(f.name);
    const left = counts.get(key) ?? 0;
    if (left > 0) counts.set(key, left - 1);
    else fresh.push(f);
  }
  return fresh;
}

/** A test's name without the parts that move when code moves (doc tests' `(line N)`). */
export function stableTestName(name: string): string {
  return name.replace(/ \(line \d+\)/g, '');
}

/**
 * A LineMap from a unified diff (git or GNU format): lines outside hunks shift by the hunks
 * above them, lines a hunk added map to null, renamed files map to their old path.
 */
export function lineMapFromDiff(diff: string): LineMap {
  type FileMap = {
    oldPath: string;
    hunks: { oldStart: number; newStart: number; newCount: number; map: Map<number, number | null>; delta: number }[];
  };
  const files = new Map<string, FileMap>();
  const lines = diff.replace(/\r\n?/g, '\n').split('\n');
  let current: FileMap | null = null;
  let oldPath = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      oldPath = diffPath(line.slice(4));
      const newPath = diffPath(lines[i + 1].slice(4));
      const prefixed = (oldPath === '/dev/null' || /^a\//.test(oldPath)) && (newPath === '/dev/null' || /^b\//.test(newPath));
      const strip = (p: string) => (prefixed ? p.slice(2) : p);
      current = { oldPath: oldPath === '/dev/null' ? '/dev/null' : strip(oldPath), hunks: [] };
      if (newPath !== '/dev/null') files.set(strip(newPath), current);
      i++;
      continue;
    }
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk && current) {
      const oldStart = Number(hunk[1]);
      const oldCount = hunk[2] === undefined ? 1 : Number(hunk[2]);
      const newStart = Number(hunk[3]);
      const newCount = hunk[4] === undefined ? 1 : Number(hunk[4]);
      const map = new Map<number, number | null>();
      // A zero-length side starts one line earlier in the header (`@@ -0,0 +1,3 @@`).
      let o = oldCount === 0 ? oldStart + 1 : oldStart;
      let n = newCount === 0 ? newStart + 1 : newStart;
      let seenOld = 0;
      let seenNew = 0;
      while (i + 1 < lines.length && (seenOld < oldCount || seenNew < newCount)) {
        const body = lines[i + 1];
        const tag = body[0];
        if (tag === ' ' || body === '') {
          map.set(n++, o++);
          seenOld++;
          seenNew++;
        } else if (tag === '-') {
          o++;
          seenOld++;
        } else if (tag === '+') {
          map.set(n++, null);
          seenNew++;
        } else if (tag !== '\\') break;
        i++;
      }
      current.hunks.push({ oldStart, newStart: newCount === 0 ? newStart + 1 : newStart, newCount, map, delta: oldCount - newCount });
    }
  }

  return (file, line) => {
    const entry = files.get(file);
    if (!entry) return { file, line };
    if (entry.oldPath === '/dev/null') return null;
    let shift = 0;
    for (const h of entry.hunks) {
      if (line < h.newStart) break;
      if (line < h.newStart + h.newCount) {
        const old = h.map.get(line);
        return old == null ? null : { file: entry.oldPath, line: old };
      }
      shift += h.delta;
    }
    return { file: entry.oldPath, line: line + shift };
  };
}

function diffPath(raw: string): string {
  let p = raw.split('\t')[0].trim();
  if (p.startsWith('"') && p.endsWith('"')) p = p.slice(1, -1);
  return p;
}

/** How the tests of the change's run relate to those of a reference run (the base's). */
export interface TestComparison {
  /** Failed on the reference, ran and passed on the change. */
  fixed: string[];
  /**
   * Ran on the reference (passed or failed) and did not run on the change: deleted, renamed away,
   * ignored or skipped. A gone test is never evidence that the change fixed anything.
   */
  gone: string[];
  /** Failed on both with the same failure. */
  stillFailing: string[];
  /** Failed on both, but the failure reads differently under the change: the change did something to it. */
  changedFailures: { name: string; base: string; change: string }[];
}

/**
 * Compares two runs test by test (doc tests without their moving `(line N)`). A test counts as run
 * only when it passed or failed; one the change's run lists as ignored or skipped has not run.
 */
export function compareTestRuns(
  reference: Pick<TestReport, 'passed' | 'failed'>,
  change: Pick<TestReport, 'passed' | 'failed'>,
): TestComparison {
  const changePassed = new Set(change.passed.map(stableTestName));
  const changeFailed = new Map(change.failed.map((f) => [stableTestName(f.name), f] as const));
  const comparison: TestComparison = { fixed: [], gone: [], stillFailing: [], changedFailures: [] };
  for (const f of reference.failed) {
    const key = stableTestName(f.name);
    const now = changeFailed.get(key);
    if (now) {
      if (sameFailure(f.output, now.output)) comparison.stillFailing.push(f.name);
      else comparison.changedFailures.push({ name: now.name, base: f.output, change: now.output });
    } else if (changePassed.has(key)) comparison.fixed.push(f.name);
    else comparison.gone.push(f.name);
  }
  for (const name of reference.passed) {
    const key = stableTestName(name);
    if (!changePassed.has(key) && !changeFailed.has(key)) comparison.gone.push(name);
  }
  return comparison;
}

/**
 * Whether two failure outputs tell the same story: compared without what moves when code moves or
 * varies run to run (source locations, line numbers, addresses, durations).
 */
export function sameFailure(a: string, b: string): boolean {
  return normalizeFailure(a) === normalizeFailure(b);
}

function normalizeFailure(text: string): string {
  return (
    text
      .replace(/(\.[A-Za-z]{1,4}):\d+(?::\d+)?/g, '$1')
      // Code frames of jest and vitest number their lines (`> 9 |     expect(…)`).
      .replace(/^\s*>?\s*\d+\s*\|/gm, '|')
      .replace(/\(line \d+\)/g, '(line)')
      .replace(/\b0x[0-9a-f]+\b/gi, '0x')
      .replace(/\b\d+(?:\.\d+)?\s?(?:ms|s)\b/g, '')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/**
 * A test's verdict, base against head: `fixed` (failed on the base, passes), `still_failing` (fails
 * on both), `regressed` (passed on the base, fails), `flaky` (its result flipped when run again, so
 * neither blamed nor counted passing), `new` (did not run on the base), `passed` (passes on both),
 * `gone` (ran on the base, not with the change).
 */
export type TestVerdictKind = 'fixed' | 'still_failing' | 'regressed' | 'flaky' | 'new' | 'passed' | 'gone';

export interface TestVerdict {
  name: string;
  verdict: TestVerdictKind;
  /** The test's result on the base and with the change (null: it did not run there). */
  base: 'passed' | 'failed' | null;
  head: 'passed' | 'failed' | null;
}

/** The order a reviewer reads verdicts in: what the change did first, then what it left as it was. */
export const VERDICT_ORDER: readonly TestVerdictKind[] = ['fixed', 'regressed', 'flaky', 'new', 'still_failing', 'gone', 'passed'];

/** Every test that ran on the base or the head, with its verdict, in VERDICT_ORDER then name order. */
export function testVerdicts(
  base: Pick<TestReport, 'passed' | 'failed'>,
  head: Pick<TestReport, 'passed' | 'failed'>,
  flaky: readonly string[] = [],
): TestVerdict[] {
  const result = new Map<string, { name: string; base: TestVerdict['base']; head: TestVerdict['head'] }>();
  const note = (name: string, side: 'base' | 'head', value: 'passed' | 'failed') => {
    const key = stableTestName(name);
    const entry = result.get(key) ?? { name, base: null, head: null };
    // A failure wins over a pass of the same name (a parametrized case reported twice).
    if (entry[side] !== 'failed') entry[side] = value;
    if (side === 'head') entry.name = name;
    result.set(key, entry);
  };
  for (const name of base.passed) note(name, 'base', 'passed');
  for (const f of base.failed) note(f.name, 'base', 'failed');
  for (const name of head.passed) note(name, 'head', 'passed');
  for (const f of head.failed) note(f.name, 'head', 'failed');
  const flakyKeys = new Set(flaky.map(stableTestName));
  const verdicts: TestVerdict[] = [];
  for (const [key, e] of result) {
    let verdict: TestVerdictKind;
    if (flakyKeys.has(key)) verdict = 'flaky';
    else if (e.base === null) verdict = 'new';
    else if (e.head === null) verdict = 'gone';
    else if (e.base === 'failed') verdict = e.head === 'passed' ? 'fixed' : 'still_failing';
    else verdict = e.head === 'passed' ? 'passed' : 'regressed';
    verdicts.push({ name: e.name, verdict, base: e.base, head: e.head });
  }
  for (const name of flaky) {
    if (!result.has(stableTestName(name))) verdicts.push({ name, verdict: 'flaky', base: 'passed', head: 'failed' });
  }
  const rank = (v: TestVerdict) => VERDICT_ORDER.indexOf(v.verdict);
  return verdicts.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
