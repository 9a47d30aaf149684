// A small Rust + TypeScript codebase with a few dozen realistic commits, generated deterministically:
// similar functions, repeated loop bodies and closing braces (so context is often not unique), a CRLF
// file, a file without a final newline, new and deleted files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const WORDS = [
  'order',
  'item',
  'price',
  'stock',
  'user',
  'cart',
  'total',
  'batch',
  'queue',
  'ledger',
  'entry',
  'token',
  'limit',
  'score',
  'weight',
  'offset',
  'window',
  'bucket',
  'record',
  'event',
];
const cap = (s) => s[0].toUpperCase() + s.slice(1);

function rustStatement(r, ind) {
  const w = r.pick(WORDS);
  const n = r.int(1, 99);
  return r.pick([
    () => [`${ind}let ${w} = self.values.len() as i64 + ${n};`],
    () => [`${ind}if self.values.is_empty() {`, `${ind}    return ${n};`, `${ind}}`],
    () => [`${ind}for v in &self.values {`, `${ind}    acc += v * ${n};`, `${ind}}`],
    () => [`${ind}acc = acc.saturating_add(${n});`],
    () => [`${ind}let ${w}_name = format!("{}-${w}", self.name);`, `${ind}log::debug!("{}", ${w}_name);`],
    () => [`${ind}acc += self.id as i64 % ${n};`],
  ])();
}

function rustFn(r, name) {
  const body = [];
  const k = r.int(1, 4);
  for (let i = 0; i < k; i++) body.push(...rustStatement(r, '        '));
  return [`    pub fn ${name}(&self) -> i64 {`, '        let mut acc = 0;', ...body, '        acc', '    }'];
}

function rustFile(r, type) {
  const fns = [];
  const names = new Set();
  const count = r.int(4, 9);
  while (names.size < count) names.add(`${r.pick(WORDS)}_${r.pick(WORDS)}`);
  for (const n of names) fns.push(rustFn(r, n), ['']);
  fns.pop();
  return [
    `//! ${type}: bookkeeping for ${type.toLowerCase()} values.`,
    'use std::collections::HashMap;',
    '',
    '#[derive(Debug, Clone, Default)]',
    `pub struct ${type} {`,
    '    pub id: u64,',
    '    pub name: String,',
    '    pub values: Vec<i64>,',
    '    pub tags: HashMap<String, String>,',
    '}',
    '',
    `impl ${type} {`,
    '    pub fn new(id: u64, name: &str) -> Self {',
    `        ${type} { id, name: name.to_string(), ..Default::default() }`,
    '    }',
    '',
    ...fns.flat(),
    '}',
  ];
}

function tsStatement(r, ind) {
  const w = r.pick(WORDS);
  const n = r.int(1, 99);
  return r.pick([
    () => [`${ind}const ${w} = input.length + ${n};`],
    () => [`${ind}if (input.length === 0) {`, `${ind}  return ${n};`, `${ind}}`],
    () => [`${ind}for (const v of input) {`, `${ind}  acc += v * ${n};`, `${ind}}`],
    () => [`${ind}acc = Math.min(acc, ${n * 1000});`],
    () => [`${ind}logger.debug(\`${w}: \${acc}\`);`],
  ])();
}

function tsFn(r, name) {
  const body = [];
  const k = r.int(1, 4);
  for (let i = 0; i < k; i++) body.push(...tsStatement(r, '  '));
  return [`export function ${name}(input: number[]): number {`, '  let acc = 0;', ...body, '  return acc;', '}'];
}

function tsFile(r) {
  const out = ["import { logger } from './logger.js';", ''];
  const names = new Set();
  const count = r.int(3, 8);
  while (names.size < count) names.add(`${r.pick(WORDS)}${cap(r.pick(WORDS))}`);
  for (const n of names) out.push(...tsFn(r, n), '');
  out.pop();
  return out;
}

