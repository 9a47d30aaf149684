// A real commit's diff rewritten in the other edit formats a model writes (search-replace, apply-patch,
// whole), and perturbed the way models get them wrong, for bench/patch.mjs. Each writer returns the
// edit text, or null when the format cannot express the commit (whole: deletions, big files, a file
// without a final newline; search-replace: deletions).
//
// A careful model makes every SEARCH text (and every apply-patch chunk) unique in its file: when a
// hunk's old side occurs more than once, the writer widens it with the file's lines around it, as the
// prompt asks the model to do.

/** Files of a `git diff` with their hunks: { path, added, deleted, hunks: [{ start, funcname, lines: [{ kind, text }] }] }. */
export function parseGitDiff(diff) {
  const files = [];
  let file = null;
  let hunk = null;
  for (const raw of diff.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('diff --git ')) {
      file = { path: null, added: false, deleted: false, hunks: [] };
      files.push(file);
      hunk = null;
      continue;
    }
    if (!file) continue;
    if (!hunk) {
      if (line.startsWith('new file mode')) file.added = true;
      else if (line.startsWith('deleted file mode')) file.deleted = true;
      else if (line.startsWith('--- ') && line !== '--- /dev/null') file.path = line.slice(6);
      else if (line.startsWith('+++ ') && line !== '+++ /dev/null') file.path = line.slice(6);
    }
    const m = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$/.exec(line);
    if (m) {
      hunk = { start: Number(m[1]), funcname: m[2].trim(), lines: [] };
      file.hunks.push(hunk);
      continue;
    }
    if (!hunk || line.startsWith('\\')) continue;
    if (line === '' && raw === '') continue; // the split's last piece
    const kind = line[0];
    if (kind === ' ' || kind === '-' || kind === '+') hunk.lines.push({ kind, text: line.slice(1) });
  }
  return files.filter((f) => f.path !== null);
}

const lf = (buf) => buf.toString('utf8').replace(/\r\n/g, '\n');
const linesOf = (buf) => {
  const t = lf(buf);
  return (t.endsWith('\n') ? t.slice(0, -1) : t).split('\n');
};

function occurrences(fileLines, block) {
  let n = 0;
  for (let p = 0; p + block.length <= fileLines.length; p++) if (block.every((t, k) => fileLines[p + k] === t)) n++;
  return n;
}

/**
 * A hunk as a block: old and new lines, widened with file lines until the old side is unique.
 * Returns null when no widening makes it unique.
 */
function uniqueBlock(hunk, fileLines) {
  let oldL = hunk.lines.filter((l) => l.kind !== '+').map((l) => l.text);
  let newL = hunk.lines.filter((l) => l.kind !== '-').map((l) => l.text);
  let from = hunk.start - 1;
  let to = from + oldL.length;
  if (oldL.length === 0) return null;
  while (occurrences(fileLines, oldL) > 1) {
    if (from === 0 && to >= fileLines.length) return null;
    if (from > 0) {
      from--;
      oldL = [fileLines[from], ...oldL];
      newL = [fileLines[from], ...newL];
    }
    if (to < fileLines.length) {
      oldL = [...oldL, fileLines[to]];
      newL = [...newL, fileLines[to]];
      to++;
    }
  }
  return { old: oldL, new: newL, funcname: hunk.funcname };
}

/**
 * The commit as edit blocks: [{ path, op: 'add'|'delete'|'update'|'whole', old, new, funcname }],
 * or null when `format` cannot express it. `before`/`after`: path → Buffer.
 */
