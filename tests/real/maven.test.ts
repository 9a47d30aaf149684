// Java with Maven, end to end through the built CLI in bubblewrap: a tiny project with one real main
// dependency (commons-lang3) and JUnit 5, fetched from Maven Central by the deps step into a local
// repository shared by every Maven test (a download cache: one fetch per machine, not per test),
// then built and tested offline. One run covers the repair loop: a patch javac rejects, then one
// that adds a dependency the local repository lacks (offline, it fails with a reason that says so),
// then the fix, which adds a dependency that is present (flagged in the PR body) and deletes a test
// class (its report from the base's run must not be read as this run's). A second run shows a
// Gradle build refused with one line; a third test runs the toolchain's commands on a real reactor.
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { maven } from '../../src/toolchains/maven/index.js';
import { mavenCommands, SUREFIRE_REPORTS } from '../../src/toolchains/maven/commands.js';
import { parseSurefireReports } from '../../src/toolchains/maven/output.js';
import { narrowMaven, readMavenMembers, scopeMavenFailures } from '../../src/toolchains/maven/workspace.js';
import type { RepoFacts, ReportFile } from '../../src/toolchains/types.js';
import { e2eSuite } from '../e2e/harness.js';
import { git, makeRepo } from '../support/fixture-repo.js';
import { reply } from '../support/calc-crate.js';
import type { Tree } from './fixtures.js';
import { RUN_TIMEOUT, explain, planOnly, promptsSent, realRun, step } from './helpers.js';

const { cache } = e2eSuite();
/** Maven's local repository, kept across test runs (only downloads live there). */
const SHARED_M2 = path.join(os.tmpdir(), 'autodev-test-m2');

