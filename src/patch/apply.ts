// The layered applier, pure on text. Every hunk is located against the ORIGINAL file (so hunks out of
// order need no offset bookkeeping), by the strictest layer that finds it: exact at the stated line,
// exact elsewhere (offset), equal modulo whitespace, then fuzzy. A hunk found nowhere, or in more than
// one place with nothing to tell them apart, fails the whole patch: a wrong guess is worse than a
// refusal, because the repair loop can fix a refusal and nobody notices a misapplied hunk.
import { type FilePatch, type Hunk, type ParsedPatch, PatchParseError, filePatchPath, parsePatch } from './parse.js';
import { checkRepoPath } from './paths.js';
import { LineIndex, bigrams, normalizeWs } from './similarity.js';

export type HunkStrategy = 'exact' | 'offset' | 'whitespace' | 'fuzzy';

/** Mean line similarity a fuzzy match needs (1 = identical modulo whitespace). */
export const FUZZY_THRESHOLD = 0.75;
/** How much better than the runner-up a fuzzy match must be. */
export const FUZZY_MARGIN = 0.15;
/** Context lines that may be stale in a fuzzy match: this share of the context, and at least one. */
export const FUZZY_STALE_SHARE = 1 / 3;

const STRATEGY_RANK: Record<HunkStrategy, number> = { exact: 0, offset: 1, whitespace: 2, fuzzy: 3 };

export interface Closest {
  /** 1-based line of the original file where the closest window starts. */
  line: number;
  /** Mean line similarity of that window, 0..1. */
  similarity: number;
}

export interface HunkOutcome {
  file: string;
  /** 1-based index of the hunk within its file, in patch order. */
  index: number;
  header: string;
  status: 'applied' | 'failed';
  strategy: HunkStrategy | null;
  /** Lines between the stated start and where the hunk applied; null when failed. */
  offset: number | null;
  /** 1-based line of the original file where the hunk's old side starts. */
  line: number | null;
}

export type FailureKind =
  'parse' | 'path' | 'missing-file' | 'file-exists' | 'binary' | 'no-context' | 'not-found' | 'ambiguous' | 'overlap' | 'delete-mismatch';

export interface PatchFailure {
  kind: FailureKind;
  file: string | null;
  hunk: number | null;
  header: string | null;
  message: string;
  closest: Closest | null;
  /** The hunk's old side (what the patch expected to find). */
  expected: string[];
  /** Numbered lines of the real file around the closest match (or the candidates). */
  excerpt: string[];
}

export interface FileChange {
  /** Where the content goes (the new path; the old path for a deletion). */
  path: string;
  /** Set for a rename: this path is removed. */
  renamedFrom: string | null;
  /** New content; null deletes the file. */
  content: string | null;
  created: boolean;
  /** Octal mode to set, e.g. '100755', when the patch says so. */
  mode: string | null;
}

export interface TextApplyResult {
  ok: boolean;
  /** One entry per touched path, in patch order; empty when the patch failed. */
  changes: FileChange[];
  hunks: HunkOutcome[];
  /** The loosest layer any hunk needed; null when nothing applied. */
  strategy: HunkStrategy | null;
  failure: PatchFailure | null;
}

interface FileText {
  texts: string[];
  eols: string[];
}

interface Placement {
  hunk: Hunk;
  pos: number;
  strategy: HunkStrategy;
  offset: number;
}

class HunkFailure extends Error {
  constructor(
    readonly failure: PatchFailure,
    /** Per-hunk outcomes of the file, when the hunks were located one by one. */
    readonly outcomes: HunkOutcome[] | null = null,
  ) {
    super(failure.message);
  }
}

/**
 * Apply a unified diff to file texts. `readFile` gives a file's current text, or null when it does
 * not exist. Nothing is written: the result lists the new contents, all or (on any failure) nothing.
 */
export function applyPatchToFiles(patch: string | ParsedPatch, readFile: (path: string) => string | null): TextApplyResult {
  let parsed: ParsedPatch;
  try {
    parsed = typeof patch === 'string' ? parsePatch(patch) : patch;
  } catch (err) {
    if (!(err instanceof PatchParseError)) throw err;
    return fail([], {
      kind: 'parse',
      file: err.file,
      hunk: err.hunk,
      header: null,
      message: err.message,
      closest: null,
      expected: [],
      excerpt: [],
    });
  }

  // Later sections of the same patch see earlier ones' results (an LLM may split one file's edits).
  const state = new Map<string, string | null>();
  const read = (p: string): string | null => (state.has(p) ? (state.get(p) as string | null) : readFile(p));
  const outcomes: HunkOutcome[] = [];
  const changes = new Map<string, FileChange>();
  let loosest: HunkStrategy | null = null;
  let failure: PatchFailure | null = null;

  for (const fp of parsed.files) {
    const name = filePatchPath(fp);
    const pending = fp.hunks.map((h) => pendingOutcome(name, h));
    try {
      for (const p of [fp.oldPath, fp.newPath]) {
        if (p === null) continue;
        const verdict = checkRepoPath(p);
        if (!verdict.ok) throw new HunkFailure(simpleFailure('path', p, `refused path ${JSON.stringify(p)}: ${verdict.reason}`));
      }
      if (fp.isBinary) throw new HunkFailure(simpleFailure('binary', name, `${name}: binary patches cannot be applied as text`));
      const result = applyFilePatch(fp, read);
      outcomes.push(...result.outcomes);
      for (const o of result.outcomes) {
        if (o.strategy && (loosest === null || STRATEGY_RANK[o.strategy] > STRATEGY_RANK[loosest])) loosest = o.strategy;
      }
      if (result.change.renamedFrom) {
        state.set(result.change.renamedFrom, null);
        changes.set(result.change.renamedFrom, {
          path: result.change.renamedFrom,
          renamedFrom: null,
          content: null,
          created: false,
          mode: null,
        });
      }
      const prior = changes.get(result.change.path);
      state.set(result.change.path, result.change.content);
      changes.set(
        result.change.path,
        prior ? { ...result.change, created: prior.created && result.change.content !== null } : result.change,
      );
    } catch (err) {
      if (!(err instanceof HunkFailure)) throw err;
      failure ??= err.failure;
      outcomes.push(...(err.outcomes ?? pending));
    }
  }
  if (failure) return { ok: false, changes: [], hunks: outcomes, strategy: null, failure };
  // A rename target that is also deleted later, etc.: the map keeps the last word per path.
  const list = [...changes.values()].filter((c) => c.renamedFrom === null || changes.get(c.renamedFrom)?.content === null);
  return { ok: true, changes: list, hunks: outcomes, strategy: loosest, failure: null };
}

