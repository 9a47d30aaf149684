// Java with Maven: everything autodev knows about it, behind the Toolchain interface. Gradle builds
// are recognised, and said to be unsupported, rather than mistaken for "no project".
import type { Toolchain } from '../types.js';
import { mavenContext } from './context.js';
import { mavenCommands, selectSurefireTests } from './commands.js';
import { MAVEN_CENTRAL, mavenDeclared } from './manifest.js';
import { isJavaTestFile, mavenDepsFailureLine, parseMavenLint, parseMavenOutput, parseSurefireReports } from './output.js';
import { mavenModuleDirs, narrowMaven, readMavenMembers, scopeMavenFailures } from './workspace.js';

const GRADLE_FILES = ['build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts'];

export const maven: Toolchain = {
  id: 'maven',
  language: 'Java (Maven)',
  manifests: ['pom.xml'],
  hostPrograms: ['mvn', 'java'],
  sandboxPrograms: ['mvn', 'java', 'javac'],
  image: 'maven:3-eclipse-temurin-17',
  doctor: [
    {
      name: 'mvn',
      command: ['mvn', '--version'],
      purpose: 'Java (Maven) build and test',
      fallback: 'none: Maven projects cannot be verified',
    },
    {
      name: 'java',
      command: ['java', '-version'],
      purpose: 'the JVM Maven and the tests run on',
      fallback: 'none: Maven projects cannot be verified',
    },
  ],
  detect: (repo) => (repo.files.includes('pom.xml') ? 'pom.xml' : null),
  unsupported: (repo) => {
    const gradle = GRADLE_FILES.find((f) => repo.files.includes(f));
    return gradle && !repo.files.includes('pom.xml')
      ? `Gradle projects are not supported yet (found ${gradle}; Maven projects with a pom.xml are)`
      : null;
  },
  readMembers: readMavenMembers,
  commands: mavenCommands,
  // The local repository is shared by every task and written only by the fetch; MAVEN_OPTS carries
  // it (mvn reads no variable of its own for it), and user.home the sandbox's HOME, so no
  // ~/.m2/settings.xml of the host (mirrors, credentials) is read. Maven's own JVM stops at the
  // first JIT tier: it starts several times per task and never runs long enough for the second
  // to pay (the tests run in Surefire's fork, which keeps the JVM's defaults).
  sandbox: {
    caches: [
      {
        dir: 'maven-repo',
        perRepository: false,
        writer: 'deps',
        env: 'MAVEN_OPTS',
        envValue: '-Dmaven.repo.local={dir} -Duser.home=/tmp -XX:TieredStopAtLevel=1',
      },
    ],
    env: {},
    offlineEnv: {},
  },
  // `java -version` prints to stderr; Maven's version names its JDK too.
  versionArgv: (command) => (command[0] === 'mvn' ? ['mvn', '-v'] : [command[0], '--version']),
  parse(format, { stdout, stderr, reports, root }) {
    const text = `${stdout}\n${stderr}`;
    if (format === 'maven') return { diagnostics: parseMavenOutput(text, root), tests: null };
    if (format === 'surefire') return { diagnostics: parseMavenOutput(text, root), tests: parseSurefireReports(reports) };
    if (format === 'maven-lint') return { diagnostics: parseMavenLint(text, root), tests: null };
    return { diagnostics: [], tests: null };
  },
  depsFailureLine: mavenDepsFailureLine,
  narrow: narrowMaven,
  selectTests: selectSurefireTests,
  scopeBaselineFailures: (failures, scope) => scopeMavenFailures(failures, scope),
  isTestFile: isJavaTestFile,
  reproduction: {
    conventions:
      'A new JUnit test class `src/test/java/<package path>/<Name>Test.java` (in the module of the code under test), in the package of that code, using the JUnit version the pom.xml already declares (`@Test`, `assertEquals`). No new dependencies.',
  },
  dependencies: {
    ecosystem: 'maven',
    manifest: 'pom.xml',
    // Maven has no lockfile: a pom names the versions fetched.
    lockfile: '',
    registry: MAVEN_CENTRAL,
    memberManifests: (rootText, files) => mavenModuleDirs(rootText, files).map((dir) => `${dir}/pom.xml`),
    declared: mavenDeclared,
    locked: () => [],
    localLockedIsOwnCode: true,
    lockInstallScripts: false,
    buildDependenciesRun: false,
  },
  context: mavenContext,
};
