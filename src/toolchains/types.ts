// What build, test and lint said, as data. Shared by every toolchain parser so the verify step,
// the baseline comparison and the distilled feedback for the model do not care which tool spoke.
import type { DependencyReader } from '../depcheck/types.js';

/** One compiler or linter message, located at its primary span. */
export interface Diagnostic {
  level: 'error' | 'warning';
  /** Error code or lint name: `E0308`, `clippy::needless_return`, `unused_variables`, `TS2322`. */
  code: string | null;
  message: string;
  /** Path as the tool printed it (cargo: relative to the workspace root); null when unlocated. */
  file: string | null;
  line: number | null;
  column: number | null;
  /** The human rendering the tool produced (what a developer would read), without colour. */
  rendered: string;
}

export interface TestFailure {
  /** Qualified, stable name (see the parser's doc comment for the scheme). */
  name: string;
  /** The panic message / assertion output, without backtraces. */
  output: string;
}

export interface TestReport {
  passed: string[];
  failed: TestFailure[];
  /** Ignored / skipped / todo tests. */
  ignored: number;
  /**
   * The ignored / skipped tests by name, where the runner names them (cargo's `test x ... ignored`,
   * a skipped jest/vitest/node:test test): a test that ran on the base and is skipped on the change
   * is gone, not fixed. Absent in results cached by older versions.
   */
  ignoredTests?: string[];
  /** One line for the progress view, e.g. `12 passed, 2 failed, 1 ignored`. */
  summary: string;
}

export interface CargoTestReport extends TestReport {
  /** Test binaries that ran (doc tests count as one per crate). */
  binaries: number;
  /** Errors that kept the tests from compiling (empty when everything compiled). */
  compileErrors: Diagnostic[];
}

/**
 * Maps a position in the changed tree back to the base tree: `null` when the line was added by
 * the change. Lets diffDiagnostics pair a warning with its base twin although the patch moved it.
 */
export type LineMap = (file: string, line: number) => { file: string; line: number } | null;

// ---------------------------------------------------------------- the toolchain interface
// Everything the rest of autodev asks of a toolchain. Each one lives in its own folder
// (src/toolchains/<id>/) and is listed once in registry.ts; nothing outside src/toolchains/ knows
// which toolchains exist.

/** What the planner knows about a repository: gathered once, read-only, handed to the pure planner. */
export interface RepoFacts {
  /** Repository-relative paths of the files at the top level and one level down (enough to detect toolchains). */
  files: string[];
  /** Contents of the manifests the toolchains look at (their `manifests`), keyed by relative path. */
  manifests: Record<string, string>;
  /** The checked-out base branch, when known. */
  branch: string | null;
  /**
   * Workspace member directories (relative to the root, `.` for a root package) by toolchain id,
   * found once when the facts are read (`readMembers`); their manifests are in `manifests`.
   * Absent when no toolchain found a workspace.
   */
  members?: Record<string, string[]>;
}

export interface HostFacts {
  /** Programs found on PATH (name → true). */
  programs: Record<string, boolean>;
  /** The sandbox `auto` resolved to, or null when none is usable. */
  autoSandbox: 'docker' | 'podman' | 'bwrap' | null;
  /** What each toolchain's `hostQuery` found, by toolchain id (e.g. the installed Rust toolchains). */
  installed: Record<string, string[]>;
  /** CPU cores this process may use (generate.parallel's default); unknown: 1. */
  cores?: number;
}

export interface ToolchainCommand {
  /**
   * The command. An argument may hold `{reports}`: the verify step puts a fresh, empty directory
   * there (outside the repository, writable in the sandbox) and hands the files the command wrote
   * into it to `parse` (pytest's `--junitxml={reports}/junit.xml`).
   */
  argv: string[];
  /** How the verify step reads the command's output (a format the toolchain's `parse` knows). */
  format: string;
  /**
   * Report files the command writes inside the repository (globs relative to it, `**` for any depth:
   * Surefire's `TEST-*.xml` under each module's `target/surefire-reports`): removed before the command runs, so a report
   * from an earlier run is never read as this one's, and handed to `parse` afterwards.
   */
  reports?: string[];
}

