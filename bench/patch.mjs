#!/usr/bin/env node
// Patch applier benchmark: real commits, perturbed the way LLM diffs go wrong, applied by autodev,
// `git apply` and GNU `patch` side by side, each on a fresh copy of the pre-commit tree.
//
//   node bench/patch.mjs [repo-path ...]      (default: a generated fixture repo, plus this checkout's
//                                               own history when it has commits)
// BENCH_PATCH_CASES=<n> commits per repository (default 40); BENCH_KEEP=1 keeps the temp dir (removed
// otherwise on every exit path, Ctrl-C and kill included); BENCH_TMPDIR=<dir> puts it elsewhere.
// Needs the build: npx tsc -p tsconfig.build.json (run here when dist/patch is missing).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { makeFixtureRepo, makeLargeTree, rng } from './lib/patch-fixture.mjs';
import { tempDir } from './lib/temp.mjs';
import { loadBaseline } from './lib/baseline.mjs';
import { FORMAT_PERTURB, ambiguousUdiff, blocksFor, negativeBlocks, parseGitDiff, render } from './lib/edit-formats.mjs';
import { headline, times } from './lib/summary.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist', 'patch', 'apply-dir.js');
if (!existsSync(DIST)) {
  // Other modules' type errors must not stop the emit of ours.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--noEmitOnError', 'false'], { cwd: ROOT, stdio: 'ignore' });
}
const { applyPatchToDir } = await import(DIST);
// Today's applier (lib/baseline.mjs), beside this checkout's, in the same run.
const baseline = await loadBaseline(ROOT, ['patch/apply-dir']);
const TODAY = baseline ? `autodev ${baseline.ref} (before)` : null;

// BENCH_PATCH_CASES: commits taken from each repository's history (each gives up to 12 perturbed cases).
const MAX_CASES_PER_REPO = Number(process.env.BENCH_PATCH_CASES ?? 40);
let dumped = 0;
// Removed on every exit path (normal end, exception, Ctrl-C, kill): see lib/temp.mjs.
const work = tempDir('patch-bench-');
const started = performance.now();

