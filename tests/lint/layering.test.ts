// The arrows of shared/DESIGN.md are lint rules (eslint.config.js): a file that imports against them
// fails `npm run lint`. Linted here through ESLint's own API on files placed where the rule applies.
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const eslint = new ESLint({ cwd: ROOT, cache: false });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('the layering rules', () => {
  it('refuse a step in the engine, the engine in a step, and cli anywhere below it', async () => {
    expect(
      await problems('src/engine/extra.ts', "import { searchTool } from '../steps/search.js';\nexport const t = searchTool;\n"),
    ).toEqual(expect.arrayContaining([expect.stringContaining('import-x/no-restricted-paths')]));
    expect(await problems('src/steps/extra.ts', "import { runPlan } from '../engine/engine.js';\nexport const r = runPlan;\n")).toEqual(
      expect.arrayContaining([expect.stringContaining('import-x/no-restricted-paths')]),
    );
    expect(await problems('src/store/extra.ts', "import { main } from '../cli/index.js';\nexport const m = main;\n")).toEqual(
      expect.arrayContaining([expect.stringContaining('nothing imports cli/')]),
    );
  }, 120_000);

  it('refuse a port in the pure layers but take its types', async () => {
    expect(await problems('src/plan/extra.ts', "import { createExec } from '../ports/exec.js';\nexport const e = createExec;\n")).toEqual(
      expect.arrayContaining([expect.stringContaining('no port')]),
    );
    expect(await problems('src/patch/extra.ts', "import type { Exec } from '../ports/types.js';\nexport type E = Exec;\n")).toEqual([]);
  }, 120_000);

  it('refuse an import cycle', async () => {
    // cli/tasks.ts imports cli/tasks-table.ts; the table importing the command back closes a cycle.
    const found = await problems(
      'src/cli/tasks-table.ts',
      "import { tasksWatchCommand } from './tasks.js';\nexport const c = tasksWatchCommand;\n",
    );
    expect(found).toEqual(expect.arrayContaining([expect.stringContaining('import-x/no-cycle')]));
  }, 120_000);

  it('pass the tree as it is', async () => {
    const results = await eslint.lintFiles(['src/engine', 'src/steps', 'src/plan']);
    expect(results.flatMap((r) => r.messages.map((m) => `${path.relative(ROOT, r.filePath)}: ${m.ruleId} ${m.message}`))).toEqual([]);
  }, 120_000);
});
