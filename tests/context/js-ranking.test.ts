// Ranking for JavaScript/TypeScript tasks whose words name no file: the import graph around the best
// hits, a test beside its source, identifiers split and stemmed, and a file named exactly as written.
import { describe, expect, it } from '@jest/globals';
import { rankFiles, relativeImports, withImportNeighbours } from '../../src/context/rank.js';
import { extractTerms } from '../../src/context/terms.js';
import type { SearchHit } from '../../src/ports/types.js';

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

/** rankFiles, then the import-graph step with every file's content (as selectContext does for its candidates). */
function rank(files: Record<string, string>, title: string, description = '') {
  const terms = extractTerms(title, description);
  const hits = grep(
    files,
    terms.map((t) => t.text),
  );
  const first = rankFiles({ terms, hits, files: Object.keys(files) });
  return withImportNeighbours(first, new Map(Object.entries(files)), Object.keys(files)).map((r) => r.path);
}

// A small TypeScript service: the task talks about what happens, in words; the fix is in the
// retry helper the client imports, which no task word names.
const SERVICE: Record<string, string> = {
  'src/client.ts': [
    "import { withBackoff } from './net/backoff.js';",
    "import { parseBody } from './parse.js';",
    '',
    'export async function fetchInvoice(id: string): Promise<unknown> {',
    '  // Invoices are fetched with retries when the server is busy.',
    '  return parseBody(await withBackoff(() => get(`/invoices/${id}`)));',
    '}',
  ].join('\n'),
  'src/net/backoff.ts': 'export async function withBackoff<T>(f: () => Promise<T>): Promise<T> {\n  return f();\n}\n',
  'src/parse.ts': 'export function parseBody(s: unknown): unknown {\n  return s;\n}\n',
  'src/unrelated/a.ts': 'export const colour = "red";\n',
  'src/unrelated/b.ts': 'export const size = 3;\n',
  'tests/client.test.ts': "import { fetchInvoice } from '../src/client.js';\n\ntest('x', () => fetchInvoice('1'));\n",
};

describe('relativeImports', () => {
  it('resolves ./x.js to x.ts, a folder to its index, ../ paths, require and dynamic import; ignores packages', () => {
    const files = new Set(['src/a.ts', 'src/b/index.ts', 'lib/c.js', 'src/d.tsx', 'src/x/y.mjs']);
    const content = [
      "import { a } from './a.js';",
      "import b from './b';",
      "const c = require('../lib/c');",
      "const d = await import('./d.js');",
      "export * from './x/y.mjs';",
      "import zod from 'zod';",
      "import './missing.js';",
    ].join('\n');
    expect(relativeImports('src/main.ts', content, files)).toEqual(['src/a.ts', 'src/b/index.ts', 'lib/c.js', 'src/d.tsx', 'src/x/y.mjs']);
  });
});

describe('withImportNeighbours', () => {
  it('lifts the module a hit imports (the helper no task word names) above files that share no import', () => {
    const ranking = rank(SERVICE, 'Fetching an invoice gives up when the server is busy');
    expect(ranking[0]).toBe('src/client.ts');
    expect(ranking.slice(0, 3)).toContain('src/net/backoff.ts');
    // Without the import graph the helper is not ranked at all.
    const terms = extractTerms('Fetching an invoice gives up when the server is busy');
    const plain = rankFiles({
      terms,
      hits: grep(
        SERVICE,
        terms.map((t) => t.text),
      ),
      files: Object.keys(SERVICE),
    }).map((r) => r.path);
    expect(plain).not.toContain('src/net/backoff.ts');
  });

  it('lifts the test that imports a top file, and gives the same ranking whatever order the contents come in', () => {
    const files = Object.keys(SERVICE);
    const terms = extractTerms('fetchInvoice returns the wrong invoice');
    const first = rankFiles({
      terms,
      hits: grep(
        SERVICE,
        terms.map((t) => t.text),
      ),
      files,
    });
    const a = withImportNeighbours(first, new Map(Object.entries(SERVICE)), files);
    const b = withImportNeighbours(first, new Map(Object.entries(SERVICE).reverse()), [...files].reverse());
    expect(b).toEqual(a);
    const paths = a.map((r) => r.path);
    expect(paths.slice(0, 2)).toEqual(['src/client.ts', 'tests/client.test.ts']);
  });
});

describe('file names in the task', () => {
  it('a word in capitals names the file written so (README, CHANGELOG)', () => {
    const files: Record<string, string> = {
      'README.md': '# Tool\n\nUsage notes.\n',
      'CHANGELOG.md': '# Changes\n',
      'src/budget.ts': 'export function budget(): number {\n  // token budgets hold before spending\n  return 1;\n}\n',
      'src/spend.ts': 'export const spending = "budget";\n',
    };
    expect(rank(files, 'README: token budgets hold before spending')[0]).toBe('README.md');
    expect(rank(files, 'CHANGELOG: budgets hold before spending')[0]).toBe('CHANGELOG.md');
  });

  it('an identifier written exactly as a file is named (camelCase file names)', () => {
    const files: Record<string, string> = {
      'src/selectContext.ts': 'export function run(): void {}\n',
      'src/context/other.ts': 'import { selectContext } from "../selectContext.js";\nselectContext();\nselectContext();\n',
      'src/context/more.ts': 'selectContext();\nselectContext();\nselectContext();\n',
    };
    expect(rank(files, 'selectContext drops the last file')[0]).toBe('src/selectContext.ts');
  });
});