function fail(hunks: HunkOutcome[], failure: PatchFailure): TextApplyResult {
  return { ok: false, changes: [], hunks, strategy: null, failure };
}

function pendingOutcome(file: string, h: Hunk): HunkOutcome {
  return { file, index: h.index, header: h.header, status: 'failed', strategy: null, offset: null, line: null };
}

function simpleFailure(kind: FailureKind, file: string, message: string, hunk?: Hunk): PatchFailure {
  return {
    kind,
    file,
    hunk: hunk?.index ?? null,
    header: hunk?.header ?? null,
    message,
    closest: null,
    expected: hunk ? oldSide(hunk) : [],
    excerpt: [],
  };
}

function applyFilePatch(fp: FilePatch, read: (p: string) => string | null): { change: FileChange; outcomes: HunkOutcome[] } {
  const name = filePatchPath(fp);
  const pureAddition = fp.hunks.length > 0 && fp.hunks.every((h) => h.lines.every((l) => l.kind === '+'));
  const sourcePath = fp.oldPath ?? fp.newPath!;
  if (fp.wholeContent !== undefined) return wholeFile(fp, sourcePath, read(sourcePath));
  const original = fp.isNew ? null : read(sourcePath);

  if (fp.isNew || (original === null && pureAddition)) {
    const existing = read(fp.newPath ?? sourcePath);
    if (existing !== null && existing !== '') {
      throw new HunkFailure(simpleFailure('file-exists', name, `${name}: the patch creates this file but it already exists`));
    }
    for (const h of fp.hunks) {
      if (h.lines.some((l) => l.kind !== '+')) {
        throw new HunkFailure(simpleFailure('missing-file', name, `${name}: ${hunkName(h)} of a new file has context or removed lines`, h));
      }
    }
    const added = fp.hunks.flatMap((h) => h.lines);
    const last = fp.hunks[fp.hunks.length - 1];
    const useCr = added.some((l) => l.cr);
    const content = added
      .map((l, k) => l.text + (k === added.length - 1 && last?.noNewlineNew ? '' : useCr && l.cr ? '\r\n' : '\n'))
      .join('');
    const outcomes = fp.hunks.map((h) => ({
      ...pendingOutcome(name, h),
      status: 'applied' as const,
      strategy: 'exact' as const,
      offset: 0,
      line: 0,
    }));
    return { change: { path: fp.newPath ?? sourcePath, renamedFrom: null, content, created: true, mode: fp.newMode }, outcomes };
  }
  if (original === null) {
    throw new HunkFailure(
      simpleFailure('missing-file', name, `${sourcePath}: the patch changes this file but it does not exist`, fp.hunks[0]),
    );
  }
  if (fp.isRename && fp.newPath !== null && fp.oldPath !== fp.newPath && read(fp.newPath) !== null) {
    throw new HunkFailure(simpleFailure('file-exists', name, `${fp.newPath}: the patch renames ${fp.oldPath} to it but it already exists`));
  }

  const file = splitText(original);
  const placements = locateHunks(name, fp.hunks, file);
  const outcomes: HunkOutcome[] = fp.hunks.map((h) => {
    const p = placements.find((x) => x.hunk === h)!;
    return { file: name, index: h.index, header: h.header, status: 'applied', strategy: p.strategy, offset: p.offset, line: p.pos + 1 };
  });
  const text = renderFile(name, file, placements, fp);

  if (fp.isDeleted) {
    if (fp.hunks.length > 0 && text !== '') {
      throw new HunkFailure({
        ...simpleFailure(
          'delete-mismatch',
          name,
          `${name}: the patch deletes this file but its hunks do not remove all of it (${splitText(text).texts.length} lines would remain)`,
        ),
        excerpt: numbered(splitText(text).texts, 0, Math.min(5, splitText(text).texts.length)),
      });
    }
    return { change: { path: sourcePath, renamedFrom: null, content: null, created: false, mode: null }, outcomes };
  }
  const target = fp.newPath ?? sourcePath;
  const renamedFrom = fp.oldPath !== null && fp.oldPath !== target ? fp.oldPath : null;
  return { change: { path: target, renamedFrom, content: text, created: renamedFrom !== null, mode: fp.newMode }, outcomes };
}