function git(dir, args, input) {
  return execFileSync('git', args, { cwd: dir, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

async function realGitApply(dir, patch, check) {
  const r = spawnSync('git', ['apply', ...(check ? ['--check'] : []), '-'], { cwd: dir, input: patch, encoding: 'utf8' });
  return { ok: r.status === 0, error: r.stderr ?? '' };
}

// ---------- trees ----------
// Each (repository, revision) tree is listed once (`git ls-tree`: paths and blob ids) and its blobs
// are read in one `git cat-file --batch` per request, only those this repository has not read
// before (a blob shared by many revisions is read once), then kept in memory. Starting a `git show`
// per file per case was ~80,000 processes on two small repositories.
const trees = new Map(); // `${repo}\0${rev}` -> Map(path -> blob id)
const blobs = new Map(); // `${repo}\0${oid}` -> Buffer
let gitReads = 0;

function readBlobs(repo, oids) {
  const missing = [...new Set(oids)].filter((oid) => !blobs.has(`${repo}\0${oid}`));
  if (missing.length === 0) return;
  gitReads++;
  const r = spawnSync('git', ['cat-file', '--batch'], { cwd: repo, input: missing.join('\n') + '\n', maxBuffer: 1024 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git cat-file --batch in ${repo}: ${r.stderr}`);
  // Output: "<oid> <type> <size>\n<size bytes>\n" per object, in the order asked.
  const out = r.stdout;
  let at = 0;
  for (const oid of missing) {
    const eol = out.indexOf(10, at);
    const header = out.subarray(at, eol).toString('latin1').split(' ');
    if (header[1] === 'missing') throw new Error(`git cat-file: ${oid} missing in ${repo}`);
    const size = Number(header[2]);
    blobs.set(`${repo}\0${oid}`, out.subarray(eol + 1, eol + 1 + size));
    at = eol + 1 + size + 1;
  }
}

/** path -> blob id of every file at `rev` (submodules, which have no content here, left out). */
function treeIndex(repo, rev) {
  const key = `${repo}\0${rev}`;
  const cached = trees.get(key);
  if (cached) return cached;
  gitReads++;
  const index = new Map();
  for (const line of git(repo, ['ls-tree', '-r', '-z', '--full-tree', rev]).split('\0')) {
    if (!line) continue;
    // "<mode> <type> <oid>\t<path>"
    const tab = line.indexOf('\t');
    const [, type, oid] = line.slice(0, tab).split(' ');
    if (type === 'blob') index.set(line.slice(tab + 1), oid);
  }
  trees.set(key, index);
  return index;
}

/** The contents of `paths` at `rev` (those that exist there). */
function treeAt(repo, rev, paths) {
  const index = treeIndex(repo, rev);
  const present = paths.filter((p) => index.has(p));
  readBlobs(
    repo,
    present.map((p) => index.get(p)),
  );
  return new Map(present.map((p) => [p, blobs.get(`${repo}\0${index.get(p)}`)]));
}

function materialize(tree) {
  const dir = mkdtempSync(path.join(work, 't-'));
  for (const [p, buf] of tree) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), buf);
  }
  return dir;
}

/**
 * Puts `dir` back to `before` after a tool left it as `after` (both read in full), writing only the
 * files that differ: one tree written per commit instead of one per tool per perturbation, which
 * was most of the bench's time (and the file system's).
 */
function restore(dir, before, after) {
  const keptDirs = new Set(
    [...before.keys()].flatMap((p) =>
      p
        .split('/')
        .slice(0, -1)
        .map((_, k, parts) => parts.slice(0, k + 1).join('/')),
    ),
  );
  for (const p of after.keys()) {
    if (before.has(p)) continue;
    rmSync(path.join(dir, p), { force: true });
    // Directories the tool created for a new file go too.
    for (let d = path.dirname(p); d !== '.' && !keptDirs.has(d); d = path.dirname(d)) {
      if (readdirSync(path.join(dir, d)).length > 0) break;
      rmSync(path.join(dir, d), { recursive: true, force: true });
    }
  }
  for (const [p, buf] of before) {
    if (after.get(p)?.equals(buf)) continue;
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), buf);
  }
}

function readTree(dir) {
  const out = new Map();
  const walk = (rel) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.set(r, readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  return out;
}

function sameTree(a, b) {
  if (a.size !== b.size) return false;
  for (const [p, buf] of a) if (!b.has(p) || !b.get(p).equals(buf)) return false;
  return true;
}

// ---------- perturbations (each labelled; null = not applicable to this commit) ----------
function splitSections(patch) {
  // [preamble, ...file sections], each file section starting at `diff --git`
  return patch.split(/(?=^diff --git )/m);
}
function splitHunks(section) {
  const k = section.search(/^@@/m);
  if (k < 0) return { head: section, hunks: [] };
  return { head: section.slice(0, k), hunks: section.slice(k).split(/(?=^@@)/m) };
}
function mapHunks(patch, f) {
  return splitSections(patch)
    .map((s) => {
      const { head, hunks } = splitHunks(s);
      return head + f(hunks, head).join('');
    })
    .join('');
}

const PERTURB = {
  exact: (c) => c.diff,
  'wrong-line-numbers': (c, r) =>
    c.diff.replace(/^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/gm, (_m, a, b, cc, d) => {
      const shift = r.pick([-1, 1]) * r.int(3, 60);
      const A = Math.max(1, Number(a) + shift);
      const C = Math.max(1, Number(cc) + shift + r.int(-3, 3));
      return `@@ -${A},${Math.max(0, Number(b ?? 1) + r.int(-2, 2))} +${C},${Math.max(0, Number(d ?? 1) + r.int(-2, 2))} @@`;
    }),
  'missing-numbers': (c, r) =>
    c.diff.replace(/^@@ .*$/gm, () => r.pick(['@@ @@', '@@', '@@ ... @@', `@@ -${r.int(1, 9)} +${r.int(1, 9)} @@`])),
  'whitespace-drift': (c, r) => {
    // The model re-indented: 2-space steps for 4, tabs for spaces, or trailing blanks on context.
    let touched = false;
    const out = mapHunks(c.diff, (hunks) => {
      // Halving is only a faithful re-indent when every indent is even (else 1 and 2 both become 1
      // and no tool could know which the file had).
      const evenOnly = hunks.every((h) => h.split('\n').every((l) => /^[ +-]?( *)/.exec(l)[1].length % 2 === 0));
      const mode = r.pick(evenOnly ? ['halve', 'tabs', 'trailing'] : ['tabs', 'trailing']);
      // Only hunks whose context or removed lines drift: re-indented added lines under intact
      // context are a different change, not a drifted patch.
      return hunks.map((h) => {
        const drifted = h.replace(/^([ +-])(.*)$/gm, (_m, sign, body) => {
          const ind = /^ */.exec(body)[0];
          const rest = body.slice(ind.length);
          let b = body;
          if (mode === 'halve' && ind.length >= 2) b = ' '.repeat(Math.floor(ind.length / 2)) + rest;
          if (mode === 'tabs' && ind.length >= 2) b = '\t'.repeat(Math.floor(ind.length / 4)) + ' '.repeat(ind.length % 4) + rest;
          if (mode === 'trailing' && sign === ' ' && rest.length > 0) b = body + '  ';
          return sign + b;
        });
        const oldSide = (t) =>
          t
            .split('\n')
            .filter((l) => /^[ -]/.test(l))
            .join('\n');
        if (oldSide(drifted) === oldSide(h)) return h;
        touched = true;
        return drifted;
      });
    });
    return touched ? out : null;
  },
  'trimmed-context': (c) => c.diffU1,
  'stale-context': (c, r) => {
    // One context line per hunk no longer matches the file (the model saw an older version).
    let touched = false;
    const out = mapHunks(c.diff, (hunks) =>
      hunks.map((h) => {
        const lines = h.split('\n');
        const cands = lines.map((l, k) => (k > 0 && /^ \s*\S.{3,}/.test(l) ? k : -1)).filter((k) => k >= 0);
        if (cands.length < 3) return h;
        const k = r.pick(cands);
        lines[k] = /\d/.test(lines[k])
          ? lines[k].replace(/\d+/, (d) => String(Number(d) + 1))
          : lines[k].replace(/(\w+)(\W*)$/, '$1_old$2');
        touched = true;
        return lines.join('\n');
      }),
    );
    return touched ? out : null;
  },
  'no-prefix': (c) => c.diffNoPrefix,
  'out-of-order': (c) => {
    let touched = false;
    const sections = splitSections(c.diff);
    const pre = sections[0].startsWith('diff --git') ? [] : [sections.shift()];
    const reordered = sections.map((s) => {
      const { head, hunks } = splitHunks(s);
      if (hunks.length > 1) touched = true;
      return (
        head +
        [...hunks]
          .reverse()
          .map((h) => (h.endsWith('\n') ? h : h + '\n'))
          .join('')
      );
    });
    if (!touched) return null;
    return [...pre, ...reordered.reverse()].join('');
  },
  'new-file': (c) => c.diffAdded || null,
  'deleted-file': (c) => c.diffDeleted || null,
  crlf: (c) => c.diff.replace(/\n/g, '\r\n'),
  'NEG context nowhere': (c, r) => {
    // One hunk's context and removed lines replaced by code the file does not have.
    const sections = splitSections(c.diff);
    const eligible = sections
      .map((s, k) => (splitHunks(s).hunks.some((h) => /^[ -]/m.test(h.split('\n').slice(1).join('\n'))) ? k : -1))
      .filter((k) => k >= 0);
    if (!eligible.length) return null;
    const k = r.pick(eligible);
    const { head, hunks } = splitHunks(sections[k]);
    const hk = hunks.findIndex((h) => /^[ -]/m.test(h.split('\n').slice(1).join('\n')));
    hunks[hk] = hunks[hk]
      .split('\n')
      .map((l, i) =>
        i > 0 && /^[ -]/.test(l) ? `${l[0]}    let phantom_${r.int(1000, 9999)} = compute_${r.int(1000, 9999)}(${r.int(1, 99)});` : l,
      )
      .join('\n');
    sections[k] = head + hunks.join('');
    return sections.join('');
  },
  'NEG ambiguous': (c, r) => {
    // A hunk without line numbers whose one removed line the file has twice: must be refused.
    const blocks = negativeBlocks(
      'NEG ambiguous',
      blocksFor('search-replace', parseGitDiff(c.diff), c.beforeTree(), c.afterTree()) ?? [],
      c.beforeTree(),
      r,
    );
    return blocks ? ambiguousUdiff(blocks) : null;
  },
};
const KINDS = Object.keys(PERTURB);
// The other edit formats: the commit rewritten in each (lib/edit-formats.mjs), then perturbed.
const FORMATS = ['search-replace', 'apply-patch', 'whole'];
const FORMAT_KINDS = [...Object.keys(FORMAT_PERTURB), 'NEG nowhere', 'NEG ambiguous'];

// ---------- tools ----------
const TOOLS = {
  autodev: async (dir, patch) => {
    const r = await applyPatchToDir(dir, patch, { gitApply: realGitApply });
    return r.applied;
  },
  'autodev (text layers only)': async (dir, patch) => (await applyPatchToDir(dir, patch, {})).applied,
  'git apply': async (dir, patch) => spawnSync('git', ['apply', '-'], { cwd: dir, input: patch }).status === 0,
  'GNU patch': async (dir, patch) =>
    spawnSync('patch', ['-p1', '--batch', '--silent', '--no-backup-if-mismatch', '-r', '-'], { cwd: dir, input: patch, timeout: 20000 })
      .status === 0,
};
if (TODAY)
  TOOLS[TODAY] = async (dir, patch) =>
    (await baseline.modules['patch/apply-dir'].applyPatchToDir(dir, patch, { gitApply: realGitApply })).applied;
const TOOL_NAMES = Object.keys(TOOLS);
// The formats git apply and GNU patch do not read: autodev now and before.
const FORMAT_TOOLS = ['autodev', ...(TODAY ? [TODAY] : [])];

// ---------- cases from history ----------
function casesFrom(repo, label) {
  // One rev-list gives each commit with its parents; trees come from the cache above.
  const revs = git(repo, ['rev-list', '--no-merges', '--first-parent', '--parents', 'HEAD'])
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '));
  const cases = [];
  for (const [rev, ...parents] of revs) {
    if (cases.length >= MAX_CASES_PER_REPO) break;
    if (parents.length !== 1) continue;
    const parent = parents[0];
    const base = ['diff', '--no-renames', '--no-color', '--no-ext-diff', parent, rev];
    const diff = git(repo, base);
    if (!diff.trim() || /^(Binary files|GIT binary patch)/m.test(diff) || diff.length > 200_000) continue;
    const before = treeIndex(repo, parent);
    const after = treeIndex(repo, rev);
    // What `git diff --no-renames --name-only [--diff-filter=A|D]` lists, from the two trees.
    const added = [...after.keys()].filter((p) => !before.has(p));
    const deleted = [...before.keys()].filter((p) => !after.has(p));
    const paths = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
    const all = [...before.keys()];
    // Small repos: the whole pre-commit tree; big ones: the touched files (plus their whole dirs).
    const treePaths = all.length <= 400 ? all : all.filter((p) => paths.some((q) => path.dirname(q) === path.dirname(p)));
    cases.push({
      label,
      repo,
      rev,
      parent,
      diff,
      diffU1: git(repo, [...base.slice(0, 1), '-U1', ...base.slice(1)]),
      diffNoPrefix: git(repo, [...base.slice(0, 1), '--no-prefix', ...base.slice(1)]),
      diffAdded: added.length ? git(repo, [...base.slice(0, 1), '--diff-filter=A', ...base.slice(1)]) : '',
      diffDeleted: deleted.length ? git(repo, [...base.slice(0, 1), '--diff-filter=D', ...base.slice(1)]) : '',
      paths,
      added,
      deleted,
      treePaths,
      beforeTree: () => treeAt(repo, parent, paths),
      afterTree: () => treeAt(repo, rev, paths),
    });
  }
  return cases;
}

function expectedTree(c, kind) {
  const before = treeAt(c.repo, c.parent, c.treePaths);
  if (kind.startsWith('NEG')) return { before, expected: before };
  const after = treeAt(c.repo, c.rev, c.paths);
  const touchedPaths = kind === 'new-file' ? c.added : kind === 'deleted-file' ? c.deleted : c.paths;
  const out = new Map(before);
  for (const p of touchedPaths) {
    if (after.has(p)) out.set(p, after.get(p));
    else out.delete(p);
  }
  return { before, expected: out };
}

// ---------- run ----------
const repos = [];
const args = process.argv.slice(2);
if (args.length > 0) for (const a of args) repos.push({ dir: path.resolve(a), label: path.basename(path.resolve(a)) });
else {
  const fixture = path.join(work, 'fixture-repo');
  makeFixtureRepo(fixture, { seed: Number(process.env.PATCH_BENCH_SEED ?? 7), commits: 45 });
  repos.push({ dir: fixture, label: 'fixture (Rust/TS, generated)' });
  const own = spawnSync('git', ['rev-list', '--count', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (own.status === 0 && Number(own.stdout.trim()) > 1) repos.push({ dir: ROOT, label: 'autodev (own history)' });
}

const stats = {}; // kind -> tool -> {correct, refused, wrong, dirty}
const examples = []; // silent-wrong and failed-positive examples, for the report
for (const k of KINDS) {
  stats[k] = {};
  for (const t of TOOL_NAMES) stats[k][t] = { correct: 0, refused: 0, wrong: 0, dirty: 0, n: 0 };
}
// format -> kind -> tool, for the formats only autodev reads.
const fstats = {};
for (const f of FORMATS) {
  fstats[f] = {};
  for (const k of FORMAT_KINDS) {
    fstats[f][k] = {};
    for (const t of FORMAT_TOOLS) fstats[f][k][t] = { correct: 0, refused: 0, wrong: 0, dirty: 0, n: 0 };
  }
}
const toolMs = Object.fromEntries(TOOL_NAMES.map((t) => [t, 0])); // time inside each tool, all cases

/** Runs `tool` on `patch` in `tdir`, scores it into `s`, and puts the tree back. */
async function score(s, { tool, kind, label, c, tdir, patch, before, expected }) {
  let ok;
  const t0 = performance.now();
  try {
    ok = await TOOLS[tool](tdir, patch);
  } catch (err) {
    ok = false;
    examples.push({ tool, kind: label, rev: c.rev, note: `threw: ${err.message}` });
  }
  if (toolMs[tool] !== undefined) toolMs[tool] += performance.now() - t0;
  const after = readTree(tdir);
  restore(tdir, before, after);
  const neg = kind.startsWith('NEG');
  if (process.env.PATCH_BENCH_DEBUG && tool === 'autodev' && (neg ? ok : !ok || !sameTree(after, expected))) {
    dumpCase(process.env.PATCH_BENCH_DEBUG, { kind: label, rev: c.rev, patch, before, expected, after });
  }
  s.n++;
  if (neg) {
    if (ok) {
      s.wrong++;
      if (tool === 'autodev') examples.push({ tool, kind: label, rev: c.rev.slice(0, 8), repo: c.label, note: 'NEGATIVE APPLIED' });
    } else {
      s.refused++;
      if (!sameTree(after, before)) s.dirty++;
    }
  } else if (!ok) {
    s.refused++;
    if (!sameTree(after, before)) s.dirty++;
    if (tool.startsWith('autodev') && tool !== TODAY)
      examples.push({ tool, kind: label, rev: c.rev.slice(0, 8), repo: c.label, note: 'refused' });
  } else if (sameTree(after, expected)) s.correct++;
  else {
    s.wrong++;
    if (tool.startsWith('autodev') && tool !== TODAY)
      examples.push({ tool, kind: label, rev: c.rev.slice(0, 8), repo: c.label, note: 'SILENTLY WRONG' });
  }
}

let caseCount = 0;
for (const { dir, label } of repos) {
  const cases = casesFrom(dir, label);
  console.error(`${label}: ${cases.length} commits`);
  for (const c of cases) {
    // Every perturbation of a commit starts from the same pre-commit tree: written once, restored
    // after each tool.
    const tdir = materialize(expectedTree(c, 'exact').before);
    for (const kind of KINDS) {
      const r = rng(hash(`${c.rev}:${kind}`));
      const patch = PERTURB[kind](c, r);
      if (patch === null || patch === undefined) continue;
      caseCount++;
      const { before, expected } = expectedTree(c, kind);
      for (const tool of TOOL_NAMES)
        await score(stats[kind][tool], { tool, kind, label: `udiff ${kind}`, c, tdir, patch, before, expected });
    }
    const files = parseGitDiff(c.diff);
    for (const format of FORMATS) {
      const blocks = blocksFor(format, files, c.beforeTree(), c.afterTree());
      if (!blocks) continue;
      for (const kind of FORMAT_KINDS) {
        const r = rng(hash(`${c.rev}:${format}:${kind}`));
        const perturbed = kind.startsWith('NEG') ? negativeBlocks(kind, blocks, c.beforeTree(), r) : FORMAT_PERTURB[kind](blocks, r);
        if (!perturbed) continue;
        let patch = render(format, perturbed);
        if (kind === 'crlf') patch = patch.replace(/\n/g, '\r\n');
        caseCount++;
        const { before, expected } = expectedTree(c, kind);
        for (const tool of FORMAT_TOOLS)
          await score(fstats[format][kind][tool], { tool, kind, label: `${format} ${kind}`, c, tdir, patch, before, expected });
      }
    }
    rmSync(tdir, { recursive: true, force: true });
  }
}

function dumpCase(root, { kind, rev, patch, before, expected, after }) {
  const d = path.join(root, `${String(++dumped).padStart(3, '0')}-${kind.replace(/\W+/g, '_')}-${rev.slice(0, 8)}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'patch.diff'), patch);
  for (const [name, tree] of [
    ['before', before],
    ['expected', expected],
    ['after', after],
  ]) {
    for (const [p, buf] of tree) {
      const changed =
        name === 'before'
          ? expected.get(p)?.equals(buf) === false || !expected.has(p)
          : before.get(p)?.equals(buf) !== true || after.get(p)?.equals(expected.get(p) ?? Buffer.alloc(0)) === false;
      if (!changed) continue;
      mkdirSync(path.dirname(path.join(d, name, p)), { recursive: true });
      writeFileSync(path.join(d, name, p), buf);
    }
  }
}

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

// ---------- report ----------
const pct = (a, b) => (b === 0 ? '  -  ' : `${((100 * a) / b).toFixed(1)}%`);
const cell = (s, neg) =>
  neg
    ? `${s.refused}/${s.n} refused, ${s.wrong} wrong`
    : `${s.correct}/${s.n} ok ${pct(s.correct, s.n)}, ${s.refused} ref, ${s.wrong} wrong`;
console.log(`\nPatch application on real commits (${repos.map((r) => r.label).join(' + ')}): ${caseCount} cases`);
console.log('cell = applied correctly / refused / silently wrong (tree differs from the commit, or a negative applied)\n');
const w0 = Math.max(...KINDS.map((k) => k.length)) + 2;
const widths = TOOL_NAMES.map((t) => Math.max(t.length, 34) + 2);
console.log('kind'.padEnd(w0) + TOOL_NAMES.map((t, i) => t.padEnd(widths[i])).join(''));
for (const k of KINDS) {
  console.log(k.padEnd(w0) + TOOL_NAMES.map((t, i) => cell(stats[k][t], k.startsWith('NEG')).padEnd(widths[i])).join(''));
}
const totals = {};
for (const t of TOOL_NAMES) {
  const pos = KINDS.filter((k) => !k.startsWith('NEG')).map((k) => stats[k][t]);
  const neg = KINDS.filter((k) => k.startsWith('NEG')).map((k) => stats[k][t]);
  totals[t] = {
    correct: pos.reduce((a, s) => a + s.correct, 0),
    n: pos.reduce((a, s) => a + s.n, 0),
    wrong: [...pos, ...neg].reduce((a, s) => a + s.wrong, 0),
    negRefused: neg.reduce((a, s) => a + s.refused, 0),
    negN: neg.reduce((a, s) => a + s.n, 0),
    dirty: [...pos, ...neg].reduce((a, s) => a + s.dirty, 0),
  };
}
console.log('-'.repeat(w0 + widths.reduce((a, b) => a + b, 0)));
console.log(
  'ALL positive'.padEnd(w0) +
    TOOL_NAMES.map((t, i) =>
      `${totals[t].correct}/${totals[t].n} ok ${pct(totals[t].correct, totals[t].n)}, ${totals[t].wrong} wrong`.padEnd(widths[i]),
    ).join(''),
);
console.log('refusals that left the tree changed: ' + TOOL_NAMES.map((t) => `${t} ${totals[t].dirty}`).join(', '));
// Side by side as ratios to `git apply` (the tool autodev would otherwise call): correct
// applications (higher is better) and time spent inside the tool over all cases (lower is better).
const ALT = 'git apply';
console.log(
  `\nratio to ${ALT}, correct applications: ` +
    TOOL_NAMES.filter((t) => t !== ALT)
      .map((t) => `${t} ${times(totals[t].correct / Math.max(1, totals[ALT].correct))}`)
      .join(', '),
);
console.log(
  'time inside each tool over all cases: ' +
    TOOL_NAMES.map((t) => `${t} ${(toolMs[t] / 1000).toFixed(2)} s${t === ALT ? '' : ` (${times(toolMs[t] / toolMs[ALT])} ${ALT})`}`).join(
      ', ',
    ),
);
for (const alt of [ALT, 'GNU patch']) {
  headline({
    figure: 'patches applied correctly',
    autodev: totals.autodev.correct,
    alternative: totals[alt].correct,
    against: alt,
    unit: `of ${totals.autodev.n}`,
    better: 'higher',
  });
}
headline({
  figure: 'time in the applier, all cases',
  autodev: toolMs.autodev / 1000,
  alternative: toolMs[ALT] / 1000,
  against: ALT,
  unit: 's',
});

// ---------- timing on a ~2,000-file tree ----------
const big = path.join(work, 'big');
const bigPaths = makeLargeTree(big, 2000);
const targets = [bigPaths[137], bigPaths[1001], bigPaths[1999]];
const bigPatch = targets
  .map((p) => {
    const lines = readFileSync(path.join(big, p), 'utf8').split('\n');
    const k = lines.findIndex((l, i) => i > 12 && /acc/.test(l));
    const ctxA = lines.slice(k - 3, k);
    const ctxB = lines.slice(k + 1, k + 4);
    // Wrong line numbers on purpose: the text layers have to search.
    return [
      `--- a/${p}`,
      `+++ b/${p}`,
      `@@ -${k + 40},7 +${k + 40},7 @@`,
      ...ctxA.map((l) => ` ${l}`),
      `-${lines[k]}`,
      `+${lines[k]} // changed`,
      ...ctxB.map((l) => ` ${l}`),
    ].join('\n');
  })
  .join('\n');
// Each tool on a freshly written tree, so none sees another's edits.
const bigTimes = {};
const bigResults = {};
for (const tool of ['autodev (text layers only)', 'autodev', 'git apply', 'GNU patch']) {
  makeLargeTree(big, 2000);
  const t = performance.now();
  bigResults[tool] = tool.startsWith('autodev')
    ? await applyPatchToDir(big, bigPatch, tool === 'autodev' ? { gitApply: realGitApply } : {})
    : { applied: await TOOLS[tool](big, bigPatch) };
  bigTimes[tool] = performance.now() - t;
}
const textLayers = bigResults['autodev (text layers only)'];
console.log(
  `\n${bigPaths.length}-file tree, 3-file patch with wrong line numbers: ` +
    Object.keys(bigTimes)
      .map(
        (t) =>
          `${t} ${bigTimes[t].toFixed(1)} ms (applied=${bigResults[t].applied}${bigResults[t].strategy ? `, ${bigResults[t].strategy}` : ''})`,
      )
      .join(', ') +
    `; autodev/git apply ${times(bigTimes.autodev / bigTimes['git apply'])}, text layers/GNU patch ${times(bigTimes['autodev (text layers only)'] / bigTimes['GNU patch'])}`,
);
if (!textLayers.applied) console.log(`  text layers refused: ${textLayers.error?.split('\n')[0]}`);
headline({
  figure: `3-file patch on a ${bigPaths.length}-file tree`,
  autodev: bigTimes.autodev,
  alternative: bigTimes['git apply'],
  against: 'git apply',
  unit: 'ms',
});

// ---------- the other formats, and every format side by side with before ----------
for (const f of FORMATS) {
  console.log(`\n${f} (the same commits rewritten in this format)`);
  const fw = FORMAT_TOOLS.map((t) => Math.max(t.length, 34) + 2);
  console.log('kind'.padEnd(w0) + FORMAT_TOOLS.map((t, i) => t.padEnd(fw[i])).join(''));
  for (const k of FORMAT_KINDS) {
    if (fstats[f][k].autodev.n === 0) continue;
    console.log(k.padEnd(w0) + FORMAT_TOOLS.map((t, i) => cell(fstats[f][k][t], k.startsWith('NEG')).padEnd(fw[i])).join(''));
  }
}
/** One format's figures for one tool: positives correct/refused, silent wrongs (positive or negative). */
function formatFigures(table, kinds, tool) {
  const pos = kinds.filter((k) => !k.startsWith('NEG')).map((k) => table[k][tool]);
  const neg = kinds.filter((k) => k.startsWith('NEG')).map((k) => table[k][tool]);
  const sum = (list, key) => list.reduce((a, x) => a + x[key], 0);
  return {
    n: sum(pos, 'n'),
    correct: sum(pos, 'correct'),
    refused: sum(pos, 'refused'),
    wrong: sum(pos, 'wrong') + sum(neg, 'wrong'),
    negN: sum(neg, 'n'),
    negRefused: sum(neg, 'refused'),
  };
}
const perFormat = [['udiff', stats, KINDS], ...FORMATS.map((f) => [f, fstats[f], FORMAT_KINDS])];
console.log(
  `\nper format: correct % of good edits, silently wrong (good edits applied wrongly + bad ones applied), refused % of good edits`,
);
const sideTools = ['autodev', ...(TODAY ? [TODAY] : [])];
let formatGoals = true;
for (const [name, table, kinds] of perFormat) {
  const cells = sideTools.map((t) => {
    const x = formatFigures(table, kinds, t);
    return `${t}: ${pct(x.correct, x.n)} correct, ${x.wrong} silently wrong, ${pct(x.refused, x.n)} refused, ${x.negRefused}/${x.negN} bad refused`;
  });
  const now = formatFigures(table, kinds, 'autodev');
  if (now.wrong > 0 || now.correct < 0.99 * now.n || now.negRefused < now.negN) formatGoals = false;
  let ratio = '';
  if (TODAY) {
    const was = formatFigures(table, kinds, TODAY);
    ratio = ` | correct now/before ${times(now.correct / Math.max(1, was.correct))}`;
  }
  console.log(`  ${name.padEnd(15)} ${cells.join(' | ')}${ratio}`);
}

// ---------- goals ----------
const a = totals.autodev;
const ahead = KINDS.filter((k) => !k.startsWith('NEG')).every(
  (k) => stats[k].autodev.correct >= stats[k]['git apply'].correct && stats[k].autodev.correct >= stats[k]['GNU patch'].correct,
);
console.log(
  `\ngoals: every format >=99% correct, 0 silently wrong, every bad edit refused: ${formatGoals ? 'MET' : 'NOT MET'}; ` +
    `udiff ${pct(a.correct, a.n)} correct, ${a.wrong} silently wrong; ` +
    `ahead of git apply and patch on every kind: ${ahead ? 'MET' : 'NOT MET'}`,
);
if (examples.length > 0) {
  console.log('\nautodev misses:');
  for (const e of examples.slice(0, 30)) console.log(`  ${e.tool} | ${e.kind} | ${e.repo ?? ''} ${e.rev} | ${e.note}`);
}
console.log(
  `\n${caseCount} cases in ${((performance.now() - started) / 1000).toFixed(1)} s; ${gitReads} git processes read ${trees.size} trees (${blobs.size} blobs)`,
);
