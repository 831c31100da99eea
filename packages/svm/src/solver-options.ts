import { ConfigError } from '@ml/core/plain';

import type { SolverSettings } from './internal/libsvm.js';

/** Options of the SMO solver, shared by every estimator (scikit-learn's names and defaults). */
export interface SolverOptions {
  /** Stopping tolerance on the maximal KKT violation (default 1e-3). */
  tol: number;
  /** Shrinking heuristic: set aside bounded variables that are unlikely to move (default true). */
  shrinking: boolean;
  /** Kernel cache size limit in MB, per binary subproblem (default 200). */
  cacheSize: number;
  /**
   * Solver iteration limit per subproblem (default Infinity: run to tolerance). Reaching it does not
   * throw: the model is kept and `fitInfo.converged` is false with a warning in `fitInfo.warnings`.
   */
  maxIter: number;
}

/** Default {@link SolverOptions}. */
export const DEFAULT_SOLVER_OPTIONS: Readonly<SolverOptions> = {
  tol: 1e-3,
  shrinking: true,
  cacheSize: 200,
  maxIter: Infinity,
};

/** What one fit did: solver iterations per binary subproblem, whether all reached the tolerance, and warnings. */
export interface FitInfo {
  iterations: number[];
  converged: boolean;
  warnings: string[];
}

/** Throws ConfigError unless tol > 0, cacheSize > 0 and maxIter is a positive integer or Infinity. */
export function checkSolverOptions(where: string, o: SolverOptions): void {
  if (!(typeof o.tol === 'number' && Number.isFinite(o.tol) && o.tol > 0))
    throw new ConfigError(`${where}: tol must be a finite number > 0, got ${o.tol}`);
  if (typeof o.shrinking !== 'boolean')
    throw new ConfigError(`${where}: shrinking must be a boolean, got ${String(o.shrinking)}`);
  if (!(typeof o.cacheSize === 'number' && Number.isFinite(o.cacheSize) && o.cacheSize > 0))
    throw new ConfigError(`${where}: cacheSize (MB) must be a finite number > 0, got ${o.cacheSize}`);
  if (!(o.maxIter === Infinity || (Number.isInteger(o.maxIter) && o.maxIter > 0)))
    throw new ConfigError(`${where}: maxIter must be a positive integer or Infinity, got ${o.maxIter}`);
}

/** Throws ConfigError unless 0 < nu ≤ 1. */
export function checkNu(where: string, nu: number): void {
  if (!(typeof nu === 'number' && nu > 0 && nu <= 1))
    throw new ConfigError(`${where}: nu must be in (0, 1], got ${nu}`);
}

/** The solver settings the internals take. */
export function solverSettings(o: SolverOptions): SolverSettings {
  return {
    tol: o.tol,
    shrinking: o.shrinking,
    cacheBytes: Math.floor(o.cacheSize * 2 ** 20),
    maxIter: o.maxIter,
  };
}

/** The warning a fit records when a subproblem stopped at maxIter. */
export function maxIterWarning(where: string, maxIter: number): string {
  return `${where}: the solver stopped at maxIter (${maxIter}) before reaching tol; the model may be inaccurate (raise maxIter, or scale the data)`;
}
