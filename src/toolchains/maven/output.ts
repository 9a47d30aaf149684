// What Maven said: javac's messages (`[ERROR] /abs/File.java:[line,col] message`), a goal that
// failed for another reason (a dependency not in the local repository offline), Checkstyle's
// violations, and the per-test results of Surefire's XML reports.
//
// Test names: `<class>#<method>` (`com.acme.CalcTest#divides`; a parameterized case keeps its
// index, `com.acme.CalcTest#positive(int)[1]`), prefixed by the module's directory in a
// multi-module build (`core/com.acme.CalcTest#divides`), so the same class in two modules stays two
// tests and a narrowed run's failures can be told apart by module.
import path from 'node:path';
import { junitReport, readJUnitCases, type JUnitCase } from '../junit.js';
import { cleanLines, fetchFailureReason } from '../text.js';
import type { CommandOutput, Diagnostic, TestReport } from '../types.js';

const JAVAC = /^\[(ERROR|WARNING)\] (.+?\.java):\[(\d+)(?:,(\d+))?\] (.*)$/;
const GOAL_FAILED = /^\[ERROR\] Failed to execute goal (?:(\S+) \(([^)]*)\) )?on project ([^:]+): (.*)$/;

/** A path as the tool printed it, relative to the repository when it lies inside it. */
function relative(file: string, root: string | undefined): string {
  if (!root || !path.posix.isAbsolute(file)) return file;
  const rel = path.posix.relative(root, file);
  return rel.startsWith('..') ? file : rel;
}

/**
 * javac's errors and warnings as Maven prints them (each once: Maven repeats the errors in its
 * failure summary), with the indented lines that belong to a message (`symbol:`, `location:`).
 * When a goal failed without a javac message (a dependency missing offline, a plugin that could
 * not run), that failure is one unlocated error, so the reason reaches the summary and the model.
 */
export function parseMavenOutput(text: string, root?: string): Diagnostic[] {
  const lines = cleanLines(text);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const m = JAVAC.exec(lines[i]);
    if (!m) continue;
    const detail: string[] = [];
    while (i + 1 < lines.length && /^(?:\[(?:ERROR|WARNING)\])?\s{2,}\S/.test(lines[i + 1]) && !JAVAC.test(lines[i + 1])) {
      detail.push(lines[++i].replace(/^\[(?:ERROR|WARNING)\]/, '').trim());
    }
    const file = relative(m[2], root);
    const message = m[5].trim();
    const key = `${m[1]}|${file}|${m[3]}|${m[4] ?? ''}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      level: m[1] === 'ERROR' ? 'error' : 'warning',
      code: null,
      message,
      file,
      line: Number(m[3]),
      column: m[4] ? Number(m[4]) : null,
      rendered: [
        `${file}:${m[3]}${m[4] ? `:${m[4]}` : ''}: ${m[1] === 'ERROR' ? 'error' : 'warning'}: ${message}`,
        ...detail.map((d) => `  ${d}`),
      ].join('\n'),
    });
  }
  if (out.some((d) => d.level === 'error')) return out;
  for (const line of lines) {
    const goal = GOAL_FAILED.exec(line);
    // A failing test run is said by the reports; a compile failure by javac's lines above.
    if (!goal || /There are test failures|Compilation failure/.test(goal[4])) continue;
    const message = goal[4].replace(/\s*->\s*\[Help \d+\]\s*$/, '').trim();
    out.push({
      level: 'error',
      code: goal[1] ?? 'maven',
      message: `${goal[3]}: ${offlineHint(message)}`,
      file: null,
      line: null,
      column: null,
      rendered: line.replace(/^\[ERROR\] /, ''),
    });
  }
  return out;
}

// Maven's own words for a missing artifact offline ("Cannot access central … in offline mode and
// the artifact … has not been downloaded from it before") say nothing of why it is offline.
function offlineHint(message: string): string {
  const artifact = /the artifact (\S+) has not been downloaded/.exec(message)?.[1];
  if (!artifact) return message;
  return `${artifact} is not in the local repository and the build runs offline (dependencies are fetched only before the change, from the base's pom): ${message}`;
}

// maven-checkstyle-plugin's console lines: `[ERROR] src/main/java/A.java:[4,20] (misc) FinalParameters: Parameter a should be final.`
const CHECKSTYLE = /^\[(?:ERROR|WARN|WARNING|INFO)\] (.+?\.java):\[(\d+)(?:,(\d+))?\] \(([\w-]+)\) (\w+): (.*)$/;

/** Checkstyle's violations as the Maven plugin prints them, as warnings coded `checkstyle:<Check>`. */
export function parseCheckstyle(text: string, root?: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of cleanLines(text)) {
    const m = CHECKSTYLE.exec(line.trim());
    if (!m) continue;
    const file = relative(m[1], root);
    out.push({
      level: 'warning',
      code: `checkstyle:${m[5]}`,
      message: m[6],
      file,
      line: Number(m[2]),
      column: m[3] ? Number(m[3]) : null,
      rendered: `${file}:${m[2]}${m[3] ? `:${m[3]}` : ''}: ${m[6]} [${m[5]}]`,
    });
  }
  return out;
}

