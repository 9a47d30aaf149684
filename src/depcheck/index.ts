export { cargoDeclared, cargoLocked, cargoLockSource, cargoMemberDirs, crateTraits, parseCargoToml } from './cargo.js';
export {
  addedCrates,
  CARGO_LOCK,
  compareDependencies,
  manifestPaths,
  NPM_LOCK,
  policyDependencies,
  summarizeDependencies,
  withCrateTraits,
} from './compare.js';
export { INSTALL_SCRIPTS, npmDeclared, npmLocked, npmSpec, npmWorkspaceDirs } from './node.js';
export { cargoRange, compareVersions, requirementChange } from './requirement.js';
export type * from './types.js';