/**
 * A whole new content: the file's own line ends are kept (a CRLF file stays CRLF), and so is a
 * missing final newline (a fenced block cannot say whether its last line ends).
 */
function wholeFile(fp: FilePatch, target: string, original: string | null): { change: FileChange; outcomes: HunkOutcome[] } {
  let content = fp.wholeContent!.replace(/\r\n/g, '\n');
  if (original !== null && original !== '' && !original.endsWith('\n')) content = content.replace(/\n$/, '');
  if (original !== null) {
    const eols = splitText(original).eols;
    if (eols.filter((e) => e === '\r\n').length * 2 > eols.filter((e) => e !== '').length) content = content.replace(/\n/g, '\r\n');
  }
  return { change: { path: target, renamedFrom: null, content, created: original === null, mode: fp.newMode }, outcomes: [] };
}

/** How messages name a hunk: the edit format's own name for it when it has one. */
function hunkName(h: Hunk): string {
  return h.label ?? `hunk #${h.index} (${h.header})`;
}

export function splitText(s: string): FileText {
  const texts: string[] = [];
  const eols: string[] = [];
  if (s === '') return { texts, eols };
  const parts = s.split('\n');
  const endsWithNl = s.endsWith('\n');
  if (endsWithNl) parts.pop();
  parts.forEach((p, k) => {
    const last = k === parts.length - 1;
    if (last && !endsWithNl) {
      texts.push(p);
      eols.push('');
    } else if (p.endsWith('\r')) {
      texts.push(p.slice(0, -1));
      eols.push('\r\n');
    } else {
      texts.push(p);
      eols.push('\n');
    }
  });
  return { texts, eols };
}

function oldSide(h: Hunk): string[] {
  return h.lines.filter((l) => l.kind !== '+').map((l) => l.text);
}

/** 0-based index where the hunk's old side starts according to its header, if it says. */
function statedPos(h: Hunk): number | null {
  if (h.oldStart === null) return null;
  return Math.max(0, h.oldStart - 1);
}

interface Located {
  hunk: Hunk;
  old: string[];
  stated: number | null;
  placement: Placement | null;
  /** Candidates at the strictest layer that found any, when more than one. */
  candidates: number[];
  candidateStrategy: HunkStrategy | null;
  /** The failure to report if the candidates stay ambiguous. */
  pendingFailure?: PatchFailure;
}

function locateHunks(name: string, hunks: Hunk[], file: FileText): Placement[] {
  const index = new LineIndex(file.texts);
  let firstFailure: PatchFailure | null = null;
  const failedHunks = new Set<Hunk>();
  const located: Located[] = hunks.map((h) => {
    try {
      return locateOne(name, h, file, index);
    } catch (err) {
      if (!(err instanceof HunkFailure)) throw err;
      firstFailure ??= err.failure;
      failedHunks.add(h);
      return { hunk: h, old: oldSide(h), stated: statedPos(h), placement: null, candidates: [], candidateStrategy: null };
    }
  });

  // Ambiguous hunks: a place that the resolved hunks' own offset predicts, the only candidate not
  // taken by another hunk, or the only one left between its resolved neighbours settles it.
  // Anything else stays ambiguous and fails. Each settled hunk may settle others: loop to a fixpoint.
  // Two rounds: the stated line is the weakest evidence, used only once nothing else is left.
  for (const trustStated of [false, true]) {
    for (let progress = true; progress;) {
      progress = false;
      for (const loc of located) {
        if (loc.placement || failedHunks.has(loc.hunk)) continue;
        const pick = settle(loc, located, file.texts.length, trustStated);
        if (pick === null) continue;
        const offset = loc.stated === null ? 0 : pick - loc.stated;
        const strategy = loc.candidateStrategy === 'exact' && offset !== 0 ? 'offset' : loc.candidateStrategy!;
        loc.placement = { hunk: loc.hunk, pos: pick, strategy, offset };
        progress = true;
      }
    }
  }
  for (const loc of located) {
    if (loc.placement || failedHunks.has(loc.hunk)) continue;
    const h = loc.hunk;
    const lines = loc.candidates.slice(0, 6).map((c) => c + 1);
    failedHunks.add(h);
    firstFailure ??= loc.pendingFailure ?? {
      kind: 'ambiguous',
      file: name,
      hunk: h.index,
      header: h.header,
      message: `${name}: ${hunkName(h)} matches ${loc.candidates.length} places (lines ${lines.join(', ')}${loc.candidates.length > 6 ? ', …' : ''}); add context lines that make it unique`,
      closest: { line: loc.candidates[0] + 1, similarity: 1 },
      expected: loc.old,
      excerpt: loc.candidates
        .slice(0, 3)
        .flatMap((c, k) => [...(k > 0 ? ['…'] : []), ...numbered(file.texts, c - 1, c + loc.old.length + 1)]),
    };
  }

  const placements = located.filter((l) => l.placement).map((l) => l.placement!);
  placements.sort((a, b) => a.pos - b.pos || a.hunk.index - b.hunk.index);
  for (let k = 1; k < placements.length && !firstFailure; k++) {
    const a = placements[k - 1];
    const b = placements[k];
    const aLen = oldSide(a.hunk).length;
    if (a.pos + aLen > b.pos || (aLen === 0 && a.pos === b.pos)) {
      failedHunks.add(b.hunk);
      firstFailure = {
        kind: 'overlap',
        file: name,
        hunk: b.hunk.index,
        header: b.hunk.header,
        message: `${name}: hunks #${a.hunk.index} and #${b.hunk.index} both change lines around ${b.pos + 1}`,
        closest: { line: b.pos + 1, similarity: 1 },
        expected: oldSide(b.hunk),
        excerpt: numbered(file.texts, a.pos - 1, b.pos + oldSide(b.hunk).length + 1),
      };
    }
  }
  if (firstFailure) {
    const outcomes = located.map((l): HunkOutcome => {
      const ok = l.placement !== null && !failedHunks.has(l.hunk);
      return {
        file: name,
        index: l.hunk.index,
        header: l.hunk.header,
        status: ok ? 'applied' : 'failed',
        strategy: ok ? l.placement!.strategy : null,
        offset: ok ? l.placement!.offset : null,
        line: ok ? l.placement!.pos + 1 : null,
      };
    });
    throw new HunkFailure(firstFailure, outcomes);
  }
  return placements;
}