/**
 * A lint run: Checkstyle's violations, and javac's errors when the code did not compile. The
 * plugin's closing "You have N Checkstyle violations" is no diagnostic of its own (its count changes
 * with every violation, so it would always read as new).
 */
export function parseMavenLint(text: string, root?: string): Diagnostic[] {
  const javac = parseMavenOutput(
    cleanLines(text)
      .filter((l) => !CHECKSTYLE.test(l.trim()))
      .join('\n'),
    root,
  ).filter((d) => d.level === 'error' && d.file !== null);
  return [...javac, ...parseCheckstyle(text, root)];
}

const REPORT_DIR = /(?:^|\/)target\/(?:surefire|failsafe)-reports\/[^/]+$/;

/** The module directory a report was written under (`core/target/surefire-reports/…` → `core`), `.` for the root. */
function moduleOf(reportPath: string): string {
  const m = REPORT_DIR.exec(reportPath);
  if (!m) return '.';
  const dir = reportPath.slice(0, m.index);
  return dir === '' ? '.' : dir;
}

/** A failure's text for people and the model: the message and the frames of the project's own code. */
function failureText(c: JUnitCase): string {
  const lines = c.text.split('\n');
  const kept: string[] = [];
  let frames = 0;
  for (const line of lines) {
    const frame = /^\s*at\s+(\S+)/.exec(line);
    if (!frame) {
      if (kept.length < 40) kept.push(line.trimEnd());
      continue;
    }
    if (/^(?:java\.|javax\.|jdk\.|sun\.|org\.junit\.|junit\.|org\.apache\.maven\.|org\.opentest4j\.)|^java\.base\//.test(frame[1]))
      continue;
    if (frames++ < 8) kept.push(line.trimEnd());
  }
  return kept.join('\n').trim() || c.message;
}

/**
 * The tests of Surefire's TEST-*.xml reports (one per class and module). Null when there is no
 * report: the run stopped before the tests (javac errors, a missing dependency), which the
 * diagnostics say.
 */
export function parseSurefireReports(reports: CommandOutput['reports']): TestReport | null {
  const files = (reports ?? []).filter((r) => /(?:^|\/)TEST-[^/]+\.xml$/.test(r.path));
  if (files.length === 0) return null;
  const cases: { module: string; c: JUnitCase }[] = [];
  for (const file of files) for (const c of readJUnitCases(file.text)) cases.push({ module: moduleOf(file.path), c });
  const moduleByCase = new Map(cases.map((x) => [x.c, x.module]));
  return junitReport(
    cases.map((x) => x.c),
    (c) => {
      const module = moduleByCase.get(c) ?? '.';
      const name = `${c.classname || c.suite}#${c.name}`;
      // A module's tests carry its directory (the root's, in a single-module build, none).
      return module !== '.' ? `${module}/${name}` : name;
    },
    failureText,
  );
}

/** Test sources by Maven's layout (`src/test/java`) and the usual class names (`FooTest`, `TestFoo`, `FooIT`). */
export function isJavaTestFile(file: string): boolean {
  const f = file.replace(/\\/g, '/');
  if (!/\.(java|kt|groovy)$/.test(f)) return false;
  if (/(^|\/)src\/(test|it|integration-test)\//.test(f)) return true;
  return /(^|\/)(Test[A-Z]\w*|\w+(Test|Tests|IT|TestCase))\.java$/.test(f);
}

/** One line for a failed `deps` run: the artifact Maven could not fetch, or its error. */
export function mavenDepsFailureLine(text: string, exitCode: number | null): string {
  const lines = cleanLines(text);
  const missing =
    /Could not (?:resolve|find artifact|transfer artifact) ([^\s:]+:[^\s:]+:[^\s]+)/.exec(text)?.[1] ??
    /The following artifacts could not be resolved: ([^,:\s]+:[^,:\s]+:[^,\s]+)/.exec(text)?.[1] ??
    null;
  const goal = lines.map((l) => GOAL_FAILED.exec(l)).find((m) => m);
  const reason = goal ? goal[4].replace(/\s*->\s*\[Help \d+\]\s*$/, '') : fetchFailureReason(text, exitCode);
  if (missing) return `cannot fetch dependency ${missing.replace(/[:,.]+$/, '')}: ${reason}`;
  return `dependencies could not be fetched: ${reason}`;
}