/** A report file a command wrote (see ToolchainCommand), by its path relative to where it was found. */
export interface ReportFile {
  path: string;
  text: string;
}

/** What a command left for its toolchain's parser. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** The report files (`{reports}` and `reports`), in path order; empty when there are none. */
  reports?: ReportFile[];
  /** The repository's directory as the command saw it (to make the absolute paths a tool prints relative). */
  root?: string;
}

export interface WorkspaceMember {
  /** Package name as its manifest declares it (what a narrowed command names). */
  name: string;
  /** Directory relative to the repository root; `.` for a root package. */
  dir: string;
  /** Names of the members this one depends on through a path (or workspace path) dependency. */
  dependsOn: string[];
}

/** A multi-package workspace: build/test/lint cover all of it, narrowed to the touched packages at run time. */
export interface Workspace {
  members: WorkspaceMember[];
}

export interface ToolchainCommands {
  deps: ToolchainCommand | null;
  build: ToolchainCommand | null;
  test: ToolchainCommand;
  lint: ToolchainCommand | null;
  notes: string[];
  workspace?: Workspace;
}

/**
 * A cache directory shared across tasks and mounted into the sandbox. Only code the model did not
 * write may write a shared cache: the dependency fetch (`writer: 'deps'`; later steps see it
 * read-only), or the untouched base's runs (`writer: 'baseline'`; the change's runs get a private
 * copy in the task's workspace, so nothing its build scripts or tests plant reaches another task).
 */
export interface CacheNeed {
  /** Directory under the cache dir. */
  dir: string;
  /** One per repository and toolchain (build output) rather than one for all (downloads). */
  perRepository: boolean;
  /**
   * Not shared at all: a directory in the task's own workspace, beside (not inside) the repository,
   * mounted like a shared one (a Python virtual environment that installs this task's checkout).
   */
  perTask?: boolean;
  writer: 'deps' | 'baseline';
  /** The environment variable that tells the toolchain where the cache is. */
  env: string;
  /** The variable's value, `{dir}` standing for the directory (default: the directory itself). */
  envValue?: string;
  /** Name of the private copy in the task's workspace (writer `baseline` only). */
  privateCopy?: string;
}

/** What the toolchain needs inside the sandbox: caches and environment. Plain data, carried by the plan. */
export interface SandboxNeeds {
  caches: CacheNeed[];
  /** Environment for every run. */
  env: Record<string, string>;
  /** Added when the step has no network (tells the tool not to try). */
  offlineEnv: Record<string, string>;
}

/** A toolchain installed on the host outside the system directories: PATH entries and variables that point at it. */
export interface HostInstall {
  path: string[];
  env: Record<string, string>;
}

/** Finds a toolchain's host installation from the host's environment and home; null when there is none to point at. */
export type HostInstallLocator = (hostEnv: NodeJS.ProcessEnv, hostHome: string) => HostInstall | null;

/** A program `autodev doctor` looks for, and what happens without it. */
export interface ProgramCheck {
  name: string;
  command: string[];
  purpose: string;
  fallback: string;
}

/** The narrowed command and the packages it names. */
export interface NarrowedCommand {
  argv: string[];
  packages: string[];
  /** How the narrowing reads in a summary (`-p core -p cli`). */
  label: string;
}

/** Hints for choosing the code the model is shown. */
export interface ContextHints {
  /** File extensions (without the dot) whose definitions `definitions` reads. */
  extensions: string[];
  /** The names a line of source defines, if it is a definition. */
  definitions(line: string): string[];
  /** Test file names (matched on the base name; `tests/` and the like count for every language), paired with the source they test. */
  testFileNames: RegExp[];
  /** Lockfile names: generated, rarely worth showing. */
  lockfiles: string[];
}

/** What the model is told about writing one new test file, and how the test command runs just that file. */
export interface ReproductionIdiom {
  /** Where a new test file goes and what it looks like (shown to the model). */
  conventions: string;
  /** The test command narrowed to the one new test file; null when it must run whole. */
  narrowToFile?(argv: string[], file: string): string[] | null;
}

