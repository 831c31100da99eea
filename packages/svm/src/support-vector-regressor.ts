import { ConfigError, ShapeError, formatShape } from '@ml/core';

import {
  readMatrix,
  readTargets,
  toMatrix,
  toTargets,
  type ArrayInput,
  type Matrix,
  type SvmInput,
  type TargetInput,
} from './input.js';
import { trainRegressor } from './internal/libsvm.js';
import {
  checkKernelOptions,
  kernelBlock,
  resolveKernel,
  type KernelOptions,
  type ResolvedKernel,
} from './kernel.js';
import {
  checkSolverOptions,
  maxIterWarning,
  solverSettings,
  type FitInfo,
  type SolverOptions,
} from './solver-options.js';
import {
  checkJsonHeader,
  jsonNumbers,
  jsonRows,
  optionsFromJson,
  optionsToJson,
  toRows,
  type SvmJson,
  type SvmType,
} from './svm-json.js';

/** Options every support vector regressor takes. */
export type RegressorOptions = KernelOptions & SolverOptions;

interface RegressorModel {
  kernel: ResolvedKernel;
  nFeatures: number;
  support: Int32Array;
  sv: Float64Array;
  /** α⁺ − α⁻ of each support vector. */
  coef: Float64Array;
  rho: number;
  fitInfo: FitInfo;
}

const PREDICT_CHUNK = 512;

/**
 * Support vector regression in libsvm's manner (the base of {@link SVR} and {@link NuSVR}):
 * f(x) = Σ (α⁺_i − α⁻_i) K(x_i, x) − ρ from one SMO problem over 2n variables.
 *
 * `await fit(x, y)` / `await predict(x)` take number[][], `{ data, shape: [n, d] }` or tf.Tensor; the
 * `…Sync` twins take plain arrays. Outputs are plain arrays.
 */
export abstract class SupportVectorRegressor<O extends RegressorOptions> {
  /** The options, defaults filled in. */
  readonly options: Readonly<O>;
  private model: RegressorModel | null = null;

  protected constructor(
    protected readonly name: SvmType,
    options: O,
  ) {
    checkKernelOptions(options, name);
    checkSolverOptions(options, name);
    this.options = Object.freeze({ ...options });
  }

  /** C, ε (ε-SVR) and ν (ν-SVR, else null). */
  protected abstract params(): { C: number; epsilon: number; nu: number | null };

  /** Fits on feature rows [n, d] (or, for kernel 'precomputed', the training Gram matrix [n, n]) and targets [n]. */
  async fit(x: SvmInput, y: TargetInput): Promise<this> {
    const where = `${this.name}.fit`;
    const m = await readMatrix(x, where);
    return this.fitMatrix(m, await readTargets(y, m.rows, where));
  }

  /** {@link fit} for plain arrays, synchronously. */
  fitSync(x: ArrayInput, y: ArrayLike<number>): this {
    const m = toMatrix(x, `${this.name}.fit`);
    return this.fitMatrix(m, toTargets(y, m.rows, `${this.name}.fit`));
  }

