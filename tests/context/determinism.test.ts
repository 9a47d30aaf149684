// The same files for the same input, every time: the search caps its hits only after ordering them,
// and the ranking and the selection do not depend on the order hits and file lists arrive in.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { selectContext } from '../../src/context/index.js';
import { rankFiles } from '../../src/context/rank.js';
import { extractTerms } from '../../src/context/terms.js';
import { createSearcher } from '../../src/ports/search.js';
import type { Searcher } from '../../src/ports/types.js';

let dir: string;
const files: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctx-determinism-'));
  // 40 files that all mention the widget (more hits than the cap), a few that define it.
  for (let i = 0; i < 40; i++) {
    const name = `src/part${String(i).padStart(2, '0')}/widget-user-${i}.ts`;
    files[name] =
      `import { renderWidget } from '../widget.js';\n\nexport function use${i}(): string {\n  return renderWidget('${i}');\n}\n`;
  }
  files['src/widget.ts'] = 'export function renderWidget(id: string): string {\n  return `<widget ${id}>`;\n}\n';
  files['tests/widget.test.ts'] = "import { renderWidget } from '../src/widget.js';\n\ntest('renders', () => renderWidget('a'));\n";
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic shuffle (seeded), so a failure can be replayed. */
function shuffled<T>(list: T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('search: order first, then cap', () => {
  it('keeps the same hits on every run, one per file first (the widest spread), whatever order ripgrep finds them in', async () => {
    const searcher = createSearcher();
    const runs = await Promise.all(Array.from({ length: 6 }, () => searcher.search(dir, ['renderWidget'], { maxHitsPerTerm: 12 })));
    for (const r of runs) expect(r).toEqual(runs[0]);
    // 42 files hold the term twice or more: the cap of 12 takes the first hit of the first 12 files by path.
    expect(runs[0]).toHaveLength(12);
    const paths = runs[0].map((h) => h.path);
    expect(new Set(paths).size).toBe(12);
    expect(paths).toEqual(Object.keys(files).sort().slice(0, 12));
  });

  it('git grep gives the very same hits as ripgrep', async () => {
    const rg = await createSearcher().search(dir, ['renderWidget', 'widget'], { maxHitsPerTerm: 20 });
    const gitGrep = await createSearcher({ rgPath: null }).search(dir, ['renderWidget', 'widget'], { maxHitsPerTerm: 20 });
    // git grep searches tracked files only when in a repository: this dir is not one, so both see all.
    expect(gitGrep.map((h) => `${h.path}:${h.line}:${h.term}`)).toEqual(rg.map((h) => `${h.path}:${h.line}:${h.term}`));
  });
});

describe('ranking and selection do not depend on input order', () => {
  it('rankFiles gives the same ranking for shuffled hits and file lists', async () => {
    const terms = extractTerms('renderWidget shows the wrong id', 'The widget user gets another id.');
    const hits = await createSearcher().search(
      dir,
      terms.filter((t) => t.kind !== 'path').map((t) => t.text),
      { maxHitsPerTerm: 300 },
    );
    const all = Object.keys(files);
    const first = rankFiles({ terms, hits, files: all });
    expect(first.length).toBeGreaterThan(10);
    for (let seed = 1; seed <= 8; seed++) {
      expect(rankFiles({ terms, hits: shuffled(hits, seed), files: shuffled(all, seed * 7) })).toEqual(first);
    }
  });

  it('selectContext selects the same files, in the same order, when the searcher and the listing shuffle', async () => {
    const real = createSearcher();
    const select = async (seed: number) => {
      const searcher: Searcher = {
        engine: 'rg',
        search: async (d, t, o) => shuffled(await real.search(d, t, o), seed),
      };
      const sel = await selectContext({
        dir,
        title: 'renderWidget shows the wrong id',
        description: 'The widget user gets another id.',
        budgetTokens: 600,
        model: 'gpt-4o',
        searcher,
        listFiles: async (d) => shuffled(await real.listFiles(d), seed + 3),
      });
      return sel.files.map((f) => [f.path, f.ranges]);
    };
    const first = await select(1);
    expect(first.length).toBeGreaterThan(0);
    expect(first[0][0]).toBe('src/widget.ts');
    for (let seed = 2; seed <= 6; seed++) expect(await select(seed)).toEqual(first);
  });
});
