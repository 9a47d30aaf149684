// The Node toolchain's answers through the Toolchain interface.
import { describe, expect, it } from '@jest/globals';
import { node } from '../../../src/toolchains/node/index.js';

describe('node toolchain', () => {
  it("reads test runs and tsc through its formats, nothing through another toolchain's", () => {
    const tap = 'TAP version 13\nok 1 - adds\nnot ok 2 - subtracts\n  ---\n  error: boom\n  ...\n1..2\n';
    const tests = node.parse('node-test', { stdout: tap, stderr: '', exitCode: 1 }).tests;
    expect(tests?.passed).toEqual(['adds']);
    expect(tests?.failed.map((f) => f.name)).toEqual(['subtracts']);
    const tsc = node.parse('tsc', {
      stdout: "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
      stderr: '',
      exitCode: 2,
    });
    expect(tsc.diagnostics.map((d) => [d.code, d.file, d.line])).toEqual([['TS2322', 'src/a.ts', 3]]);
    expect(node.parse('cargo-test', { stdout: tap, stderr: '', exitCode: 1 })).toEqual({ diagnostics: [], tests: null });
  });

  it('knows its test files', () => {
    expect(node.isTestFile('src/add.test.ts')).toBe(true);
    expect(node.isTestFile('test/add.js')).toBe(true);
    expect(node.isTestFile('src/add.ts')).toBe(false);
  });

  it('reads package.json workspaces and the lockfile for the dependency check', () => {
    const reader = node.dependencies!;
    const root = JSON.stringify({ name: 'web', workspaces: ['packages/*'] });
    expect(reader.memberManifests(root, ['package.json', 'packages/api/package.json', 'node_modules/x/package.json'])).toEqual([
      'packages/api/package.json',
    ]);
    const { declared, scripts } = reader.declared(
      'package.json',
      JSON.stringify({ name: 'web', dependencies: { pg: '^8.0.0' }, scripts: { postinstall: 'node x.js' } }),
      root,
    );
    expect(declared.map((d) => [d.ecosystem, d.name, d.range])).toEqual([['npm', 'pg', '>=8.0.0 <9.0.0-0']]);
    expect(scripts.map((s) => s.script)).toEqual(['postinstall']);
    expect(reader.lockInstallScripts).toBe(true);
  });
});