function settle(loc: Located, all: Located[], fileLength: number, trustStated: boolean): number | null {
  const resolved = all.filter((l) => l.placement);
  const free = loc.candidates.filter((c) => !resolved.some((r) => overlaps(c, loc.old.length, r.placement!.pos, r.old.length)));
  if (free.length === 1) return free[0];
  // Diff tools give every hunk the same context on both sides unless the file ends (or starts)
  // there: a hunk that changes its last (first) lines with context only before (after) is at EOF (BOF).
  const lines = loc.hunk.lines;
  const lead = lines.findIndex((l) => l.kind !== ' ');
  const trail = lines.length - 1 - findLastIndex(lines, (l) => l.kind !== ' ');
  if (trail === 0 && lead > 0) {
    const atEnd = free.filter((c) => c + loc.old.length === fileLength);
    if (atEnd.length === 1) return atEnd[0];
  }
  if (lead === 0 && trail > 0 && free.includes(0)) return 0;
  if (loc.stated !== null) {
    const anchors = resolved.filter((r) => r.stated !== null);
    if (anchors.length > 0) {
      const nearest = anchors.reduce((a, b) => (Math.abs(b.stated! - loc.stated!) < Math.abs(a.stated! - loc.stated!) ? b : a));
      const predicted = loc.stated + (nearest.placement!.pos - nearest.stated!);
      if (free.includes(predicted)) return predicted;
    }
  }
  const between = pickBetweenNeighbours(loc, all, free);
  if (between !== null) return between;
  return trustStated && loc.stated !== null && loc.candidateStrategy !== 'fuzzy' && free.includes(loc.stated) ? loc.stated : null;
}

/**
 * With every hunk's stated start known, hunks keep their stated order in the file: an ambiguous
 * hunk must lie between the resolved hunks stated before and after it — but only while the resolved
 * hunks themselves agree with that order.
 */
function pickBetweenNeighbours(loc: Located, all: Located[], free: number[]): number | null {
  if (loc.stated === null || all.some((l) => l.stated === null)) return null;
  const resolved = all.filter((l) => l.placement).sort((a, b) => a.stated! - b.stated!);
  for (let k = 1; k < resolved.length; k++) if (resolved[k].placement!.pos < resolved[k - 1].placement!.pos) return null;
  const before = resolved.filter((r) => r.stated! < loc.stated!).pop();
  const after = resolved.find((r) => r.stated! > loc.stated!);
  if (!before && !after) return null;
  const lo = before ? before.placement!.pos + before.old.length : 0;
  const hi = after ? after.placement!.pos : Number.MAX_SAFE_INTEGER;
  const inside = free.filter((c) => c >= lo && c + loc.old.length <= hi);
  return inside.length === 1 ? inside[0] : null;
}

function findLastIndex<T>(list: T[], ok: (x: T) => boolean): number {
  for (let k = list.length - 1; k >= 0; k--) if (ok(list[k])) return k;
  return -1;
}

function overlaps(a: number, aLen: number, b: number, bLen: number): boolean {
  return a < b + Math.max(bLen, 1) && b < a + Math.max(aLen, 1);
}

