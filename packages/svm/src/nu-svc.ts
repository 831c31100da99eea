import { DEFAULT_SOLVER_OPTIONS, checkNu } from './solver-options.js';
import { SupportVectorClassifier, type ClassifierOptions } from './support-vector-classifier.js';

/** Options of {@link NuSVC}. */
export interface NuSvcOptions extends ClassifierOptions {
  /** ν in (0, 1]: an upper bound on the fraction of margin errors and a lower bound on the fraction of support vectors (default 0.5). */
  nu: number;
}

/** Default {@link NuSvcOptions}: scikit-learn's NuSVC defaults. */
export const DEFAULT_NU_SVC_OPTIONS: Readonly<NuSvcOptions> = {
  kernel: 'rbf',
  gamma: 'scale',
  degree: 3,
  coef0: 0,
  nu: 0.5,
  ...DEFAULT_SOLVER_OPTIONS,
  probability: false,
  seed: 0,
  decisionFunctionShape: 'ovr',
  breakTies: false,
};

/**
 * ν-support vector classification (libsvm's ν-SVC, scikit-learn's `NuSVC`): ν replaces C; the solution is
 * rescaled to C-SVC form, so decision values, support vectors and JSON are as for {@link SVC}. Fitting
 * throws ConfigError when ν is infeasible for a class pair (ν·(n₁ + n₂)/2 > min(n₁, n₂)).
 */
export class NuSVC extends SupportVectorClassifier<NuSvcOptions> {
  constructor(options: Partial<NuSvcOptions> = {}) {
    const o = { ...DEFAULT_NU_SVC_OPTIONS, ...options };
    checkNu('NuSVC', o.nu);
    super('NuSVC', o);
  }

  protected bounds(): { weightedC: null; nu: number } {
    return { weightedC: null, nu: this.options.nu };
  }

  /** Restores a NuSVC saved with `toJSON()`; throws CheckpointError on a malformed document. */
  static fromJSON(json: unknown): NuSVC {
    return SupportVectorClassifier.restore<NuSvcOptions, NuSVC>(json, 'NuSVC', (o) => new NuSVC(o));
  }
}