async function shareLocalRepository(): Promise<void> {
  await mkdir(SHARED_M2, { recursive: true });
  await mkdir(path.join(cache, 'autodev'), { recursive: true });
  await symlink(SHARED_M2, path.join(cache, 'autodev', 'maven-repo')).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>calc</artifactId>
  <version>1.0</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <junit.version>5.14.1</junit.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.apache.commons</groupId>
      <artifactId>commons-lang3</artifactId>
      <version>3.17.0</version>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>\${junit.version}</version>
      <scope>test</scope>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.5.2</version></plugin>
    </plugins>
  </build>
</project>
`;

const CALC = `package com.acme;

import org.apache.commons.lang3.StringUtils;

public class Calc {
    public int add(int a, int b) {
        return a + b;
    }

    public int div(int a, int b) {
        return a * b;
    }

    public String shout(String text) {
        return StringUtils.upperCase(text) + "!";
    }
}
`;

const CALC_TEST = `package com.acme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CalcTest {
    @Test
    void adds() {
        assertEquals(3, new Calc().add(1, 2));
    }

    @Test
    void divides() {
        assertEquals(2, new Calc().div(4, 2));
    }

    @Test
    void shouts() {
        assertEquals("HI!", new Calc().shout("hi"));
    }
}
`;

const FILES: Tree = {
  '.gitignore': 'target/\n',
  'pom.xml': POM,
  'src/main/java/com/acme/Calc.java': CALC,
  'src/test/java/com/acme/CalcTest.java': CALC_TEST,
  // Fails on the base and has nothing to do with the task: reported, never blamed.
  'src/test/java/com/acme/ClockTest.java':
    'package com.acme;\n\nimport static org.junit.jupiter.api.Assertions.assertEquals;\n\nimport org.junit.jupiter.api.Test;\n\nclass ClockTest {\n    @Test\n    void knowsTheYear() {\n        assertEquals(1999, 2000);\n    }\n}\n',
  // Passes on the base; the fix deletes it, so it is gone, not passing from a stale report.
  'src/test/java/com/acme/LegacyTest.java':
    'package com.acme;\n\nimport static org.junit.jupiter.api.Assertions.assertTrue;\n\nimport org.junit.jupiter.api.Test;\n\nclass LegacyTest {\n    @Test\n    void works() {\n        assertTrue(true);\n    }\n}\n',
};

const TASK = { title: 'Fix Calc.div', description: 'CalcTest divides fails: div multiplies instead of dividing.' };

const PARAMS_DEPENDENCY = `    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter-params</artifactId>
      <version>\${junit.version}</version>
      <scope>test</scope>
    </dependency>
  </dependencies>`;

/** A diff from `before` to `after`; a file mapped to null is deleted. */
async function diff(before: Tree, after: Record<string, string | null>): Promise<string> {
  const dir = await makeRepo(before);
  for (const [file, text] of Object.entries(after)) {
    if (text === null) await git(dir, ['rm', '-q', file]);
    else await writeFile(path.join(dir, file), text);
  }
  await git(dir, ['add', '-A']);
  return `${await git(dir, ['diff', '--cached', '--no-color', '--no-renames'])}\n`;
}

describe('a Maven project', () => {
  it(
    'fetches into the shared local repository, repairs a javac error and an offline dependency, fixes the test and flags the added dependency',
    async () => {
      await shareLocalRepository();
      const broken = await diff(FILES, { 'src/main/java/com/acme/Calc.java': CALC.replace('return a * b;', 'return a / c;') });
      const unfetched = await diff(FILES, {
        'pom.xml': POM.replace(
          '  </dependencies>',
          '    <dependency>\n      <groupId>org.apache.commons</groupId>\n      <artifactId>commons-text</artifactId>\n      <version>1.12.0</version>\n    </dependency>\n  </dependencies>',
        ),
        'src/main/java/com/acme/Calc.java': CALC.replace('return a * b;', 'return a / b;'),
      });
      const fixed = await diff(FILES, {
        'pom.xml': POM.replace('  </dependencies>', PARAMS_DEPENDENCY),
        'src/main/java/com/acme/Calc.java': CALC.replace('return a * b;', 'return a / b;'),
        'src/test/java/com/acme/CalcTest.java': CALC_TEST.replace(
          'import org.junit.jupiter.api.Test;',
          'import org.junit.jupiter.api.Test;\nimport org.junit.jupiter.params.ParameterizedTest;\nimport org.junit.jupiter.params.provider.ValueSource;',
        ).replace(
          '    @Test\n    void shouts() {',
          '    @ParameterizedTest\n    @ValueSource(ints = {1, 5})\n    void dividesByItself(int x) {\n        assertEquals(1, new Calc().div(x, x));\n    }\n\n    @Test\n    void shouts() {',
        ),
        'src/test/java/com/acme/LegacyTest.java': null,
      });
      const run = await realRun({
        files: FILES,
        task: TASK,
        replies: [reply('Divide in div', broken), reply('Divide in div', unfetched), reply('Divide in div', fixed)],
        cache,
        forgeRepo: 'acme/calc',
      });
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
      expect(run.json.status).toBe('pr_created');

      // deps fetched with network; the base's test run named every test, the unrelated failure included.
      expect(step(run.json, 'deps')[0].status).toBe('ok');
      expect(run.json.baseline.failingTests.sort()).toEqual(['com.acme.CalcTest#divides', 'com.acme.ClockTest#knowsTheYear']);

      // Round 1: javac's error, located in the repository.
      const builds = step(run.json, 'build', { mode: 'change' });
      expect(builds.map((b) => b.status)).toEqual(['failed', 'failed', 'ok']);
      expect(builds[0].summary).toMatch(/cannot find symbol/);
      const prompts = promptsSent(run.llm);
      expect(prompts[1]).toMatch(/src\/main\/java\/com\/acme\/Calc\.java:11:20: error: cannot find symbol/);
      // Round 2: the dependency the local repository lacks fails offline, and says why.
      expect(builds[1].summary).toMatch(/commons-text:jar:1\.12\.0 is not in the local repository and the build runs offline/);
      expect(prompts[2]).toMatch(/commons-text/);

      // Round 3: verified; the base's failure in ClockTest is not blamed; the deleted class is gone, not passing.
      const test = step(run.json, 'test', { mode: 'change' }).at(-1)!;
      expect(test.status).toBe('ok');
      expect(test.summary).toMatch(/fixes 1 test\(s\) failing on the base: com\.acme\.CalcTest#divides/);
      expect(test.summary).toMatch(/gone \(ran on the base, not with the change\): com\.acme\.LegacyTest#works/);
      expect(test.summary).toMatch(/5 passed, 1 failed/);

      const [pull] = run.github.pulls('acme', 'calc');
      expect(pull.body).toMatch(/1 added \(org\.junit\.jupiter:junit-jupiter-params 5\.14\.1 dev\)/);
      expect(run.json.change?.files.sort()).toEqual([
        'pom.xml',
        'src/main/java/com/acme/Calc.java',
        'src/test/java/com/acme/CalcTest.java',
        'src/test/java/com/acme/LegacyTest.java',
      ]);
    },
    RUN_TIMEOUT * 3,
  );

  it(
    'plans mvn with the reports and stops a Gradle build with one line (exit 1) before anything runs',
    async () => {
      const { outcome, plan } = await planOnly(FILES, cache);
      expect(outcome.code).toBe(0);
      expect(plan.toolchain).toBe('maven');
      const byId = Object.fromEntries(plan.steps.map((s) => [s.id, s]));
      expect(byId.test.command).toEqual(['mvn', '-o', '-B', '-fae', 'test']);
      expect(byId.test.inputs.reports).toEqual(['**/target/surefire-reports/TEST-*.xml']);
      expect(byId.deps.network).toBe(true);

      const gradle: Tree = { 'build.gradle': "plugins { id 'java' }\n", 'src/main/java/A.java': 'class A {}\n' };
      const planned = await planOnly(gradle, cache);
      expect(planned.plan.toolchain).toBeNull();
      expect(planned.plan.notes.join('\n')).toMatch(/Gradle projects are not supported yet \(found build\.gradle/);

      const ran = await realRun({ files: gradle, task: TASK, replies: [], cache, forgeRepo: 'acme/gradle' });
      expect(ran.outcome.code).toBe(1);
      expect(ran.outcome.stderr).toMatch(/Gradle projects are not supported yet \(found build\.gradle/);
      expect(ran.llm.chatBodies()).toHaveLength(0);
      expect(ran.outcome.stderr).not.toMatch(/\n\s+at /);
    },
    RUN_TIMEOUT,
  );
});

const PLUGINS =
  '<plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>' +
  '<plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.5.2</version></plugin>';
const PARENT = '<parent><groupId>com.acme</groupId><artifactId>parent</artifactId><version>1.0</version></parent>';
const javaTest = (pkg: string, cls: string, body: string) =>
  `package ${pkg};\nimport org.junit.jupiter.api.Test;\nimport static org.junit.jupiter.api.Assertions.*;\nclass ${cls} {\n  @Test void ${body}\n}\n`;

const REACTOR: Record<string, string> = {
  'pom.xml': `<project><modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId><artifactId>parent</artifactId><version>1.0</version><packaging>pom</packaging>
<modules><module>core</module><module>app</module><module>tools</module></modules>
<properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
<dependencies><dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId><version>5.14.1</version><scope>test</scope></dependency></dependencies>
<build><plugins>${PLUGINS}</plugins></build></project>\n`,
  'core/pom.xml': `<project><modelVersion>4.0.0</modelVersion>${PARENT}<artifactId>core</artifactId></project>\n`,
  'app/pom.xml': `<project><modelVersion>4.0.0</modelVersion>${PARENT}<artifactId>app</artifactId><dependencies><dependency><groupId>com.acme</groupId><artifactId>core</artifactId><version>1.0</version></dependency></dependencies></project>\n`,
  'tools/pom.xml': `<project><modelVersion>4.0.0</modelVersion>${PARENT}<artifactId>tools</artifactId></project>\n`,
  'core/src/main/java/c/Core.java': 'package c;\npublic class Core { public static int two() { return 2; } }\n',
  'core/src/test/java/c/CoreTest.java': javaTest('c', 'CoreTest', 'two() { assertEquals(2, Core.two()); }'),
  'app/src/main/java/a/App.java': 'package a;\npublic class App { public static int four() { return c.Core.two() * 2; } }\n',
  'app/src/test/java/a/AppTest.java': javaTest('a', 'AppTest', 'four() { assertEquals(4, App.four()); }'),
  'tools/src/test/java/t/ToolTest.java': javaTest('t', 'ToolTest', 'broken() { fail("broken on the base"); }'),
};

async function mvn(dir: string, argv: string[]): Promise<{ exitCode: number; reports: ReportFile[]; output: string }> {
  // As the verify step does: no report of an earlier run is read as this one's.
  for (const stale of await glob([SUREFIRE_REPORTS], { cwd: dir })) await rm(path.join(dir, stale));
  const cache = maven.sandbox.caches[0];
  const env = { MAVEN_OPTS: cache.envValue!.split('{dir}').join(SHARED_M2) };
  const result = await execa(argv[0], argv.slice(1), { cwd: dir, env, reject: false, all: true });
  const reports: ReportFile[] = [];
  for (const file of (await glob([SUREFIRE_REPORTS], { cwd: dir })).sort()) {
    const text = await readFile(path.join(dir, file), 'utf8');
    reports.push({ path: file, text });
  }
  return { exitCode: result.exitCode ?? -1, reports, output: result.all ?? '' };
}

// Not through the CLI (a run covers one change): the toolchain's own commands, narrowing and report
// reader against real mvn on a reactor (core ← app, and tools beside them).
describe('a real Maven reactor', () => {
  it('fetches, then runs offline narrowed to the touched module and its dependents, tests named by module', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-reactor-'));
    for (const [file, text] of Object.entries(REACTOR)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    await mkdir(SHARED_M2, { recursive: true });
    const manifests: Record<string, string> = { 'pom.xml': REACTOR['pom.xml'] };
    const repo: RepoFacts = { files: ['pom.xml', 'core', 'app', 'tools'], manifests, branch: 'main' };
    repo.members = { maven: await readMavenMembers(dir, manifests) };
    const commands = mavenCommands(repo, { programs: {}, autoSandbox: null, installed: {} });

    const deps = await mvn(dir, commands.deps!.argv);
    expect({ exitCode: deps.exitCode, tail: deps.exitCode ? deps.output.slice(-3000) : '' }).toEqual({ exitCode: 0, tail: '' });

    // The base: the whole reactor, offline; tools' test fails there.
    const base = await mvn(dir, commands.test.argv);
    const baseTests = parseSurefireReports(base.reports)!;
    expect(base.exitCode).toBe(1);
    expect(baseTests.failed.map((f) => f.name)).toEqual(['tools/t.ToolTest#broken']);
    expect(baseTests.passed.sort()).toEqual(['app/a.AppTest#four', 'core/c.CoreTest#two']);

    // A change in core: core and app run (offline, core built in the same reactor), tools does not.
    const narrowed = narrowMaven(commands.test.argv, commands.workspace!, ['core/src/main/java/c/Core.java'])!;
    expect(narrowed.label).toBe('-pl app,core -am');
    const change = await mvn(dir, narrowed.argv);
    const changeTests = parseSurefireReports(change.reports)!;
    expect({ exitCode: change.exitCode, tail: change.exitCode ? change.output.slice(-3000) : '' }).toEqual({ exitCode: 0, tail: '' });
    expect(changeTests.passed.sort()).toEqual(['app/a.AppTest#four', 'core/c.CoreTest#two']);
    expect(scopeMavenFailures(baseTests.failed, { packages: narrowed.packages, workspace: commands.workspace! })).toEqual([]);
  }, 300_000);
});
