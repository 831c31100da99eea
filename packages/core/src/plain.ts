// `@ml/core/plain`: the parts of @ml/core that need no tensor engine — error classes, the seeded `Rng`
// and argument checks. Nothing reachable from this file imports @tensorflow/*, so a package built on it
// (such as @ml/svm) installs and loads no tfjs; src/plain-entry.test.ts proves it in a child process.

export {
  BackendError,
  CheckpointError,
  ConfigError,
  DataError,
  MlError,
  ShapeError,
  formatShape,
} from './errors.js';
export { Rng, defaultRng, manualSeed, resolveRng } from './rng.js';
export type { RngState } from './rng.js';
export {
  checkBoolean,
  checkNonEmptyString,
  checkNonNegative,
  checkNonNegativeInt,
  checkPositive,
  checkPositiveInt,
  checkProbability,
  checkRange,
} from './checks.js';
