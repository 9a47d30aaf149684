// Node with npm, pnpm or yarn: everything autodev knows about it, behind the Toolchain interface.
import type { DependencyReader, LockedPackage } from '../../depcheck/types.js';
import type { Toolchain } from '../types.js';
import { nodeContext } from './context.js';
import { pnpmLocked, yarnLocked } from './lockfiles.js';
import { nodeCommands, selectNodeTests } from './commands.js';
import { npmDeclared, npmLocked, npmWorkspaceDirs } from './manifest.js';
import { nodeHostInstall } from './host-install.js';
import { isNodeTestFile, nodeDepsFailureLine, parseNodeTestOutput, parseTsc, parseWorkspaceTestOutput } from './output.js';
import { narrowNodeCommand, pnpmMemberManifests, readNodeMembers, scopeNodeBaselineFailures } from './workspace.js';

function npmReader(lockfile: string, locked: (text: string) => LockedPackage[]): DependencyReader {
  return {
    ecosystem: 'npm',
    manifest: 'package.json',
    lockfile,
    registry: 'npm',
    memberManifests: (rootText, files) => npmWorkspaceDirs(rootText, files).map((dir) => `${dir}/package.json`),
    declared: (file, text) => npmDeclared(file, text),
    locked,
    localLockedIsOwnCode: false,
    lockInstallScripts: lockfile !== 'yarn.lock',
    buildDependenciesRun: false,
  };
}

export const node: Toolchain = {
  id: 'node',
  language: 'Node',
  manifests: ['package.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'pnpm-workspace.yaml', 'tsconfig.json'],
  // pnpm and yarn run through corepack (or as found on PATH) when the project pins them or its lockfile says so.
  hostPrograms: ['npm', 'corepack', 'pnpm', 'yarn'],
  sandboxPrograms: ['node', 'npm', 'npx', 'corepack', 'pnpm', 'yarn'],
  hostInstall: nodeHostInstall,
  doctor: [
    { name: 'npm', command: ['npm', '--version'], purpose: 'Node projects', fallback: 'none: Node projects cannot be verified' },
    {
      name: 'corepack',
      command: ['corepack', '--version'],
      purpose: 'pnpm and Yarn projects (the version they pin)',
      fallback: 'a pnpm or yarn on PATH, else npm',
    },
  ],
  detect: (repo) => (repo.files.includes('package.json') ? 'package.json' : null),
  readMembers: readNodeMembers,
  commands: nodeCommands,
  // node_modules lives in the repository's own checkout. What corepack downloads (pnpm, yarn) and
  // the package managers' stores are shared by every task; only the install writes them.
  sandbox: {
    caches: [
      { dir: 'corepack', perRepository: false, writer: 'deps', env: 'COREPACK_HOME' },
      { dir: 'pnpm-store', perRepository: false, writer: 'deps', env: 'npm_config_store_dir' },
      { dir: 'yarn-cache', perRepository: false, writer: 'deps', env: 'YARN_CACHE_FOLDER' },
      { dir: 'yarn-berry', perRepository: false, writer: 'deps', env: 'YARN_GLOBAL_FOLDER' },
    ],
    env: {
      // Corepack never asks, never writes a `packageManager` pin into the user's package.json, and
      // never looks up a newer default; it downloads from the npm registry (repo.yarnpkg.com is
      // often out of reach where the npm registry is not).
      COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
      COREPACK_ENABLE_AUTO_PIN: '0',
      COREPACK_DEFAULT_TO_LATEST: '0',
      COREPACK_NPM_REGISTRY: 'https://registry.npmjs.org',
      npm_config_update_notifier: 'false',
      // pnpm 10 would download the version a project pins itself; corepack already runs it.
      npm_config_manage_package_manager_versions: 'false',
      // Never a hard link into the shared store: the change's code could write through it.
      npm_config_package_import_method: 'clone-or-copy',
      YARN_ENABLE_TELEMETRY: '0',
      YARN_ENABLE_GLOBAL_CACHE: 'true',
    },
    offlineEnv: { COREPACK_ENABLE_NETWORK: '0', YARN_ENABLE_NETWORK: '0', npm_config_offline: 'true' },
  },
  // `corepack pnpm@10.28.1+sha1.… --version` says pnpm's version, not corepack's.
  versionArgv: (command) => (command[0] === 'corepack' && command[1] ? ['corepack', command[1], '--version'] : [command[0], '--version']),
  parse(format, { stdout, stderr }) {
    if (format === 'node-test') return { diagnostics: [], tests: parseNodeTestOutput(stdout, stderr) };
    if (format === 'node-test-workspace') return { diagnostics: [], tests: parseWorkspaceTestOutput(stdout, stderr) };
    if (format === 'tsc') return { diagnostics: parseTsc(`${stdout}\n${stderr}`), tests: null };
    return { diagnostics: [], tests: null };
  },
  depsFailureLine: nodeDepsFailureLine,
  narrow: narrowNodeCommand,
  selectTests: selectNodeTests,
  scopeBaselineFailures: (failures, scope) => scopeNodeBaselineFailures(failures, scope),
  isTestFile: isNodeTestFile,
  reproduction: {
    conventions:
      "A new test file named like the project's existing tests (`test/<name>.test.js`, `*.test.ts`, `__tests__/…`), written for the runner the `test` script in package.json uses (node:test, jest, vitest or mocha), importing the module under test by a relative path. No new dependencies.",
  },
  dependencies: npmReader('package-lock.json', npmLocked),
  // The dependency check reads package.json through the first reader; each lockfile through its own.
  otherLockfiles: [
    // pnpm's workspace members are named by pnpm-workspace.yaml (which declares no dependency itself).
    {
      ...npmReader('pnpm-lock.yaml', pnpmLocked),
      manifest: 'pnpm-workspace.yaml',
      memberManifests: pnpmMemberManifests,
      declared: () => ({ declared: [], scripts: [] }),
    },
    npmReader('yarn.lock', yarnLocked),
  ],
  context: nodeContext,
};
