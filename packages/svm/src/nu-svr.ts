import { checkPositive } from '@ml/core/plain';

import { DEFAULT_SOLVER_OPTIONS, checkNu } from './solver-options.js';
import { SupportVectorRegressor, type RegressorOptions } from './support-vector-regressor.js';

/** Options of {@link NuSVR}. */
export interface NuSvrOptions extends RegressorOptions {
  /** Penalty C > 0 (default 1). */
  C: number;
  /** ν in (0, 1]: bounds the fraction of points outside the tube and of support vectors; ε is found by the solver (default 0.5). */
  nu: number;
}

/** Default {@link NuSvrOptions}: scikit-learn's NuSVR defaults. */
export const DEFAULT_NU_SVR_OPTIONS: Readonly<NuSvrOptions> = {
  kernel: 'rbf',
  gamma: 'scale',
  degree: 3,
  coef0: 0,
  C: 1,
  nu: 0.5,
  ...DEFAULT_SOLVER_OPTIONS,
};

/** ν-support vector regression (libsvm's ν-SVR, scikit-learn's `NuSVR`): ν replaces ε and the tube width is learned. */
export class NuSVR extends SupportVectorRegressor<NuSvrOptions> {
  constructor(options: Partial<NuSvrOptions> = {}) {
    const o = { ...DEFAULT_NU_SVR_OPTIONS, ...options };
    checkPositive('NuSVR', 'C', o.C);
    checkNu('NuSVR', o.nu);
    super('NuSVR', o);
  }

  protected params(): { C: number; epsilon: number; nu: number } {
    return { C: this.options.C, epsilon: 0, nu: this.options.nu };
  }

  /** Restores a NuSVR saved with `toJSON()`; throws CheckpointError on a malformed document. */
  static fromJSON(json: unknown): NuSVR {
    return SupportVectorRegressor.restore<NuSvrOptions, NuSVR>(json, 'NuSVR', (o) => new NuSVR(o));
  }
}
