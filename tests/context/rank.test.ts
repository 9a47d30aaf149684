import { describe, expect, it } from '@jest/globals';
import { definedNames, definitionMatch, isTestFile, rankFiles, testStem } from '../../src/context/rank.js';
import { extractTerms } from '../../src/context/terms.js';
import type { SearchHit } from '../../src/ports/types.js';

// An in-memory grep with the search port's matching rules, so ranking is tested on its own.
function grep(files: Record<string, string>, terms: string[]): SearchHit[] {
  const hits: SearchHit[] = [];
  for (const [path, content] of Object.entries(files)) {
    content.split('\n').forEach((text, i) => {
      for (const term of terms) {
        const found = term === term.toLowerCase() ? text.toLowerCase().includes(term) : text.includes(term);
        if (found) hits.push({ path, line: i + 1, text, term });
      }
    });
  }
  return hits;
}

function rank(files: Record<string, string>, title: string, description = '', history?: string[][]) {
  const terms = extractTerms(title, description);
  const hits = grep(
    files,
    terms.map((t) => t.text),
  );
  return rankFiles({ terms, hits, files: Object.keys(files), history });
}

function filler(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`src/other_${i}.rs`] = `pub fn helper_${i}() -> u32 { ${i} }\n`;
  return out;
}

describe('rankFiles', () => {
  it('ranks the file defining a symbol above files that only mention it more often', () => {
    const files = {
      ...filler(10),
      'src/engine.rs': 'use crate::budget::RetryBudget;\nfn a(b: &RetryBudget) {}\nfn c(b: &RetryBudget) {}\nfn d(b: RetryBudget) {}\n',
      'src/budget_impl.rs': 'pub struct RetryBudget {\n    left: u32,\n}\n',
    };
    const ranked = rank(files, 'RetryBudget is never refilled');
    expect(ranked[0].path).toBe('src/budget_impl.rs');
    expect(ranked[0].marks[0]).toMatchObject({ line: 1, definition: true });
    expect(ranked.map((r) => r.path)).toContain('src/engine.rs');
  });

  it('puts a file named in the task first', () => {
    const files = {
      ...filler(5),
      'src/config/load.rs': 'pub fn load() {}\n',
      'src/parser.rs': 'pub fn parse_config() {}\nfn parse_config_env() { parse_config() }\n',
    };
    const ranked = rank(files, 'parse_config breaks in src/config/load.rs');
    expect(ranked[0].path).toBe('src/config/load.rs');
    expect(ranked[0].reasons.join(' ')).toMatch(/named in the task/);
    expect(ranked[1].path).toBe('src/parser.rs');
  });

  it('matches a bare file name to its path, and a term to a file named like it', () => {
    const files = {
      ...filler(5),
      'src/lexer.ts': 'export const x = 1;\n',
      'src/tokenizer.rs': 'fn x() {}\n',
      'src/other.rs': 'fn lexer() {}\n',
    };
    expect(rank(files, 'crash in lexer.ts')[0].path).toBe('src/lexer.ts');
    expect(rank(files, 'the tokenizer drops tabs')[0].path).toBe('src/tokenizer.rs');
  });

  it('brings a test file along with its source', () => {
    const files = {
      ...filler(8),
      'src/header.rs': 'pub fn parse_header(s: &str) -> Option<u32> {\n    None\n}\n',
      'tests/header.rs': 'use demo::*;\n#[test]\nfn empty() { assert!(true); }\n',
      'src/app/format.ts': 'export function formatDate(d: Date) { return d.toISOString(); }\n',
      'tests/app/format.test.ts': "import { x } from '../../src/app/format.js';\n",
    };
    const rust = rank(files, 'parse_header returns None for valid input');
    expect(rust.map((r) => r.path).slice(0, 2)).toEqual(['src/header.rs', 'tests/header.rs']);
    expect(rust[1].reasons.join(' ')).toMatch(/tests src\/header.rs/);

    const ts = rank(files, 'formatDate loses the timezone');
    expect(ts.map((r) => r.path).slice(0, 2)).toEqual(['src/app/format.ts', 'tests/app/format.test.ts']);
  });

  it('pulls in a file that history shows changing with the top file', () => {
    const files = {
      ...filler(8),
      'src/scheduler.rs': 'pub fn schedule_job() {}\n',
      'src/queue.rs': 'pub struct Queue;\n',
      'src/unrelated.rs': 'pub struct Nothing;\n',
    };
    const history = [
      ['src/scheduler.rs', 'src/queue.rs'],
      ['src/scheduler.rs', 'src/queue.rs', 'README.md'],
      ['src/unrelated.rs'],
      ['src/scheduler.rs'],
    ];
    const without = rank(files, 'schedule_job runs twice');
    expect(without.map((r) => r.path)).not.toContain('src/queue.rs');
    const ranked = rank(files, 'schedule_job runs twice', '', history);
    expect(ranked.map((r) => r.path).slice(0, 2)).toEqual(['src/scheduler.rs', 'src/queue.rs']);
    expect(ranked.map((r) => r.path)).not.toContain('src/unrelated.rs');
    expect(ranked[1].reasons.join(' ')).toMatch(/changed together/);
  });

  it('ignores huge commits for co-change', () => {
    const files = { ...filler(20), 'src/scheduler.rs': 'pub fn schedule_job() {}\n' };
    const history = [Object.keys(files), Object.keys(files)];
    const ranked = rank(files, 'schedule_job runs twice', '', history);
    expect(ranked.map((r) => r.path)).toEqual(['src/scheduler.rs']);
  });

  it('weighs rare terms over common ones and lock files down', () => {
    const files: Record<string, string> = { ...filler(10) };
    for (let i = 0; i < 10; i++) files[`src/common_${i}.rs`] = 'fn value() { let error = 1; }\n';
    files['src/rare.rs'] = 'fn checksum() {}\n';
    files['Cargo.lock'] = 'checksum = "abc"\nchecksum = "def"\nchecksum = "ghi"\n';
    const ranked = rank(files, 'error in checksum');
    expect(ranked[0].path).toBe('src/rare.rs');
    const lock = ranked.find((r) => r.path === 'Cargo.lock')!;
    expect(lock.score).toBeLessThan(ranked.find((r) => r.path === 'src/common_0.rs')!.score);
  });

  it('returns an empty ranking when nothing matches', () => {
    expect(rank(filler(3), 'zzzz qqqq')).toEqual([]);
  });
});