function locateOne(name: string, h: Hunk, file: FileText, index: LineIndex): Located {
  const old = oldSide(h);
  const stated = statedPos(h);
  const base: Located = { hunk: h, old, stated, placement: null, candidates: [], candidateStrategy: null };
  const place = (pos: number, strategy: HunkStrategy): Located => ({
    ...base,
    placement: { hunk: h, pos, strategy, offset: stated === null ? 0 : pos - stated },
  });
  const n = old.length;
  const N = file.texts.length;
  if (h.unique) return place(...locateUnique(name, h, file, index));

  if (n === 0) {
    // Nothing to check the place against: only an empty file leaves no doubt.
    if (N === 0) return place(0, 'exact');
    throw new HunkFailure({
      ...simpleFailure(
        'no-context',
        name,
        `${name}: ${hunkName(h)} only adds lines and has no context line to find its place; include a few unchanged lines around it`,
        h,
      ),
    });
  }

  // Layer: exact.
  const exact = positionsWhere(n, N, index.positionsOf(normalizeWs(old[0])), (p) => old.every((t, k) => file.texts[p + k] === t));
  // Several exact places: the stated line alone does not settle it (LLM line numbers are often off
  // and may land on a look-alike); the other hunks and the file's ends are asked first (settle()).
  if (exact.length === 1) return place(exact[0], stated === null || exact[0] === stated ? 'exact' : 'offset');
  if (exact.length > 1) return { ...base, candidates: byDistance(exact, stated), candidateStrategy: 'exact' };

  // Layer: whitespace (indentation, trailing blanks, tabs vs spaces).
  const oldNorm = old.map(normalizeWs);
  const ws = positionsWhere(n, N, index.positionsOf(oldNorm[0]), (p) => oldNorm.every((t, k) => index.norm[p + k] === t));
  if (ws.length === 1) return place(ws[0], 'whitespace');
  if (ws.length > 1) return { ...base, candidates: byDistance(ws, stated), candidateStrategy: 'whitespace' };

  // Layer: fuzzy.
  const fuzzy = fuzzyLocate(h, oldNorm, index, N, stated);
  if (fuzzy.accepted !== null) return place(fuzzy.accepted, 'fuzzy');
  const closest = fuzzy.closest ?? scanClosest(oldNorm, index, N);
  const why =
    fuzzy.reason ??
    (closest ? `its context and removed lines are not in the file` : `the file has fewer lines (${N}) than the hunk expects (${n})`);
  const failure: PatchFailure = {
    kind: fuzzy.contenders.length > 1 ? 'ambiguous' : 'not-found',
    file: name,
    hunk: h.index,
    header: h.header,
    message:
      `${name}: ${hunkName(h)} does not apply: ${why}` +
      (closest ? `; closest at line ${closest.line} (similarity ${Math.round(closest.similarity * 100)}%)` : ''),
    closest,
    expected: old,
    excerpt: closest ? numbered(file.texts, closest.line - 1 - 2, closest.line - 1 + n + 2) : [],
  };
  // Close fuzzy contenders may still be told apart by the other hunks (see locateHunks).
  if (fuzzy.contenders.length > 1) return { ...base, candidates: fuzzy.contenders, candidateStrategy: 'fuzzy', pendingFailure: failure };
  throw new HunkFailure(failure);
}

/**
 * An edit without line numbers (SEARCH/REPLACE, apply_patch) is placed only where it cannot be
 * mistaken: after its anchors, at the one place that has its text exactly, or else the one place that
 * has it modulo whitespace, or else the one clear place where only context lines are stale (the fuzzy
 * layer's rules). Two places are ambiguous and refused, never guessed.
 */
