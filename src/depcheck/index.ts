export {
  addedPackages,
  compareDependencies,
  manifestPaths,
  policyDependencies,
  summarizeDependencies,
  withCrateTraits,
} from './compare.js';
export { requirementChange } from './requirement.js';
export type * from './types.js';
