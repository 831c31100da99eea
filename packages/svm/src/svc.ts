import { ConfigError, checkPositive } from '@ml/core/plain';

import { DEFAULT_SOLVER_OPTIONS } from './solver-options.js';
import { SupportVectorClassifier, type ClassifierOptions } from './support-vector-classifier.js';

/** Class weights: 'balanced' (n / (k · count_c), scikit-learn's), a weight per class label, or null for none. */
export type ClassWeight = 'balanced' | Readonly<Record<number, number>> | null;

/** Options of {@link SVC}. */
export interface SvcOptions extends ClassifierOptions {
  /** Penalty C > 0 on margin violations (default 1). */
  C: number;
  /** Multiplies C per class (default null). */
  classWeight: ClassWeight;
}

/** Default {@link SvcOptions}: scikit-learn's SVC defaults (rbf, γ 'scale', C 1, tol 1e-3, shrinking, 200 MB cache). */
export const DEFAULT_SVC_OPTIONS: Readonly<SvcOptions> = {
  kernel: 'rbf',
  gamma: 'scale',
  degree: 3,
  coef0: 0,
  C: 1,
  classWeight: null,
  ...DEFAULT_SOLVER_OPTIONS,
  probability: false,
  seed: 0,
  decisionFunctionShape: 'ovr',
  breakTies: false,
};

/**
 * C-support vector classification (libsvm's C-SVC, scikit-learn's `SVC`): one-vs-one over the sorted
 * classes, same support vectors and decision values as scikit-learn 1.2 up to floating-point noise.
 *
 * ```ts
 * const svc = new SVC({ kernel: 'rbf', C: 1 });
 * await svc.fit(xTrain, yTrain);          // number[][], { data, shape } or tf.Tensor
 * const labels = await svc.predict(xTest); // number[]
 * ```
 */
export class SVC extends SupportVectorClassifier<SvcOptions> {
  constructor(options: Partial<SvcOptions> = {}) {
    const o = { ...DEFAULT_SVC_OPTIONS, ...options };
    checkPositive('SVC', 'C', o.C);
    checkClassWeight(o.classWeight);
    super('SVC', o);
  }

  protected bounds(
    classes: Float64Array,
    counts: Int32Array,
    rows: number,
  ): { weightedC: Float64Array; nu: null } {
    const { C, classWeight } = this.options;
    const k = classes.length;
    const weightedC = new Float64Array(k).fill(C);
    if (classWeight === 'balanced') {
      for (let c = 0; c < k; c++) weightedC[c] = C * (rows / (k * (counts[c] as number)));
    } else if (classWeight !== null) {
      for (const [label, w] of Object.entries(classWeight)) {
        const c = classes.indexOf(Number(label));
        if (c < 0)
          throw new ConfigError(
            `SVC.fit: classWeight names class ${label}, which is not in y (classes ${Array.from(classes).join(', ')})`,
          );
        weightedC[c] = C * w;
      }
    }
    return { weightedC, nu: null };
  }

  /** Restores an SVC saved with `toJSON()`; throws CheckpointError on a malformed document. */
  static fromJSON(json: unknown): SVC {
    return SupportVectorClassifier.restore<SvcOptions, SVC>(json, 'SVC', (o) => new SVC(o));
  }
}

function checkClassWeight(w: ClassWeight): void {
  if (w === null || w === 'balanced') return;
  if (typeof w !== 'object')
    throw new ConfigError(
      `SVC: classWeight must be 'balanced', null or { [label]: weight }, got ${JSON.stringify(w)}`,
    );
  for (const [label, v] of Object.entries(w)) {
    if (!Number.isFinite(Number(label)))
      throw new ConfigError(`SVC: classWeight keys must be numeric class labels, got '${label}'`);
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
      throw new ConfigError(`SVC: classWeight[${label}] must be a finite number > 0, got ${v}`);
  }
}