export interface Toolchain {
  id: string;
  /** The language the toolchain builds, for messages ("Rust"). */
  language: string;
  /** Manifest file names (top level, or one directory down) whose text the repository facts keep. */
  manifests: string[];
  /** Programs looked up on the host's PATH when the plan is made. */
  hostPrograms: string[];
  /** A command run on the host when the plan is made; its parsed output lands in `HostFacts.installed[id]`. */
  hostQuery?: {
    program: string;
    argv: string[];
    parse(stdout: string): string[];
    /**
     * The files and directories whose change can change the answer (where installs land), so the
     * answer is kept per machine and asked again only when one of them (or the program) changes.
     * Without it the query runs for every plan.
     */
    inputs?(env: Record<string, string | undefined>, home: string): string[];
  };
  /** Programs whose installations the bubblewrap sandbox binds when the command's PATH finds them. */
  sandboxPrograms: string[];
  /** Of those, the ones that resolve to a proxy whose installation root must not be bound (and what it needs instead). */
  sandboxProxies?: { programs: string[]; homes: { env: string; parts: string[] }[] };
  /** Finds an installation on the host that PATH's system directories miss (rustup under a home). */
  hostInstall?: HostInstallLocator;
  /** What `autodev doctor` checks for this toolchain. */
  doctor: ProgramCheck[];
  /** The docker/podman image its projects run in unless the config names one (`golang:1`). */
  image?: string;
  /** The reason (the file that told us) when the repository is of this kind, else null. */
  detect(repo: RepoFacts): string | null;
  /** Why a repository of a kind this toolchain knows but cannot verify is refused (a Gradle build), else null. */
  unsupported?(repo: RepoFacts): string | null;
  /** Workspace member directories on disk; may add their manifests to `manifests`. Called once, when the facts are read. */
  readMembers?(dir: string, manifests: Record<string, string>): Promise<string[]>;
  /** deps/build/test/lint for this repository (before config overrides). */
  commands(repo: RepoFacts, host: HostFacts): ToolchainCommands;
  sandbox: SandboxNeeds;
  /** The command that prints the version of the tool `command` runs (default: `<program> --version`). */
  versionArgv?(command: string[]): string[];
  /** Output lines meant for the parser, not for the progress view. */
  isMachineLine?(line: string): boolean;
  /** Reads a command's output in one of the toolchain's formats; unknown formats give nothing. */
  parse(format: string, output: CommandOutput): { diagnostics: Diagnostic[]; tests: TestReport | null };
  /** One line for a failed dependency fetch. */
  depsFailureLine?(text: string, exitCode: number | null): string;
  /** The command narrowed to the packages the changed files touch; null when it must cover all. */
  narrow?(argv: string[], workspace: Workspace, changedFiles: string[]): NarrowedCommand | null;
  /** The base's failures as a run narrowed to `packages` names them (those outside dropped). */
  scopeBaselineFailures?(
    failures: TestFailure[],
    scope: { packages: string[]; workspace: Workspace },
    changeNames: string[],
  ): TestFailure[];
  /**
   * The test command narrowed to `names` (as `parse` reports them), to re-run suspected flaky tests;
   * null (or absent) when the command cannot name single tests, and the whole command runs again.
   */
  selectTests?(argv: string[], names: string[], format: string): string[] | null;
  /** The name a task would call a test by (default: the last `::`, ` > ` or ` - ` segment of its name). */
  testLeaf?(name: string): string;
  /** Whether a file is test code (run against the base to find evidence). */
  isTestFile(file: string): boolean;
  /** How a new test reproducing a reported behaviour is written here (generate.reproduce); absent: generic advice. */
  reproduction?: ReproductionIdiom;
  /** The base's source with the change's inline test code (Rust's `#[cfg(test)]` modules); null when none. */
  withChangeTestCode?(file: string, baseText: string, changeText: string): string | null;
  /** The manifest and lockfile readers of the dependency check. */
  dependencies: DependencyReader | null;
  /** Readers of the same manifests' other lockfile formats (pnpm-lock.yaml beside package-lock.json): one lockfile each. */
  otherLockfiles?: readonly DependencyReader[];
  context: ContextHints;
}