export function blocksFor(format, files, before, after) {
  const blocks = [];
  for (const f of files) {
    if (f.deleted) {
      if (format !== 'apply-patch') return null;
      blocks.push({ path: f.path, op: 'delete' });
      continue;
    }
    const content = after.get(f.path);
    if (!content) return null;
    if (format === 'whole') {
      const text = content.toString('utf8');
      if (!text.endsWith('\n') || text.split('\n').length > 300 || text.includes('```')) return null;
      blocks.push({ path: f.path, op: 'whole', new: linesOf(content) });
      continue;
    }
    if (f.added) {
      blocks.push({ path: f.path, op: 'add', old: [], new: linesOf(content) });
      continue;
    }
    const fileLines = linesOf(before.get(f.path));
    for (const h of f.hunks) {
      const b = uniqueBlock(h, fileLines);
      if (!b) return null;
      blocks.push({ path: f.path, op: 'update', ...b });
    }
  }
  // A file that itself holds SEARCH/REPLACE markers (a prompt's example) cannot be quoted in blocks.
  const marker = /^(<{5,9} ?SEARCH|={5,9}|>{5,9} ?REPLACE)\s*$/;
  if (format === 'search-replace' && blocks.some((b) => [...(b.old ?? []), ...(b.new ?? [])].some((t) => marker.test(t)))) return null;
  return blocks.length ? blocks : null;
}

/** The blocks written in `format`. */
export function render(format, blocks) {
  const out = [];
  if (format === 'search-replace') {
    for (const b of blocks) {
      out.push(b.path, '<<<<<<< SEARCH', ...b.old, '=======', ...b.new, '>>>>>>> REPLACE', '');
    }
  } else if (format === 'apply-patch') {
    out.push('*** Begin Patch');
    let last = null;
    for (const b of blocks) {
      if (b.op === 'delete') out.push(`*** Delete File: ${b.path}`);
      else if (b.op === 'add') out.push(`*** Add File: ${b.path}`, ...b.new.map((t) => `+${t}`));
      else {
        if (last !== b.path) out.push(`*** Update File: ${b.path}`);
        out.push(b.funcname ? `@@ ${b.funcname}` : '@@', ...chunkLines(b));
      }
      last = b.path;
    }
    out.push('*** End Patch');
  } else if (format === 'whole') {
    for (const b of blocks) out.push(b.path, '```', ...b.new, '```', '');
  }
  return out.join('\n') + '\n';
}

/** An update block as apply-patch lines: the shared ends are context, the middle removed then added. */
function chunkLines(b) {
  let lead = 0;
  while (lead < b.old.length && lead < b.new.length && b.old[lead] === b.new[lead]) lead++;
  let trail = 0;
  while (trail < b.old.length - lead && trail < b.new.length - lead && b.old[b.old.length - 1 - trail] === b.new[b.new.length - 1 - trail])
    trail++;
  return [
    ...b.old.slice(0, lead).map((t) => ` ${t}`),
    ...b.old.slice(lead, b.old.length - trail).map((t) => `-${t}`),
    ...b.new.slice(lead, b.new.length - trail).map((t) => `+${t}`),
    ...b.old.slice(b.old.length - trail).map((t) => ` ${t}`),
  ];
}

/**
 * Perturbations of update blocks (null = not applicable to this commit), each given `r` (lib/patch-fixture rng):
 * whitespace-drift re-indents a block's old AND new lines the same way (halved, tabs for spaces) or
 * leaves trailing blanks on its old lines; stale-context changes one context line on both sides;
 * crlf sends the whole reply with CRLF line ends.
 */
