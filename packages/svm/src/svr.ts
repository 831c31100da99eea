import { ConfigError, checkPositive } from '@ml/core/plain';

import { DEFAULT_SOLVER_OPTIONS } from './solver-options.js';
import { SupportVectorRegressor, type RegressorOptions } from './support-vector-regressor.js';

/** Options of {@link SVR}. */
export interface SvrOptions extends RegressorOptions {
  /** Penalty C > 0 on errors beyond the tube (default 1). */
  C: number;
  /** Half-width ε ≥ 0 of the insensitive tube (default 0.1). */
  epsilon: number;
}

/** Default {@link SvrOptions}: scikit-learn's SVR defaults. */
export const DEFAULT_SVR_OPTIONS: Readonly<SvrOptions> = {
  kernel: 'rbf',
  gamma: 'scale',
  degree: 3,
  coef0: 0,
  C: 1,
  epsilon: 0.1,
  ...DEFAULT_SOLVER_OPTIONS,
};

/**
 * ε-support vector regression (libsvm's ε-SVR, scikit-learn's `SVR`): errors inside ±ε cost nothing,
 * beyond it they cost C per unit.
 *
 * ```ts
 * const svr = await new SVR({ C: 10, epsilon: 0.1 }).fit(xTrain, yTrain);
 * const r2 = await svr.score(xTest, yTest);
 * ```
 */
export class SVR extends SupportVectorRegressor<SvrOptions> {
  constructor(options: Partial<SvrOptions> = {}) {
    const o = { ...DEFAULT_SVR_OPTIONS, ...options };
    checkPositive('SVR', 'C', o.C);
    if (!(typeof o.epsilon === 'number' && Number.isFinite(o.epsilon) && o.epsilon >= 0))
      throw new ConfigError(`SVR: epsilon must be a finite number ≥ 0, got ${o.epsilon}`);
    super('SVR', o);
  }

  protected params(): { C: number; epsilon: number; nu: null } {
    return { C: this.options.C, epsilon: this.options.epsilon, nu: null };
  }

  /** Restores an SVR saved with `toJSON()`; throws CheckpointError on a malformed document. */
  static fromJSON(json: unknown): SVR {
    return SupportVectorRegressor.restore<SvrOptions, SVR>(json, 'SVR', (o) => new SVR(o));
  }
}
