// pom.xml as the plan, the reactor and the dependency check read it: modules, properties,
// dependencyManagement; the dependency check's findings for added, removed, up- and downgraded
// dependencies; narrowing a reactor to the touched modules; Java definitions for context.
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compareDependencies, summarizeDependencies } from '../../../src/depcheck/index.js';
import { javaDefinitions } from '../../../src/toolchains/maven/context.js';
import { maven } from '../../../src/toolchains/maven/index.js';
import { mavenRange } from '../../../src/toolchains/maven/manifest.js';
import { mavenCommands } from '../../../src/toolchains/maven/commands.js';
import { narrowMaven, readMavenMembers, scopeMavenFailures } from '../../../src/toolchains/maven/workspace.js';
import type { HostFacts, RepoFacts } from '../../../src/toolchains/types.js';

const host: HostFacts = { programs: {}, autoSandbox: 'bwrap', installed: {} };

function pom(body: string, coords = '<groupId>com.acme</groupId><artifactId>calc</artifactId><version>1.0</version>'): string {
  return `<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>${coords}${body}</project>\n`;
}

function dep(g: string, a: string, v: string | null, extra = ''): string {
  return `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId>${v ? `<version>${v}</version>` : ''}${extra}</dependency>`;
}

const ROOT = pom(
  `<packaging>pom</packaging><modules><module>core</module><module>app</module></modules>
   <properties><lang.version>3.17.0</lang.version></properties>
   <dependencyManagement><dependencies>${dep('org.apache.commons', 'commons-lang3', '${lang.version}')}</dependencies></dependencyManagement>`,
  '<groupId>com.acme</groupId><artifactId>parent</artifactId><version>1.0</version>',
);
const PARENT = '<parent><groupId>com.acme</groupId><artifactId>parent</artifactId><version>1.0</version></parent>';
const CORE = pom(
  `<dependencies>${dep('org.apache.commons', 'commons-lang3', null)}</dependencies>`,
  `${PARENT}<artifactId>core</artifactId>`,
);
const APP = pom(`<dependencies>${dep('com.acme', 'core', '${project.version}')}</dependencies>`, `${PARENT}<artifactId>app</artifactId>`);
const TOOLS = pom('', `${PARENT}<artifactId>tools</artifactId>`);

describe('the dependency check of pom.xml', () => {
  const reader = maven.dependencies!;
  const base = pom(
    `<properties><junit.version>5.14.1</junit.version></properties><dependencies>${dep('org.apache.commons', 'commons-lang3', '3.17.0')}${dep('org.junit.jupiter', 'junit-jupiter', '${junit.version}', '<scope>test</scope>')}${dep('com.google.guava', 'guava', '33.0.0-jre')}</dependencies>`,
  );

  it('finds added, removed, upgraded and downgraded dependencies, with properties resolved', () => {
    const change = base
      .replace('5.14.1', '5.14.2')
      .replace('<version>3.17.0</version>', '<version>3.12.0</version>')
      .replace(dep('com.google.guava', 'guava', '33.0.0-jre'), dep('org.apache.commons', 'commons-text', '1.12.0'));
    const report = compareDependencies({ files: { 'pom.xml': base } }, { files: { 'pom.xml': change } }, [reader]);
    const byType = Object.fromEntries(report.findings.map((f) => [`${f.type} ${f.name}`, `${f.from ?? ''} → ${f.to ?? ''} (${f.kind})`]));
    expect(byType).toEqual({
      'added org.apache.commons:commons-text': ' → 1.12.0 (normal)',
      'removed com.google.guava:guava': '33.0.0-jre →  (normal)',
      'upgraded org.junit.jupiter:junit-jupiter': '5.14.1 → 5.14.2 (dev)',
      'downgraded org.apache.commons:commons-lang3': '3.17.0 → 3.12.0 (normal)',
    });
    expect(report.warnings).toEqual([]);
    expect(summarizeDependencies(report)).toMatch(/^1 added \(org\.apache\.commons:commons-text 1\.12\.0 normal\), 1 removed/);
  });

  it('follows a property of the root pom into a module, through dependencyManagement', () => {
    const files = (root: string) => ({ 'pom.xml': root, 'core/pom.xml': CORE, 'app/pom.xml': APP });
    const bumped = ROOT.replace('<lang.version>3.17.0</lang.version>', '<lang.version>3.18.0</lang.version>');
    const report = compareDependencies({ files: files(ROOT) }, { files: files(bumped) }, [reader]);
    expect(report.findings.map((f) => [f.type, f.name, f.manifest, f.from, f.to])).toEqual([
      ['upgraded', 'org.apache.commons:commons-lang3', 'pom.xml', '3.17.0', '3.18.0'],
    ]);
    const declared = reader.declared('core/pom.xml', CORE, ROOT).declared;
    expect(declared.map((d) => [d.name, d.requirement, d.inherited])).toEqual([['org.apache.commons:commons-lang3', '3.17.0', true]]);
    expect(reader.memberManifests(ROOT, ['pom.xml', 'core/pom.xml', 'app/pom.xml'])).toEqual(['app/pom.xml', 'core/pom.xml']);
  });

  it('reads Maven version ranges', () => {
    expect(mavenRange('1.2')).toBe('=1.2.0');
    expect(mavenRange('[1.0,2.0)')).toBe('>=1.0.0 <2.0.0');
    expect(mavenRange('${x}')).toBeNull();
  });
});