export const FORMAT_PERTURB = {
  exact: (blocks) => blocks,
  'whitespace-drift': (blocks, r) => {
    const updates = blocks.filter((b) => b.op === 'update');
    if (!updates.length) return null;
    const all = updates.flatMap((b) => [...b.old, ...b.new]);
    const evenOnly = all.every((l) => /^( *)/.exec(l)[1].length % 2 === 0);
    const mode = r.pick(evenOnly ? ['halve', 'tabs', 'trailing'] : ['tabs', 'trailing']);
    const drift = (t) => {
      const ind = /^ */.exec(t)[0];
      const rest = t.slice(ind.length);
      if (mode === 'halve' && ind.length >= 2) return ' '.repeat(Math.floor(ind.length / 2)) + rest;
      if (mode === 'tabs' && ind.length >= 2) return '\t'.repeat(Math.floor(ind.length / 4)) + ' '.repeat(ind.length % 4) + rest;
      return t;
    };
    let touched = false;
    const out = blocks.map((b) => {
      if (b.op !== 'update') return b;
      const nb =
        mode === 'trailing'
          ? {
              ...b,
              old: b.old.map((t) => (t.trim() ? `${t}  ` : t)),
              new: b.new.map((t, k) => (b.old.includes(t) && t.trim() ? `${t}  ` : t)),
            }
          : { ...b, old: b.old.map(drift), new: b.new.map(drift) };
      // Only blocks whose SEARCH side drifts: re-indented added lines under intact context are a
      // different change, not a drifted edit (as in the unified diff perturbation).
      if (nb.old.join('\n') === b.old.join('\n')) return b;
      touched = true;
      return nb;
    });
    return touched ? out : null;
  },
  'stale-context': (blocks, r) => {
    let touched = false;
    const out = blocks.map((b) => {
      if (b.op !== 'update') return b;
      // A context line: one of the lines both sides share at their start or end (old index, new index).
      let lead = 0;
      while (lead < b.old.length && lead < b.new.length && b.old[lead] === b.new[lead]) lead++;
      let trail = 0;
      while (
        trail < b.old.length - lead &&
        trail < b.new.length - lead &&
        b.old[b.old.length - 1 - trail] === b.new[b.new.length - 1 - trail]
      )
        trail++;
      const pairs = [
        ...Array.from({ length: lead }, (_, k) => [k, k]),
        ...Array.from({ length: trail }, (_, j) => [b.old.length - 1 - j, b.new.length - 1 - j]),
      ].filter(([k]) => /^\s*\S.{3,}/.test(b.old[k]));
      if (pairs.length < 3) return b;
      const [k, kn] = r.pick(pairs);
      const was = b.old[k];
      const stale = /\d/.test(was) ? was.replace(/\d+/, (d) => String(Number(d) + 1)) : was.replace(/(\w+)(\W*)$/, '$1_old$2');
      if (stale === was) return b;
      touched = true;
      return { ...b, old: b.old.map((t, i) => (i === k ? stale : t)), new: b.new.map((t, i) => (i === kn ? stale : t)) };
    });
    return touched ? out : null;
  },
  crlf: (blocks) => blocks,
};

/**
 * Negative cases: edits no applier may apply. `nowhere`: one update block's old lines replaced by
 * code the file does not have; `ambiguous`: a block whose old text is one line the file has twice or
 * more (no anchor, no line number), which must be refused, never guessed.
 */
export function negativeBlocks(kind, blocks, before, r) {
  if (kind === 'NEG nowhere') {
    const k = blocks.findIndex((b) => b.op === 'update');
    if (k < 0) return null;
    const b = blocks[k];
    const phantom = b.old.map(() => `    let phantom_${r.int(1000, 9999)} = compute_${r.int(1000, 9999)}(${r.int(1, 99)});`);
    return blocks.map((x, i) => (i === k ? { ...b, old: phantom, new: [...phantom.slice(0, 1), 'changed();'] } : x));
  }
  if (kind === 'NEG ambiguous') {
    for (const b of blocks) {
      if (b.op !== 'update') continue;
      const fileLines = linesOf(before.get(b.path));
      const seen = new Map();
      for (const l of fileLines) if (l.trim().length >= 8) seen.set(l, (seen.get(l) ?? 0) + 1);
      const dup = [...seen].filter(([, n]) => n >= 2).map(([l]) => l);
      if (!dup.length) continue;
      const line = r.pick(dup.sort());
      return [{ path: b.path, op: 'update', old: [line], new: [`${line} // changed`], funcname: '' }];
    }
    return null;
  }
  return null;
}

/** The `ambiguous` negative as a unified diff without line numbers (a hunk that matches in two places). */
export function ambiguousUdiff(blocks) {
  const b = blocks[0];
  return [`--- a/${b.path}`, `+++ b/${b.path}`, '@@ @@', `-${b.old[0]}`, `+${b.new[0]}`, ''].join('\n');
}
