// Go with modules (go.mod, go.work): everything autodev knows about it, behind the Toolchain interface.
import type { Toolchain } from '../types.js';
import { goContext } from './context.js';
import { goCommands, selectGoTests } from './commands.js';
import { goDeclared, goSumLocked } from './manifest.js';
import { depsFailureLine, isGoTestFile, parseGoDiagnostics, parseGoTest } from './output.js';
import { narrowGoCommand, readGoMembers, scopeGoBaselineFailures } from './workspace.js';

// Where the go command keeps downloads (GOMODCACHE): written only by `go mod download`.
const GO_MOD_CACHE = 'go-mod';
const REGISTRY = 'Go module proxy';

export const go: Toolchain = {
  id: 'go',
  language: 'Go',
  manifests: ['go.mod', 'go.work', 'go.sum'],
  // The linters are used when the repository configures one and it is installed.
  hostPrograms: ['go', 'golangci-lint', 'staticcheck'],
  sandboxPrograms: ['go', 'gofmt', 'golangci-lint', 'staticcheck'],
  doctor: [{ name: 'go', command: ['go', 'version'], purpose: 'Go build, test and vet', fallback: 'none: Go projects cannot be verified' }],
  // The official image: the go command, git and a C toolchain for cgo.
  image: 'golang:1',
  detect: (repo) => (repo.files.includes('go.work') ? 'go.work' : repo.files.includes('go.mod') ? 'go.mod' : null),
  readMembers: readGoMembers,
  commands: goCommands,
  // Module downloads are shared by every task (only the fetch writes them); the build cache is kept
  // per repository, written by the base's runs, copied for the change's (as Cargo's target dir).
  sandbox: {
    caches: [
      { dir: GO_MOD_CACHE, perRepository: false, writer: 'deps', env: 'GOMODCACHE' },
      { dir: 'go-build', perRepository: true, writer: 'baseline', env: 'GOCACHE', privateCopy: 'go-build' },
    ],
    env: {
      // Never download another Go toolchain, whatever go.mod's `toolchain` line asks for.
      GOTOOLCHAIN: 'local',
      // No host go env file (it may name a private proxy), no telemetry, no VCS stamping (git may
      // refuse the workspace's ownership inside the sandbox).
      GOENV: 'off',
      GOTELEMETRY: 'off',
      GOFLAGS: '-buildvcs=false',
      // HOME is the sandbox's writable /tmp; GOPATH would default to a directory under it anyway.
      GOPATH: '/tmp/go',
    },
    // Nothing is fetched after deps: no proxy, no checksum database.
    offlineEnv: { GOPROXY: 'off', GOSUMDB: 'off' },
  },
  versionArgv: (command) => (command[0] === 'go' ? ['go', 'version'] : [command[0], '--version']),
  // go test -json's events are for the parser, not for the progress view.
  isMachineLine: (line) => line.startsWith('{"Time"') || line.startsWith('{"ImportPath"') || line.startsWith('{"Action"'),
  parse(format, { stdout, stderr }) {
    if (format === 'go-build') return { diagnostics: parseGoDiagnostics(`${stdout}\n${stderr}`, 'error'), tests: null };
    if (format === 'go-vet') return { diagnostics: parseGoDiagnostics(`${stdout}\n${stderr}`, 'warning'), tests: null };
    if (format === 'go-lint') return { diagnostics: parseGoDiagnostics(`${stdout}\n${stderr}`, 'warning', { codes: true }), tests: null };
    if (format === 'go-test') {
      const report = parseGoTest(stdout, stderr);
      return { diagnostics: report.compileErrors, tests: report };
    }
    return { diagnostics: [], tests: null };
  },
  depsFailureLine,
  narrow: narrowGoCommand,
  selectTests: selectGoTests,
  scopeBaselineFailures: scopeGoBaselineFailures,
  // A task names a Go test by its function (`TestSum`), which covers its subtests.
  testLeaf: (name) => /\.((?:Test|Example|Fuzz)[^/]*)(?:\/|$)/.exec(name)?.[1] ?? '',
  isTestFile: isGoTestFile,
  reproduction: {
    conventions:
      'A new `<name>_test.go` file in the directory of the package under test, in the same package (`package <name>`), with `func TestXxx(t *testing.T)` functions that call `t.Errorf`/`t.Fatalf` on the wrong result. Standard library only.',
  },
  dependencies: {
    ecosystem: 'go',
    manifest: 'go.mod',
    lockfile: 'go.sum',
    registry: REGISTRY,
    // Nested modules of the repository (their own go.mod below the root's).
    memberManifests: (_rootText, files) => files.filter((f) => f.endsWith('/go.mod') && !f.split('/').includes('vendor')).sort(),
    declared: (file, text) => ({ declared: goDeclared(file, text, REGISTRY), scripts: [] }),
    locked: (text) => goSumLocked(text, REGISTRY),
    localLockedIsOwnCode: false,
    lockInstallScripts: false,
    // Go runs no dependency code at build time (no build scripts; cgo compiles, go generate is manual).
    buildDependenciesRun: false,
  },
  context: goContext,
};
