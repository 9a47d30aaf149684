// The go command's runs for a repository: `go mod download` (only when a module is required),
// then build, test and vet over every package of the module, or of each module of a go.work
// workspace (narrowed to the touched modules at run time). golangci-lint or staticcheck replace vet
// when the repository configures one and it is installed.
import type { HostFacts, RepoFacts, ToolchainCommand, ToolchainCommands } from '../types.js';
import { goRequires } from './manifest.js';
import { goWorkspace, modulePattern } from './workspace.js';

const GOLANGCI_CONFIGS = ['.golangci.yml', '.golangci.yaml', '.golangci.toml', '.golangci.json'];

export function goCommands(repo: RepoFacts, host: HostFacts): ToolchainCommands {
  const notes: string[] = [];
  const workspace = repo.files.includes('go.work') ? goWorkspace(repo) : null;
  const vendored = repo.files.includes('vendor/modules.txt');
  const patterns = workspace ? workspace.members.map((m) => modulePattern(m.dir)) : ['./...'];
  // -mod=mod lets the offline build record in go.mod/go.sum what the module cache already holds; it
  // is refused in workspace mode, and a vendor directory is what the build must read instead.
  const mod = workspace || vendored ? [] : ['-mod=mod'];
  if (workspace) {
    const names = workspace.members.map((m) => m.name);
    notes.push(
      `go.work workspace with ${names.length} module(s) (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}): build, test and lint name each module's packages, narrowed to the touched modules at run time (plus the modules that require them); the baseline covers the whole workspace.`,
    );
  }
  if (vendored) notes.push('vendor/modules.txt: the build reads the vendored modules; nothing is downloaded.');
  const manifests = workspace ? workspace.members.map((m) => (m.dir === '.' ? 'go.mod' : `${m.dir}/go.mod`)) : ['go.mod'];
  const needsFetch = !vendored && manifests.some((file) => goRequires(repo.manifests[file] ?? '').size > 0);
  return {
    deps: needsFetch ? { argv: ['go', 'mod', 'download'], format: 'plain' } : null,
    build: { argv: ['go', 'build', ...mod, ...patterns], format: 'go-build' },
    test: { argv: ['go', 'test', ...mod, '-json', ...patterns], format: 'go-test' },
    lint: goLint(repo, host, mod, patterns, notes),
    notes,
    ...(workspace ? { workspace } : {}),
  };
}

function goLint(repo: RepoFacts, host: HostFacts, mod: string[], patterns: string[], notes: string[]): ToolchainCommand {
  const golangci = GOLANGCI_CONFIGS.find((f) => repo.files.includes(f));
  if (golangci) {
    if (host.programs['golangci-lint']) return { argv: ['golangci-lint', 'run', ...patterns], format: 'go-lint' };
    notes.push(`${golangci} configures golangci-lint, which is not installed: go vet lints instead.`);
  } else if (repo.files.includes('staticcheck.conf')) {
    if (host.programs.staticcheck) return { argv: ['staticcheck', ...patterns], format: 'go-lint' };
    notes.push('staticcheck.conf configures staticcheck, which is not installed: go vet lints instead.');
  }
  return { argv: ['go', 'vet', ...mod, ...patterns], format: 'go-vet' };
}

/** `<import path>.<Test…>` and the top-level test of a subtest name. */
const GO_TEST_NAME = /^(.+?)\.((?:Test|Example|Fuzz)\w*)(?:\/.*)?$/;

/**
 * `go test` narrowed to the suspected flaky tests: `-run '^(TestA|TestB)$'` over just their packages
 * (their import paths in place of the command's `./...` patterns). A subtest runs with its whole
 * top-level test (go's `-run` takes a pattern per level; the parent is the one name sure to match).
 * A package that failed outside its tests (named by its import path alone) cannot be narrowed.
 */
export function selectGoTests(argv: string[], names: string[], format: string): string[] | null {
  if (format !== 'go-test' || names.length === 0) return null;
  const packages = new Set<string>();
  const tests = new Set<string>();
  for (const name of names) {
    const m = GO_TEST_NAME.exec(name);
    if (!m) return null;
    packages.add(m[1]);
    tests.add(m[2]);
  }
  const testAt = argv.indexOf('test');
  if (testAt < 0) return null;
  const isPattern = (a: string) => a === '.' || a.startsWith('./') || a.startsWith('../') || a.endsWith('/...');
  const kept = argv.slice(testAt + 1).filter((a) => !isPattern(a));
  return [...argv.slice(0, testAt + 1), '-run', `^(${[...tests].join('|')})$`, ...kept, ...packages];
}
