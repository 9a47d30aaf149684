// Maven's commands for a repository: a fetch that leaves the local repository able to build and
// test offline, then compile, test (Surefire's reports read per test) and, when the pom configures
// Checkstyle or SpotBugs, lint — all with `-o`.
import type { HostFacts, RepoFacts, ToolchainCommands } from '../types.js';
import { parsePom, type Pom } from './pom.js';
import { mavenWorkspace } from './workspace.js';

/** Where Surefire writes its reports, in every module (relative to the repository). */
export const SUREFIRE_REPORTS = '**/target/surefire-reports/TEST-*.xml';

const CHECKSTYLE = 'org.apache.maven.plugins:maven-checkstyle-plugin';
const SPOTBUGS = 'com.github.spotbugs:spotbugs-maven-plugin';

function poms(repo: RepoFacts): Pom[] {
  const files = ['pom.xml', ...(repo.members?.maven ?? []).filter((d) => d !== '.').map((d) => `${d}/pom.xml`)];
  const out: Pom[] = [];
  for (const file of files) {
    try {
      out.push(parsePom(repo.manifests[file] ?? ''));
    } catch {
      // Maven reports a broken pom itself, in the first command that reads it.
    }
  }
  return out;
}

export function mavenCommands(repo: RepoFacts, _host: HostFacts): ToolchainCommands {
  const notes: string[] = [];
  const all = poms(repo);
  const plugins = new Set(all.flatMap((p) => p.plugins));
  const checkstyle = plugins.has(CHECKSTYLE);
  const spotbugs = plugins.has(SPOTBUGS);
  const lintGoals = [...(checkstyle ? ['checkstyle:check'] : []), ...(spotbugs ? ['spotbugs:check'] : [])];
  const workspace = mavenWorkspace(repo);
  if (workspace) {
    const names = workspace.members.map((m) => m.name);
    notes.push(
      `Maven reactor with ${names.length} module(s) (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}): build, test and lint cover all of them, narrowed to the touched modules at run time (-pl <dirs> -am, with the modules that depend on them); the baseline covers the whole reactor.`,
    );
  }
  if (lintGoals.length === 0) notes.push('No Checkstyle or SpotBugs plugin in the pom: no lint step.');
  return {
    // `test` with a filter that selects no method still resolves the Surefire provider (which
    // `dependency:go-offline` misses) along with every plugin and dependency of compile and test,
    // the reactor's own modules included; no test runs. A base that does not compile (the task may
    // be to fix that) still gets its dependencies: javac's errors do not stop the fetch, and -fae
    // keeps one broken module from keeping the others' out of the local repository.
    deps: {
      argv: [
        'mvn',
        '-B',
        '-fae',
        'test',
        ...(spotbugs ? ['spotbugs:check', '-Dspotbugs.failOnError=false'] : []),
        ...(checkstyle ? ['checkstyle:check', '-Dcheckstyle.failOnViolation=false'] : []),
        '-Dtest=*#autodevResolveOnly',
        '-Dsurefire.failIfNoSpecifiedTests=false',
        '-DfailIfNoTests=false',
        '-Dmaven.test.failure.ignore=true',
        '-Dmaven.compiler.failOnError=false',
      ],
      format: 'plain',
    },
    build: { argv: ['mvn', '-o', '-B', '-q', '-fae', 'compile', 'test-compile'], format: 'maven' },
    // -fae: every module's tests run even when one module's fail; the exit code still says so.
    test: { argv: ['mvn', '-o', '-B', '-fae', 'test'], format: 'surefire', reports: [SUREFIRE_REPORTS] },
    lint: lintGoals.length
      ? { argv: ['mvn', '-o', '-B', '-fae', ...(spotbugs ? ['compile'] : []), ...lintGoals], format: 'maven-lint' }
      : null,
    notes,
    ...(workspace ? { workspace } : {}),
  };
}

/**
 * `mvn test` narrowed to the suspected flaky tests with Surefire's filter:
 * `-Dtest=CalcTest#adds+subtracts,…` (the class by its simple name, the form Surefire documents: a
 * class of that name in another package runs too, which decides nothing; methods joined by `+`); a
 * module with none of them passes instead of failing for it (`surefire.failIfNoSpecifiedTests`).
 * A parameterized case (`adds(int)[1]`) runs as its whole method. A name that is no method of a
 * class (a display name with spaces) cannot be named: then the whole command runs again.
 */
export function selectSurefireTests(argv: string[], names: string[], format: string): string[] | null {
  if (format !== 'surefire' || names.length === 0) return null;
  const byClass = new Map<string, Set<string>>();
  for (const name of names) {
    // `<module dir>/<class>#<method>`: the module's directory does not reach the filter.
    const m = /^(?:.*\/)?(?:[\w$]+\.)*([\w$]+)#([\w$]+)(?:[([].*)?$/.exec(name);
    if (!m) return null;
    const methods = byClass.get(m[1]) ?? new Set<string>();
    methods.add(m[2]);
    byClass.set(m[1], methods);
  }
  const filter = [...byClass].map(([cls, methods]) => `${cls}#${[...methods].join('+')}`).join(',');
  return [...argv, `-Dtest=${filter}`, '-Dsurefire.failIfNoSpecifiedTests=false'];
}