describe('a Maven reactor', () => {
  async function reactor(): Promise<RepoFacts> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-maven-'));
    const root = ROOT.replace('<module>app</module>', '<module>app</module><module>tools</module>');
    for (const [file, text] of Object.entries({ 'pom.xml': root, 'core/pom.xml': CORE, 'app/pom.xml': APP, 'tools/pom.xml': TOOLS })) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    const manifests: Record<string, string> = { 'pom.xml': root };
    const members = await readMavenMembers(dir, manifests);
    return { files: ['pom.xml', 'core', 'app', 'tools'], manifests, branch: 'main', members: { maven: members } };
  }

  it('finds the modules on disk and narrows to the touched ones and their dependents', async () => {
    const repo = await reactor();
    expect(repo.members?.maven).toEqual(['.', 'app', 'core', 'tools']);
    const commands = mavenCommands(repo, host);
    const workspace = commands.workspace!;
    expect(workspace.members.find((m) => m.name === 'app')?.dependsOn.sort()).toEqual(['core', 'parent']);
    const test = commands.test.argv;
    // core changed: app uses it, so both run; tools does not.
    expect(narrowMaven(test, workspace, ['core/src/main/java/A.java'])).toEqual({
      argv: ['mvn', '-pl', 'app,core', '-am', '-o', '-B', '-fae', 'test'],
      packages: ['parent', 'app', 'core'],
      label: '-pl app,core -am',
    });
    // The root pom is everyone's parent: the whole reactor runs.
    expect(narrowMaven(test, workspace, ['pom.xml'])).toBeNull();
    const failures = [
      { name: 'core/com.acme.CoreTest#a', output: '' },
      { name: 'tools/com.acme.ToolTest#b', output: '' },
    ];
    expect(scopeMavenFailures(failures, { packages: ['parent', 'app', 'core'], workspace }).map((f) => f.name)).toEqual([
      'core/com.acme.CoreTest#a',
    ]);
    expect(commands.lint).toBeNull();
    expect(commands.notes.join('\n')).toMatch(/Maven reactor with 4 module\(s\)/);
  });

  it('lints with Checkstyle only when the pom configures it', () => {
    const text = pom(
      '<build><plugins><plugin><artifactId>maven-checkstyle-plugin</artifactId><version>3.6.0</version></plugin></plugins></build>',
    );
    const commands = mavenCommands({ files: ['pom.xml'], manifests: { 'pom.xml': text }, branch: null }, host);
    expect(commands.lint?.argv).toEqual(['mvn', '-o', '-B', '-fae', 'checkstyle:check']);
    expect(commands.deps?.argv).toContain('checkstyle:check');
  });

  it('refuses a Gradle build by name', () => {
    expect(maven.detect({ files: ['build.gradle.kts'], manifests: {}, branch: null })).toBeNull();
    expect(maven.unsupported?.({ files: ['settings.gradle', 'build.gradle'], manifests: {}, branch: null })).toMatch(
      /^Gradle projects are not supported yet \(found build\.gradle;/,
    );
    expect(maven.unsupported?.({ files: ['pom.xml', 'build.gradle'], manifests: {}, branch: null })).toBeNull();
  });
});

describe('Java definitions', () => {
  it('names types, methods and constructors, not calls or statements', () => {
    const lines: [string, string[]][] = [
      ['public final class Calc {', ['Calc']],
      ['record Point(int x, int y) {}', ['Point']],
      ['sealed interface Shape permits Circle {', ['Shape']],
      ['  enum Mode { A, B }', ['Mode']],
      ['    public static <T extends Comparable<T>> List<T> sorted(Collection<T> items) {', ['sorted']],
      ['    @Test void divides() {', ['divides']],
      ['    public Calc(int seed) {', ['Calc']],
      ['    int add(int a, int b);', ['add']],
      ['    String[] names() throws IOException {', ['names']],
      ['        return add(a, b);', []],
      ['        assertEquals(3, calc.add(1, 2));', []],
      ['        int x = compute(a);', []],
      ['        } else if (a > b) {', []],
      ['        throw new IllegalStateException("x");', []],
    ];
    for (const [line, names] of lines) expect({ line, names: javaDefinitions(line) }).toEqual({ line, names });
  });
});