function locateUnique(name: string, h: Hunk, file: FileText, index: LineIndex): [number, HunkStrategy] {
  const old = oldSide(h);
  const n = old.length;
  const N = file.texts.length;
  // Where the anchors put the chunk: at or after the last anchor's line (models often repeat the
  // anchor as the chunk's first context line). Each anchor is looked for after the one before it.
  let floor = 0;
  let from = 0;
  let ambiguousAnchor: { anchor: string; hits: number[] } | null = null;
  const anchorFailure = (a: { anchor: string; hits: number[] }): HunkFailure =>
    new HunkFailure({
      ...simpleFailure(
        'ambiguous',
        name,
        `${name}: ${hunkName(h)}: its anchor "@@ ${a.anchor.trim()}" is found ${a.hits.length} times (lines ${a.hits
          .slice(0, 6)
          .map((p) => p + 1)
          .join(', ')})`,
        h,
      ),
      excerpt: a.hits.slice(0, 3).flatMap((p, k) => [...(k > 0 ? ['…'] : []), ...numbered(file.texts, p - 1, p + 2)]),
    });
  for (const anchor of h.anchors ?? []) {
    const want = normalizeWs(anchor);
    let hits = index.positionsOf(want).filter((p) => p >= from);
    // `@@ def total` for `def total(self):`: a line that contains the anchor, when none equals it.
    if (hits.length === 0 && want.length >= 4) hits = index.norm.flatMap((t, p) => (p >= from && t.includes(want) ? [p] : []));
    // An anchor found more than once (`try {`, `impl Foo {`) still places the chunk when its text
    // is found exactly once after the first of them; that is checked below, else it is refused here.
    if (hits.length > 1 && !ambiguousAnchor) {
      ambiguousAnchor = { anchor, hits };
      floor = hits[0];
      from = hits[0] + 1;
      continue;
    }
    if (hits.length !== 1) {
      const where =
        hits.length === 0
          ? 'is not in the file'
          : `is found ${hits.length} times (lines ${hits
              .slice(0, 6)
              .map((p) => p + 1)
              .join(', ')})`;
      throw new HunkFailure({
        ...simpleFailure(
          hits.length === 0 ? 'not-found' : 'ambiguous',
          name,
          `${name}: ${hunkName(h)}: its anchor "@@ ${anchor.trim()}" ${where}`,
          h,
        ),
        excerpt: hits.slice(0, 3).flatMap((p, k) => [...(k > 0 ? ['…'] : []), ...numbered(file.texts, p - 1, p + 2)]),
      });
    }
    floor = hits[0];
    from = hits[0] + 1;
  }
  // Only added lines: right after the anchor, else at the end of the file.
  if (n === 0) {
    if (ambiguousAnchor) throw anchorFailure(ambiguousAnchor);
    return [h.anchors?.length ? from : N, 'exact'];
  }
  const after = (list: number[]): number[] => list.filter((p) => p >= floor);
  const exact = after(positionsWhere(n, N, index.positionsOf(normalizeWs(old[0])), (p) => old.every((t, k) => file.texts[p + k] === t)));
  const oldNorm = old.map(normalizeWs);
  const found: [number[], HunkStrategy] =
    exact.length > 0
      ? [exact, 'exact']
      : [after(positionsWhere(n, N, index.positionsOf(oldNorm[0]), (p) => oldNorm.every((t, k) => index.norm[p + k] === t))), 'whitespace'];
  const [places, strategy] = found;
  if (places.length === 1) return [places[0], strategy];
  if (ambiguousAnchor) throw anchorFailure(ambiguousAnchor);
  if (places.length > 1) {
    throw new HunkFailure({
      kind: 'ambiguous',
      file: name,
      hunk: h.index,
      header: h.header,
      message: `${name}: ${hunkName(h)} is ambiguous: its text is found ${places.length} times (lines ${places
        .slice(0, 6)
        .map((p) => p + 1)
        .join(', ')}); include more lines so it matches exactly one place`,
      closest: { line: places[0] + 1, similarity: 1 },
      expected: old,
      excerpt: places.slice(0, 3).flatMap((c, k) => [...(k > 0 ? ['…'] : []), ...numbered(file.texts, c - 1, c + n + 1)]),
    });
  }
  // A stale context line (the model remembered an older version of it): the fuzzy layer's rules
  // (every removed line intact, stale lines only among the context, anchored by substantial exact
  // lines, a clear margin over any other place), and only after the anchors; two close places are
  // refused like two exact ones.
  const fuzzy = fuzzyLocate(h, oldNorm, index, N, null, floor);
  if (fuzzy.accepted !== null) return [fuzzy.accepted, 'fuzzy'];
  const closest = fuzzy.closest ?? scanClosest(oldNorm, index, N);
  throw new HunkFailure({
    kind: fuzzy.contenders.length > 1 ? 'ambiguous' : 'not-found',
    file: name,
    hunk: h.index,
    header: h.header,
    message:
      `${name}: ${hunkName(h)} does not apply: ${fuzzy.contenders.length > 1 && fuzzy.reason ? fuzzy.reason : 'its text is not in the file (not even modulo whitespace)'}` +
      (closest ? `; closest at line ${closest.line} (similarity ${Math.round(closest.similarity * 100)}%)` : ''),
    closest,
    expected: old,
    // A file shorter than the text has no window to compare: its first lines are the region.
    excerpt: closest ? numbered(file.texts, closest.line - 1 - 2, closest.line - 1 + n + 2) : numbered(file.texts, 0, n + 2),
  });
}

/** Start positions whose first line is one of `firstHits` and that satisfy `ok`. */
function positionsWhere(n: number, N: number, firstHits: readonly number[], ok: (p: number) => boolean): number[] {
  const out: number[] = [];
  for (const p of firstHits) if (p + n <= N && ok(p)) out.push(p);
  return out;
}

function byDistance(list: number[], stated: number | null): number[] {
  return stated === null ? list : [...list].sort((a, b) => Math.abs(a - stated) - Math.abs(b - stated) || a - b);
}

interface FuzzyResult {
  accepted: number | null;
  /** Good-enough places too close to call on their own, best first. */
  contenders: number[];
  closest: Closest | null;
  reason: string | null;
}

interface Scored {
  pos: number;
  score: number;
  /** Lines equal modulo whitespace. */
  equal: number;
}

/**
 * Same-length windows where the removed lines are all present (modulo whitespace) and a few
 * context lines may be stale. Candidates come from line votes, so the scan is linear in practice.
 * The best window wins when it beats the runner-up by FUZZY_MARGIN, or when it sits exactly at the
 * stated line, scores higher and has at least as many intact lines as the runner-up (an LLM's
 * line numbers are rarely right, so landing exactly on a near-match is strong evidence).
 */
