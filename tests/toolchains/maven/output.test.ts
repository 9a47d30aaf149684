// Maven's output and Surefire's reports, as captured from real runs (Maven 3.8.7, JDK 17,
// maven-compiler-plugin 3.13.0, surefire 3.5.2, JUnit 5.14.1; fixtures/): javac errors located in
// the repository, a dependency missing offline said plainly, per-test results named
// `<class>#<method>` (with the module's directory in a reactor), and the test-file convention.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { maven } from '../../../src/toolchains/maven/index.js';
import {
  isJavaTestFile,
  mavenDepsFailureLine,
  parseCheckstyle,
  parseMavenLint,
  parseMavenOutput,
  parseSurefireReports,
} from '../../../src/toolchains/maven/output.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => readFileSync(path.join(here, 'fixtures', name), 'utf8');
const ROOT = '/tmp/mvnscratch/p';

describe('javac through Maven', () => {
  it('reads each error once, relative to the repository, with its symbol lines', () => {
    const diagnostics = parseMavenOutput(fixture('javac-error.txt'), ROOT);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      level: 'error',
      file: 'src/main/java/com/acme/Calc.java',
      line: 4,
      column: 47,
      message: 'cannot find symbol',
    });
    expect(diagnostics[0].rendered).toBe(
      'src/main/java/com/acme/Calc.java:4:47: error: cannot find symbol\n  symbol:   variable c\n  location: class com.acme.Calc',
    );
  });

  it('keeps a path outside the repository as printed, and reads warnings', () => {
    const text = '[WARNING] /elsewhere/Gen.java:[2,1] deprecated item\n[ERROR] /tmp/mvnscratch/p/core/src/A.java:[9] missing return\n';
    const diagnostics = parseMavenOutput(text, ROOT);
    expect(diagnostics.map((d) => [d.level, d.file, d.line, d.column])).toEqual([
      ['warning', '/elsewhere/Gen.java', 2, 1],
      ['error', 'core/src/A.java', 9, null],
    ]);
  });

  it('says that a dependency missing offline is not in the local repository', () => {
    const diagnostics = parseMavenOutput(fixture('offline-missing.txt'), ROOT);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0].level).toBe('error');
    expect(diagnostics[0].file).toBeNull();
    expect(diagnostics[0].message).toMatch(
      /^calc: org\.apache\.commons:commons-text:jar:1\.12\.0 is not in the local repository and the build runs offline/,
    );
  });

  it('names the artifact a failed fetch could not get, in one line', () => {
    const line = mavenDepsFailureLine(
      '[ERROR] Failed to execute goal on project calc: Could not resolve dependencies for project com.acme:calc:jar:1.0: Could not find artifact org.nope:ghost:jar:9.9 in central (https://repo.maven.apache.org/maven2) -> [Help 1]\n',
      1,
    );
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^cannot fetch dependency org\.nope:ghost:jar:9\.9: Could not resolve dependencies/);
  });

  it("reads the Checkstyle plugin's violations as warnings, and not its closing count", () => {
    const diagnostics = parseMavenLint(fixture('checkstyle.txt'), ROOT);
    expect(diagnostics).toHaveLength(9);
    expect(diagnostics.every((d) => d.level === 'warning' && d.file === 'src/main/java/com/acme/Calc.java')).toBe(true);
    expect(diagnostics[2]).toMatchObject({
      code: 'checkstyle:FinalParameters',
      line: 4,
      column: 20,
      message: 'Parameter a should be final.',
    });
    expect(diagnostics[0]).toMatchObject({ code: 'checkstyle:JavadocPackage', line: 1, column: null });
    expect(parseCheckstyle(fixture('checkstyle.txt'))).toEqual(diagnostics);
  });
});

describe('Surefire reports', () => {
  const report = fixture('TEST-com.acme.CalcTest.xml');

  it('names each test class#method, parameterized cases by index, with the failure and the project frames only', () => {
    const tests = parseSurefireReports([{ path: 'target/surefire-reports/TEST-com.acme.CalcTest.xml', text: report }])!;
    expect(tests.passed.sort()).toEqual([
      'com.acme.CalcTest#adds',
      'com.acme.CalcTest#positive(int)[1]',
      'com.acme.CalcTest#positive(int)[2]',
    ]);
    expect(tests.failed.map((f) => f.name)).toEqual(['com.acme.CalcTest#divides']);
    const output = tests.failed[0].output;
    expect(output).toMatch(/^org\.opentest4j\.AssertionFailedError: expected: <2> but was: <8>/);
    expect(output).toContain('at com.acme.CalcTest.divides(CalcTest.java:10)');
    expect(output).not.toContain('org.junit.jupiter.api.AssertionFailureBuilder');
    expect(tests.summary).toBe('3 passed, 1 failed');
  });

  it("prefixes a module's tests with its directory, so one class in two modules stays two tests", () => {
    const tests = parseSurefireReports([
      { path: 'core/target/surefire-reports/TEST-com.acme.CalcTest.xml', text: report },
      { path: 'libs/app/target/surefire-reports/TEST-com.acme.CalcTest.xml', text: report },
      { path: 'core/target/surefire-reports/com.acme.CalcTest.txt', text: 'not a report' },
    ])!;
    expect(tests.failed.map((f) => f.name).sort()).toEqual(['core/com.acme.CalcTest#divides', 'libs/app/com.acme.CalcTest#divides']);
    expect(tests.passed).toHaveLength(6);
  });

  it('gives no test report when the run wrote none (it stopped before the tests)', () => {
    expect(parseSurefireReports([])).toBeNull();
    const parsed = maven.parse('surefire', { stdout: fixture('javac-error.txt'), stderr: '', exitCode: 1, reports: [], root: ROOT });
    expect(parsed.tests).toBeNull();
    expect(parsed.diagnostics.map((d) => d.file)).toEqual(['src/main/java/com/acme/Calc.java']);
  });
});

describe('Java test files', () => {
  it('knows Maven’s test tree and the usual class names', () => {
    expect(isJavaTestFile('src/test/java/com/acme/Helper.java')).toBe(true);
    expect(isJavaTestFile('core/src/test/java/com/acme/CalcTest.java')).toBe(true);
    expect(isJavaTestFile('src/main/java/com/acme/CalcIT.java')).toBe(true);
    expect(isJavaTestFile('src/main/java/com/acme/Calc.java')).toBe(false);
    expect(isJavaTestFile('src/main/java/com/acme/Testament.java')).toBe(false);
    expect(isJavaTestFile('src/test/resources/data.txt')).toBe(false);
  });
});
