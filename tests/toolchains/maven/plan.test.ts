// The plan of a Maven project: the toolchain's commands with their reports, the shared local
// repository, the toolchain's own container image (and the config's over it), overrides of every
// command, and a Gradle build named in the plan instead of "no known toolchain".
import { describe, expect, it } from '@jest/globals';
import { autodevSchema } from '../../../src/config/schema.js';
import { buildPlan } from '../../../src/plan/planner.js';
import type { HostFacts, RepoFacts } from '../../../src/toolchains/types.js';

const POM =
  '<project><modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId><artifactId>calc</artifactId><version>1.0</version></project>';
const host: HostFacts = { programs: { git: true, mvn: true, java: true, bwrap: true }, autoSandbox: 'bwrap', installed: {} };

function plan(files: Record<string, string>, cfg: Record<string, unknown> = {}) {
  const repo: RepoFacts = { files: Object.keys(files).sort(), manifests: files, branch: 'main' };
  return buildPlan({
    request: {
      repo: 'https://github.com/acme/calc.git',
      title: 'Fix div',
      description: '',
      risk: 'medium',
      noPr: false,
      keepWorkspace: false,
    },
    config: autodevSchema.parse(cfg),
    repo,
    host,
    forge: { owner: 'acme', repo: 'calc' },
  });
}

describe('the plan of a Maven project', () => {
  it('fetches with network, then builds and tests offline with the Surefire reports and the shared local repository', () => {
    const p = plan({ 'pom.xml': POM });
    expect(p.toolchain).toBe('maven');
    const byId = Object.fromEntries(p.steps.map((s) => [s.id, s]));
    expect(byId.deps.network).toBe(true);
    expect(byId.deps.command?.slice(0, 4)).toEqual(['mvn', '-B', '-fae', 'test']);
    expect(byId.build.command).toEqual(['mvn', '-o', '-B', '-q', '-fae', 'compile', 'test-compile']);
    expect(byId.test.inputs.reports).toEqual(['**/target/surefire-reports/TEST-*.xml']);
    expect(byId.test.inputs.caches).toEqual([expect.objectContaining({ dir: 'maven-repo', writer: 'deps', env: 'MAVEN_OPTS' })]);
    expect(p.steps.map((s) => s.id)).not.toContain('lint');
    expect(byId.test.inputs.image).toBe('maven:3-eclipse-temurin-17');
  });

  it('takes every command and the image from the config', () => {
    const p = plan(
      { 'pom.xml': POM },
      { toolchains: { maven: { test: ['mvn', '-o', 'verify'], lint: ['mvn', '-o', 'pmd:check'], image: 'acme/jdk:21' } } },
    );
    const byId = Object.fromEntries(p.steps.map((s) => [s.id, s]));
    expect(byId.test.command).toEqual(['mvn', '-o', 'verify']);
    // An overriding test command is read from the same reports.
    expect(byId.test.inputs.reports).toEqual(['**/target/surefire-reports/TEST-*.xml']);
    expect(byId.lint.command).toEqual(['mvn', '-o', 'pmd:check']);
    expect(byId.test.inputs.image).toBe('acme/jdk:21');
    // A sandbox_image set by the user wins over the toolchain's default.
    expect(plan({ 'pom.xml': POM }, { sandbox_image: 'mine:1' }).steps.find((s) => s.id === 'test')?.inputs.image).toBe('mine:1');
  });

  it('is chosen over Node when the Java project also has a package.json (web assets)', () => {
    expect(plan({ 'pom.xml': POM, 'package.json': '{"name":"assets","scripts":{"test":"jest"}}' }).toolchain).toBe('maven');
    expect(plan({ 'package.json': '{"name":"web"}' }).toolchain).toBe('node');
  });

  it('names a Gradle build as not supported yet', () => {
    const p = plan({ 'build.gradle.kts': 'plugins { java }\n', 'settings.gradle.kts': '' });
    expect(p.toolchain).toBeNull();
    expect(p.toolchainReason).toMatch(/^Gradle projects are not supported yet \(found build\.gradle\.kts;/);
    expect(p.notes.join('\n')).toMatch(/Gradle projects are not supported yet/);
    expect(p.notes.join('\n')).not.toMatch(/No known toolchain/);
  });
});