function fuzzyLocate(h: Hunk, oldNorm: string[], index: LineIndex, N: number, stated: number | null, floor = 0): FuzzyResult {
  const n = oldNorm.length;
  const kinds = h.lines.filter((l) => l.kind !== '+').map((l) => l.kind);
  const contextCount = kinds.filter((k) => k === ' ').length;
  const maxStale = Math.max(1, Math.floor(contextCount * FUZZY_STALE_SHARE));
  const minMatched = Math.max(2, Math.ceil(n / 2));
  const oldGrams = oldNorm.map(bigrams);

  const votes = new Map<number, number>();
  oldNorm.forEach((t, k) => {
    for (const q of index.positionsOf(t)) {
      const p = q - k;
      if (p >= floor && p + n <= N) votes.set(p, (votes.get(p) ?? 0) + 1);
    }
  });

  const plausible: Scored[] = [];
  let closest: Closest | null = null;
  for (const [p, v] of votes) {
    if (v < minMatched) continue;
    let sum = 0;
    let stale = 0;
    let removedOk = true;
    for (let k = 0; k < n; k++) {
      if (index.norm[p + k] === oldNorm[k]) {
        sum += 1;
        continue;
      }
      if (kinds[k] === '-') removedOk = false;
      stale++;
      sum += index.similarity(p + k, oldNorm[k], oldGrams[k]);
    }
    const score = sum / n;
    if (!closest || score > closest.similarity) closest = { line: p + 1, similarity: score };
    // A stale line is only forgiven when enough substantial lines match exactly around it: with
    // just `}` and `a * b` as anchors, `fn divide` "slightly stale" for `fn mul` is another function.
    const anchored = stale === 0 || substantialExact(oldNorm, index, p) >= MIN_FUZZY_ANCHORS;
    if (removedOk && stale <= maxStale && anchored) plausible.push({ pos: p, score, equal: n - stale });
  }
  plausible.sort((a, b) => b.score - a.score || b.equal - a.equal || a.pos - b.pos);
  const [best, second] = plausible;
  if (!best) return { accepted: null, contenders: [], closest, reason: null };
  if (best.score < FUZZY_THRESHOLD) {
    return {
      accepted: null,
      contenders: [],
      closest,
      reason: `the best place (line ${best.pos + 1}) is only ${Math.round(best.score * 100)}% similar (needs ${Math.round(FUZZY_THRESHOLD * 100)}%)`,
    };
  }
  if (
    !second ||
    best.score - second.score >= FUZZY_MARGIN ||
    (best.pos === stated && best.equal >= second.equal && best.score > second.score)
  ) {
    return { accepted: best.pos, contenders: [], closest: { line: best.pos + 1, similarity: best.score }, reason: null };
  }
  const contenders = plausible.filter((c) => c.score >= FUZZY_THRESHOLD && best.score - c.score < FUZZY_MARGIN);
  return {
    accepted: null,
    contenders: contenders.map((c) => c.pos),
    closest: { line: best.pos + 1, similarity: best.score },
    reason: `it fits lines ${best.pos + 1} (${Math.round(best.score * 100)}%) and ${second.pos + 1} (${Math.round(second.score * 100)}%) about equally`,
  };
}

/** Exactly matching lines with enough substance to anchor a fuzzy match (not `}` or `a * b`). */
const MIN_FUZZY_ANCHORS = 2;

function substantialExact(oldNorm: string[], index: LineIndex, p: number): number {
  let count = 0;
  for (let k = 0; k < oldNorm.length; k++) {
    if (index.norm[p + k] === oldNorm[k] && (oldNorm[k].match(/\w/g)?.length ?? 0) >= 4) count++;
  }
  return count;
}

/** The most similar same-length window anywhere, for the error message only. */
function scanClosest(oldNorm: string[], index: LineIndex, N: number): Closest | null {
  const n = oldNorm.length;
  if (N < n || N * n > 4_000_000) return null;
  const oldGrams = oldNorm.map(bigrams);
  let best: Closest | null = null;
  for (let p = 0; p + n <= N; p++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += index.similarity(p + k, oldNorm[k], oldGrams[k]);
    const score = sum / n;
    if (!best || score > best.similarity) best = { line: p + 1, similarity: score };
  }
  return best;
}

/** `  12 | text` lines of the file from `from` (inclusive) to `to` (exclusive), clamped. */
export function numbered(texts: string[], from: number, to: number): string[] {
  const out: string[] = [];
  const end = Math.min(texts.length, to);
  const width = String(end).length;
  for (let k = Math.max(0, from); k < end; k++) out.push(`${String(k + 1).padStart(width)} | ${texts[k]}`);
  return out;
}

function renderFile(name: string, file: FileText, placements: Placement[], fp: FilePatch): string {
  const N = file.texts.length;
  const dominant = file.eols.filter((e) => e === '\r\n').length * 2 > file.eols.filter((e) => e !== '').length ? '\r\n' : '\n';
  // When some body line carries its own \r, line ends in the patch are information; otherwise the
  // file's own convention wins (an LLM never sends \r it meant).
  const perLine = fp.hunks.some((h) => h.lines.some((l) => l.cr));
  const outTexts: string[] = [];
  const outEols: string[] = [];
  let finalNewline: boolean | null = null;
  let cursor = 0;
  for (const pl of placements) {
    for (; cursor < pl.pos; cursor++) {
      outTexts.push(file.texts[cursor]);
      outEols.push(file.eols[cursor]);
    }
    const h = pl.hunk;
    const adjust = pl.strategy === 'whitespace' || pl.strategy === 'fuzzy' ? indentMapper(name, h, file, pl.pos) : null;
    let k = pl.pos;
    for (const [at, l] of h.lines.entries()) {
      if (l.kind === ' ') {
        outTexts.push(file.texts[k]);
        outEols.push(file.eols[k]);
        k++;
      } else if (l.kind === '-') {
        k++;
      } else {
        outTexts.push(adjust ? adjust(l.text, at) : l.text);
        outEols.push(perLine ? (l.cr ? '\r\n' : '\n') : dominant);
      }
    }
    if (k === N && (h.noNewlineNew || h.noNewlineOld)) finalNewline = !h.noNewlineNew;
    cursor = k;
  }
  for (; cursor < N; cursor++) {
    outTexts.push(file.texts[cursor]);
    outEols.push(file.eols[cursor]);
  }
  if (outTexts.length === 0) return '';
  const hadFinal = N === 0 || file.eols[N - 1] !== '';
  const wantFinal = finalNewline ?? hadFinal;
  let s = '';
  for (let k = 0; k < outTexts.length; k++) {
    const last = k === outTexts.length - 1;
    let eol = outEols[k];
    if (last) eol = wantFinal ? eol || dominant : '';
    else if (eol === '') eol = dominant;
    s += outTexts[k] + eol;
  }
  return s;
}