describe('definitions', () => {
  it('recognises Rust definitions and not module declarations', () => {
    expect(definedNames('pub(crate) async fn fetch_all(x: u8) {', 'rust')).toEqual(['fetch_all']);
    expect(definedNames('pub struct Config {', 'rust')).toEqual(['Config']);
    expect(definedNames('impl<T: Clone> Display for Wrapper<T> {', 'rust')).toEqual(['Wrapper', 'Display']);
    expect(definedNames('impl Config {', 'rust')).toEqual(['Config']);
    expect(definedNames('pub const MAX_LEN: usize = 3;', 'rust')).toEqual(['MAX_LEN']);
    expect(definedNames('mod parser;', 'rust')).toEqual([]);
    expect(definedNames('mod tests {', 'rust')).toEqual(['tests']);
    expect(definedNames('    let x = parse(y);', 'rust')).toEqual([]);
  });

  it('recognises TS/JS, Python and Go definitions', () => {
    expect(definedNames('export default async function handler(req) {', 'node')).toEqual(['handler']);
    expect(definedNames('export const retryBudget = 3;', 'node')).toEqual(['retryBudget']);
    expect(definedNames('export interface Options {', 'node')).toEqual(['Options']);
    expect(definedNames('  private async load(path: string): Promise<void> {', 'node')).toEqual(['load']);
    expect(definedNames('  if (x) {', 'node')).toEqual([]);
    expect(definedNames('  foo(x);', 'node')).toEqual([]);
    expect(definedNames('    def parse(self):', 'python')).toEqual(['parse']);
    expect(definedNames('class Loader(Base):', 'python')).toEqual(['Loader']);
    expect(definedNames('func (s *Server) Serve() error {', 'go')).toEqual(['Serve']);
  });

  it('tells exact from partial definitions, honouring case', () => {
    expect(definitionMatch('fn parse_header() {}', 'parse_header', 'rust')).toBe('exact');
    expect(definitionMatch('fn parse_header() {}', 'header', 'rust')).toBe('partial');
    expect(definitionMatch('struct Config;', 'config', 'rust')).toBe('exact');
    expect(definitionMatch('struct Config;', 'CONFIG', 'rust')).toBeNull();
    expect(definitionMatch('let c = Config::new();', 'Config', 'rust')).toBeNull();
  });
});

describe('test files', () => {
  it('recognises test files and what they test', () => {
    for (const [path, stem] of [
      ['tests/header.rs', 'header'],
      ['tests/header_test.rs', 'header'],
      ['src/app/format.test.ts', 'format'],
      ['test/util.spec.js', 'util'],
      ['tests/test_loader.py', 'loader'],
      ['pkg/server_test.go', 'server'],
      ['tests/config/mod.rs', 'config'],
    ]) {
      expect(isTestFile(path)).toBe(true);
      expect(testStem(path)).toBe(stem);
    }
    expect(isTestFile('src/header.rs')).toBe(false);
    expect(isTestFile('src/contest.ts')).toBe(false);
  });
});