let tick = 0;
function git(dir, args) {
  // Fixed dates: the same seed gives the same commit ids, so a run is reproducible.
  const date = `${1700000000 + tick++ * 60} +0000`;
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'bench',
      GIT_AUTHOR_EMAIL: 'b@e',
      GIT_COMMITTER_NAME: 'bench',
      GIT_COMMITTER_EMAIL: 'b@e',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** Statement lines (inside functions) of a file, as indices. */
function bodyLines(lines) {
  const out = [];
  lines.forEach((l, k) => {
    if (/^ {4,}\S/.test(l) && /[;}]$/.test(l) && !/^ {4}}/.test(l) && !/^\s*(pub )?(fn|export)/.test(l)) out.push(k);
    else if (/^ {2}\S/.test(l) && /;$/.test(l)) out.push(k);
  });
  return out;
}

/**
 * Make the fixture repo in `dir` (created) with `commits` commits after the initial one.
 * Returns nothing; the history is the product.
 */
export function makeFixtureRepo(dir, { seed = 7, commits = 40 } = {}) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  tick = 0;
  const r = rng(seed);
  const files = new Map(); // path -> { lines, eol, finalNewline }
  const types = ['Inventory', 'Ledger', 'Scheduler', 'Router', 'Catalog', 'Billing', 'Session', 'Metrics'];
  for (const t of types) files.set(`src/${t.toLowerCase()}.rs`, { lines: rustFile(r, t), eol: '\n', finalNewline: true });
  for (let i = 0; i < 6; i++) files.set(`web/src/${r.pick(WORDS)}-${i}.ts`, { lines: tsFile(r), eol: '\n', finalNewline: true });
  files.set('web/src/logger.ts', {
    lines: ['export const logger = {', '  debug(msg: string): void {', '    if (process.env.DEBUG) console.error(msg);', '  },', '};'],
    eol: '\n',
    finalNewline: true,
  });
  files.set('scripts/build.cmd', {
    lines: ['@echo off', 'cargo build --release', 'if errorlevel 1 exit /b 1', 'cd web', 'npm run build', 'cd ..', 'echo done'],
    eol: '\r\n',
    finalNewline: true,
  });
  files.set('VERSION.txt', { lines: ['name = fixture', 'version = 0.1.0', 'channel = stable'], eol: '\n', finalNewline: false });
  files.set('Cargo.toml', {
    lines: ['[package]', 'name = "fixture"', 'version = "0.1.0"', 'edition = "2021"', '', '[dependencies]', 'log = "0.4"'],
    eol: '\n',
    finalNewline: true,
  });

  const flush = () => {
    rmSync(path.join(dir, 'src'), { recursive: true, force: true });
    rmSync(path.join(dir, 'web'), { recursive: true, force: true });
    for (const [p, f] of files) {
      mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      writeFileSync(path.join(dir, p), f.lines.join(f.eol) + (f.finalNewline ? f.eol : ''));
    }
  };
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'core.autocrlf', 'false']);
  flush();
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'initial import']);

  const codeFiles = () => [...files.keys()].filter((p) => /\.(rs|ts)$/.test(p) && !p.endsWith('logger.ts'));
  const edits = {
    tweak(p) {
      const f = files.get(p);
      const cands = bodyLines(f.lines).filter((k) => /\d/.test(f.lines[k]));
      if (!cands.length) return false;
      const k = r.pick(cands);
      f.lines[k] = f.lines[k].replace(/\d+/, () => String(r.int(100, 999)));
      return true;
    },
    insert(p) {
      const f = files.get(p);
      const cands = bodyLines(f.lines);
      if (!cands.length) return false;
      const k = r.pick(cands);
      const ind = /^\s*/.exec(f.lines[k])[0];
      const add = p.endsWith('.rs') ? rustStatement(r, ind) : tsStatement(r, ind);
      f.lines.splice(k + 1, 0, ...add);
      return true;
    },
    remove(p) {
      const f = files.get(p);
      const cands = bodyLines(f.lines).filter((k) => /;$/.test(f.lines[k]) && !/return|let mut acc|acc = 0/.test(f.lines[k]));
      if (!cands.length) return false;
      f.lines.splice(r.pick(cands), 1);
      return true;
    },
    addFn(p) {
      const f = files.get(p);
      const name = `${r.pick(WORDS)}_${r.pick(WORDS)}_${r.int(2, 99)}`;
      if (p.endsWith('.rs')) f.lines.splice(f.lines.length - 1, 0, '', ...rustFn(r, name));
      else
        f.lines.push(
          '',
          ...tsFn(
            r,
            name.replace(/_(\w)/g, (_m, c) => c.toUpperCase()),
          ),
        );
      return true;
    },
    removeFn(p) {
      const f = files.get(p);
      const starts = f.lines.map((l, k) => (/^(    pub fn|export function) \w+\((&self|input)/.test(l) ? k : -1)).filter((k) => k >= 0);
      if (starts.length < 3) return false;
      const s = r.pick(starts);
      const endRe = f.lines[s].startsWith('export') ? /^}$/ : /^ {4}}$/;
      let e = s;
      while (e < f.lines.length && !endRe.test(f.lines[e])) e++;
      const blankAfter = f.lines[e + 1] === '' ? 1 : 0;
      f.lines.splice(s, e - s + 1 + blankAfter);
      return true;
    },
    newFile() {
      const p = r.chance(0.5) ? `src/${r.pick(WORDS)}_${r.int(1, 999)}.rs` : `web/src/feature/${r.pick(WORDS)}-${r.int(1, 999)}.ts`;
      if (files.has(p)) return false;
      files.set(p, { lines: p.endsWith('.rs') ? rustFile(r, cap(r.pick(WORDS)) + r.int(1, 9)) : tsFile(r), eol: '\n', finalNewline: true });
      return true;
    },
    deleteFile() {
      const cands = codeFiles();
      if (cands.length < 8) return false;
      files.delete(r.pick(cands));
      return true;
    },
    crlf() {
      const f = files.get('scripts/build.cmd');
      const k = r.int(1, f.lines.length - 1);
      if (r.chance(0.5)) f.lines.splice(k, 0, `echo step ${r.int(1, 99)}`);
      else f.lines[k] = f.lines[k] + ` REM ${r.pick(WORDS)}`;
      return true;
    },
    noEol() {
      const f = files.get('VERSION.txt');
      f.lines[f.lines.length - 1] = `channel = ${r.pick(['stable', 'beta', 'nightly'])}-${r.int(1, 99)}`;
      if (r.chance(0.3)) f.lines.push(`build = ${r.int(1, 999)}`);
      return true;
    },
  };
  const weighted = [
    'tweak',
    'tweak',
    'insert',
    'insert',
    'insert',
    'remove',
    'addFn',
    'removeFn',
    'newFile',
    'deleteFile',
    'crlf',
    'noEol',
  ];
  let made = 0;
  while (made < commits) {
    const n = r.int(1, 4);
    let changed = false;
    // Several edits in one file give multi-hunk files; edits across files give multi-file patches.
    const focus = r.pick(codeFiles());
    for (let i = 0; i < n; i++) {
      const kind = r.pick(weighted);
      const target = r.chance(0.6) && files.has(focus) ? focus : r.pick(codeFiles());
      changed = edits[kind](target) || changed;
    }
    if (!changed) continue;
    flush();
    git(dir, ['add', '-A']);
    if (git(dir, ['status', '--porcelain']).trim() === '') continue;
    git(dir, ['commit', '-q', '-m', `change ${made + 1}`]);
    made++;
  }
}

/** A tree of `count` source files (for timing on a repository-sized tree). */
export function makeLargeTree(dir, count, seed = 11) {
  const r = rng(seed);
  rmSync(dir, { recursive: true, force: true });
  const paths = [];
  for (let i = 0; i < count; i++) {
    const p = `pkg${i % 40}/mod${Math.floor(i / 40) % 10}/${i % 2 ? 'file' : 'unit'}_${i}.${i % 3 ? 'rs' : 'ts'}`;
    const lines = p.endsWith('.rs') ? rustFile(r, `T${i}`) : tsFile(r);
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), lines.join('\n') + '\n');
    paths.push(p);
  }
  return paths;
}