/**
 * The whitespace and fuzzy layers matched lines whose indentation differs from the patch's; the
 * added lines are re-indented the same way so they sit where the file's own code sits.
 */
function indentMapper(name: string, h: Hunk, file: FileText, pos: number): (line: string, at: number) => string {
  const step = indentStep(file.texts);
  const pairs: Array<{ p: string; f: string; at: number }> = [];
  const trailing: boolean[] = [];
  let k = pos;
  h.lines.forEach((l, at) => {
    if (l.kind === '+') return;
    const f = file.texts[k++];
    if (l.text.trim() === '' || normalizeWs(l.text) !== normalizeWs(f)) return;
    pairs.push({ p: indentOf(l.text), f: indentOf(f), at });
    if (/\s$/.test(l.text)) trailing.push(/\s$/.test(f));
  });
  // The patch's matched lines carry trailing blanks the file's lines do not have: the model's
  // transport added them, so its added lines lose them too.
  const stripTrailing = trailing.length > 0 && trailing.every((fileHasToo) => !fileHasToo);
  const usesTabs = pairs.some(({ f }) => f.includes('\t'));
  const deltas = new Set(pairs.map(({ p, f }) => width(f) - width(p)));
  const ratios = new Set(pairs.filter(({ p }) => width(p) > 0).map(({ p, f }) => width(f) / width(p)));
  const zeroOk = pairs.every(({ p, f }) => width(p) > 0 || width(f) === 0);
  return (raw: string, at: number): string => {
    const line = stripTrailing ? raw.trimEnd() : raw;
    if (line.trim() === '' || pairs.length === 0) return line;
    const pl = indentOf(line);
    const rest = line.slice(pl.length);
    // The same patch indentation as a nearby matched line: that line's file indentation. Nearest
    // wins, since a lossy re-indent can map one patch indent to several file indents.
    // A comment continuation (` * `) follows comment lines, code follows code: same first character first.
    const sameIndent = pairs.filter((x) => x.p === pl);
    const sameLead = sameIndent.filter((x) => h.lines[x.at].text.trimStart()[0] === rest[0]);
    const same = sameLead.length > 0 ? sameLead : sameIndent;
    if (same.length > 0) return same.reduce((a, b) => (Math.abs(b.at - at) < Math.abs(a.at - at) ? b : a)).f + rest;
    // Otherwise the one re-indent the matched lines show: a shift (the model dropped the outer
    // indentation) or a scale (it wrote 2-space steps for 4). When the matched lines fit both and
    // they disagree here, the file's own indent step may rule one out; still two, or none at all, and
    // the line would be a guess: refused rather than pasted verbatim at an indentation nobody wrote.
    const options = new Set<number>();
    if (deltas.size === 1) options.add(width(pl) + [...deltas][0]);
    if (ratios.size === 1 && zeroOk) options.add(width(pl) * [...ratios][0]);
    const valid = [...options].filter((w) => w >= 0 && Number.isInteger(w));
    const fits = valid.length > 1 ? valid.filter((w) => w % step === 0) : valid;
    if (fits.length !== 1) {
      throw new HunkFailure({
        ...simpleFailure(
          'ambiguous',
          name,
          `${name}: ${hunkName(h)}: its context matched only after re-indenting, and the added line "${line.trim().slice(0, 60)}" ` +
            (fits.length === 0 ? 'fits no consistent re-indent' : `could go at ${fits.join(' or ')} columns`) +
            '; copy the surrounding lines with their exact indentation',
          h,
        ),
        excerpt: numbered(file.texts, pos - 1, pos + 1 + h.oldCount),
      });
    }
    return render(fits[0], usesTabs) + rest;
  };
}

/** The file's indentation step: the greatest common divisor of its indent widths (comment continuations aside). */
function indentStep(texts: string[]): number {
  let g = 0;
  for (const t of texts) {
    const ind = indentOf(t);
    if (ind.length === 0 || ind.length === t.length || t.trimStart().startsWith('*')) continue;
    let a = width(ind);
    let b = g;
    while (b) [a, b] = [b, a % b];
    g = a;
    if (g === 1) break;
  }
  return Math.max(g, 1);
}

function indentOf(s: string): string {
  return /^[ \t]*/.exec(s)![0];
}

function width(indent: string): number {
  let w = 0;
  for (const c of indent) w += c === '\t' ? 4 : 1;
  return w;
}

function render(w: number, tabs: boolean): string {
  return tabs ? '\t'.repeat(Math.floor(w / 4)) + ' '.repeat(w % 4) : ' '.repeat(w);
}