  private fitMatrix(x: Matrix, y: Float64Array): this {
    const where = `${this.name}.fit`;
    if (this.options.kernel === 'precomputed' && x.rows !== x.cols)
      throw new ShapeError(
        `${where}: a precomputed kernel must be the square Gram matrix [n, n] of the training rows, got ${formatShape([x.rows, x.cols])}`,
      );
    const kernel = resolveKernel(this.options, x);
    const { C, epsilon, nu } = this.params();
    const fit = trainRegressor({ x, kernel }, y, C, epsilon, nu, solverSettings(this.options));
    const supportList: number[] = [];
    fit.coef.forEach((c, i) => {
      if (c !== 0) supportList.push(i);
    });
    const support = Int32Array.from(supportList);
    const sv =
      kernel.kernel === 'precomputed' ? new Float64Array(0) : new Float64Array(support.length * x.cols);
    if (sv.length > 0)
      support.forEach((r, s) => sv.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), s * x.cols));
    this.model = {
      kernel,
      nFeatures: x.cols,
      support,
      sv,
      coef: Float64Array.from(support, (i) => fit.coef[i] as number),
      rho: fit.rho,
      fitInfo: {
        iterations: [fit.iterations],
        converged: fit.converged,
        warnings: fit.converged ? [] : [maxIterWarning(where, this.options.maxIter)],
      },
    };
    return this;
  }

  private fitted(where: string): RegressorModel {
    if (this.model === null)
      throw new ConfigError(`${this.name}.${where}: the model is not fitted; call fit() first`);
    return this.model;
  }

  private predictRows(x: Matrix): number[] {
    const model = this.fitted('predict');
    if (x.cols !== model.nFeatures) {
      const what =
        model.kernel.kernel === 'precomputed'
          ? `columns (one per training row, precomputed kernel)`
          : `features (as in training)`;
      throw new ShapeError(
        `${this.name}.predict: x must have ${model.nFeatures} ${what}, got shape ${formatShape([x.rows, x.cols])}`,
      );
    }
    const nSV = model.support.length;
    const svs: Matrix = { data: model.sv, rows: nSV, cols: model.nFeatures };
    const out: number[] = [];
    for (let r0 = 0; r0 < x.rows; r0 += PREDICT_CHUNK) {
      const rows = Math.min(PREDICT_CHUNK, x.rows - r0);
      const chunk: Matrix = { data: x.data.subarray(r0 * x.cols, (r0 + rows) * x.cols), rows, cols: x.cols };
      const kv =
        model.kernel.kernel === 'precomputed'
          ? kernelBlock(chunk, chunk, model.kernel, model.support)
          : kernelBlock(chunk, svs, model.kernel);
      for (let t = 0; t < rows; t++) {
        let s = 0;
        for (let j = 0; j < nSV; j++) s += (model.coef[j] as number) * (kv[t * nSV + j] as number);
        out.push(s - model.rho);
      }
    }
    return out;
  }

  /** Predicted values [n]. */
  async predict(x: SvmInput): Promise<number[]> {
    return this.predictRows(await readMatrix(x, `${this.name}.predict`));
  }

  /** {@link predict} for plain arrays, synchronously. */
  predictSync(x: ArrayInput): number[] {
    return this.predictRows(toMatrix(x, `${this.name}.predict`));
  }

  /** Coefficient of determination R² = 1 − SS_res / SS_tot of `predict(x)` against y. */
  async score(x: SvmInput, y: TargetInput): Promise<number> {
    const m = await readMatrix(x, `${this.name}.score`);
    return r2(this.predictRows(m), await readTargets(y, m.rows, `${this.name}.score`));
  }

  /** {@link score} for plain arrays, synchronously. */
  scoreSync(x: ArrayInput, y: ArrayLike<number>): number {
    const m = toMatrix(x, `${this.name}.score`);
    return r2(this.predictRows(m), toTargets(y, m.rows, `${this.name}.score`));
  }

  /** Whether fit has run (or a fitted model was loaded). */
  get isFitted(): boolean {
    return this.model !== null;
  }

  /** Training-row index of each support vector, ascending. */
  get support(): number[] {
    return Array.from(this.fitted('support').support);
  }

  /** The support vectors [nSV][nFeatures] (empty for a precomputed kernel). */
  get supportVectors(): number[][] {
    const m = this.fitted('supportVectors');
    return m.sv.length === 0 ? [] : toRows(m.sv, m.support.length, m.nFeatures);
  }

  /** α⁺ − α⁻ of each support vector, [1][nSV] (scikit-learn's `dual_coef_`). */
  get dualCoef(): number[][] {
    return [Array.from(this.fitted('dualCoef').coef)];
  }

  /** [−ρ] (scikit-learn's `intercept_`). */
  get intercept(): number[] {
    const rho = this.fitted('intercept').rho;
    return [rho === 0 ? 0 : -rho];
  }

  /** The γ used (`'scale'` and `'auto'` resolved; 0 for a precomputed kernel). */
  get gamma(): number {
    return this.fitted('gamma').kernel.gamma;
  }

  /** Features per row seen in fit (training rows for a precomputed kernel). */
  get nFeatures(): number {
    return this.fitted('nFeatures').nFeatures;
  }

  /** Solver iterations, convergence and warnings of the last fit. */
  get fitInfo(): FitInfo {
    const info = this.fitted('fitInfo').fitInfo;
    return { iterations: [...info.iterations], converged: info.converged, warnings: [...info.warnings] };
  }

  /** The estimator as JSON ({@link SvmJson}); `fromJSON` restores it exactly. */
  toJSON(): SvmJson {
    const m = this.model;
    return {
      format: 'ml-svm',
      version: 1,
      type: this.name,
      options: optionsToJson(this.options),
      model:
        m === null
          ? null
          : {
              gamma: m.kernel.gamma,
              nFeatures: m.nFeatures,
              support: Array.from(m.support),
              supportVectors: this.supportVectors,
              dualCoef: this.dualCoef,
              intercept: this.intercept,
              fitInfo: this.fitInfo,
            },
    };
  }

  /** Builds an estimator of this type from JSON (used by the subclasses' `fromJSON`). */
  protected static restore<O extends RegressorOptions, T extends SupportVectorRegressor<O>>(
    json: unknown,
    type: SvmType,
    make: (options: Partial<O>) => T,
  ): T {
    checkJsonHeader(json, type);
    const est = make(optionsFromJson<O>(json.options));
    const j = json.model;
    if (j === null) return est;
    const where = `${type}.fromJSON`;
    const support = Int32Array.from(jsonNumbers(j.support, null, 'model.support', where));
    const nSV = support.length;
    const nFeatures = jsonNumbers([j.nFeatures], 1, 'model.nFeatures', where)[0] as number;
    const sv =
      est.options.kernel === 'precomputed'
        ? new Float64Array(0)
        : jsonRows(j.supportVectors, nSV, nFeatures, 'model.supportVectors', where);
    const coef = jsonRows(j.dualCoef, 1, nSV, 'model.dualCoef', where);
    const intercept = jsonNumbers(j.intercept, 1, 'model.intercept', where)[0] as number;
    const gamma = jsonNumbers([j.gamma], 1, 'model.gamma', where)[0] as number;
    const info = j.fitInfo ?? { iterations: [], converged: true, warnings: [] };
    est.model = {
      kernel: { kernel: est.options.kernel, gamma, degree: est.options.degree, coef0: est.options.coef0 },
      nFeatures,
      support,
      sv,
      coef,
      rho: intercept === 0 ? 0 : -intercept,
      fitInfo: { iterations: [...info.iterations], converged: info.converged, warnings: [...info.warnings] },
    };
    return est;
  }
}

function r2(pred: number[], y: Float64Array): number {
  let mean = 0;
  for (const v of y) mean += v;
  mean /= y.length;
  let res = 0;
  let tot = 0;
  pred.forEach((p, i) => {
    const yi = y[i] as number;
    res += (yi - p) ** 2;
    tot += (yi - mean) ** 2;
  });
  // scikit-learn's convention for constant targets: 1 when the fit is perfect, else 0.
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}
