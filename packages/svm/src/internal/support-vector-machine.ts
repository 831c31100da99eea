import { ConfigError, ShapeError, formatShape } from '@ml/core/plain';

import {
  readMatrix,
  readTargets,
  toMatrix,
  toTargets,
  type ArrayInput,
  type Matrix,
  type SvmInput,
  type TargetInput,
} from '../input.js';
import {
  checkKernelOptions,
  kernelBlock,
  resolveKernel,
  type KernelOptions,
  type ResolvedKernel,
} from '../kernel.js';
import { checkSolverOptions, maxIterWarning, type FitInfo, type SolverOptions } from '../solver-options.js';
import {
  checkJsonHeader,
  jsonNumbers,
  jsonRows,
  optionsFromJson,
  optionsToJson,
  toRows,
  type SvmJson,
  type SvmJsonModel,
  type SvmType,
} from '../svm-json.js';

/** The fitted state every support vector machine keeps, in libsvm's layout. */
export interface SvmModel {
  kernel: ResolvedKernel;
  nFeatures: number;
  /** Training-row index of each support vector. */
  support: Int32Array;
  /** Support vectors row-major [nSV, nFeatures] (empty for precomputed). */
  sv: Float64Array;
  fitInfo: FitInfo;
}

/** The {@link SvmJsonModel} fields every support vector machine writes, in document order. */
export type CommonModelJson = Pick<
  SvmJsonModel,
  'gamma' | 'nFeatures' | 'support' | 'supportVectors' | 'dualCoef' | 'intercept' | 'fitInfo'
>;

// Test rows per kernel block when predicting: bounds memory at 512 × nSV float64.
const PREDICT_CHUNK = 512;

/**
 * What {@link SupportVectorClassifier} and {@link SupportVectorRegressor} share: option checks, the
 * fit/predict/score call styles (async for number[][], `{ data, shape }` or tf.Tensor; `…Sync` for plain
 * arrays), the fitted-state accessors and the JSON round trip. Subclasses train (`train`), predict from
 * a feature matrix (`predictRows`), score (`metric`) and add their own JSON fields.
 */
export abstract class SupportVectorMachine<O extends KernelOptions & SolverOptions, M extends SvmModel> {
  /** The options, defaults filled in. */
  readonly options: Readonly<O>;
  private model: M | null = null;

  protected constructor(
    protected readonly name: SvmType,
    options: O,
  ) {
    checkKernelOptions(name, options);
    checkSolverOptions(name, options);
    this.options = Object.freeze({ ...options });
  }

  /** Trains on x (already checked) with the resolved kernel and returns the fitted state. */
  protected abstract train(x: Matrix, y: Float64Array, kernel: ResolvedKernel, where: string): M;

  /** Predictions [n] for the rows of x. */
  protected abstract predictRows(x: Matrix): number[];

  /** The score of predictions against targets y. */
  protected abstract metric(pred: number[], y: Float64Array): number;

  /** Dual coefficients as {@link SvmJsonModel.dualCoef} (scikit-learn's `dual_coef_`). */
  abstract get dualCoef(): number[][];

  /** Intercepts as {@link SvmJsonModel.intercept} (scikit-learn's `intercept_`). */
  abstract get intercept(): number[];

  /**
   * Fits on feature rows [n, d] (or, for kernel 'precomputed', the training Gram matrix [n, n]) and
   * targets [n] (class labels for a classifier).
   */
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
    this.model = this.train(x, y, resolveKernel(this.options, x), where);
    return this;
  }

  /** The fitted state shared by all machines, from the training rows x and the solver's result. */
  protected fittedParts(
    x: Matrix,
    kernel: ResolvedKernel,
    support: Int32Array,
    iterations: number[],
    converged: boolean,
    where: string,
  ): SvmModel {
    const sv =
      kernel.kernel === 'precomputed' ? new Float64Array(0) : new Float64Array(support.length * x.cols);
    if (sv.length > 0)
      support.forEach((r, s) => sv.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), s * x.cols));
    return {
      kernel,
      nFeatures: x.cols,
      support,
      sv,
      fitInfo: {
        iterations,
        converged,
        warnings: converged ? [] : [maxIterWarning(where, this.options.maxIter)],
      },
    };
  }

  /** The fitted state, or ConfigError naming `where` when fit has not run. */
  protected fitted(where: string): M {
    if (this.model === null)
      throw new ConfigError(`${this.name}.${where}: the model is not fitted; call fit() first`);
    return this.model;
  }

  /** Throws ShapeError unless x has the column count seen in fit. */
  protected checkFeatures(x: Matrix, model: M, where: string): void {
    if (x.cols !== model.nFeatures) {
      const what =
        model.kernel.kernel === 'precomputed'
          ? `columns (one per training row, precomputed kernel)`
          : `features (as in training)`;
      throw new ShapeError(
        `${this.name}.${where}: x must have ${model.nFeatures} ${what}, got shape ${formatShape([x.rows, x.cols])}`,
      );
    }
  }

  /**
   * Calls `each(kv, r0, rows)` per chunk of at most 512 rows of x, with kv the kernel values
   * [rows, nSV] between the chunk's rows and the support vectors.
   */
  protected kernelChunks(
    x: Matrix,
    model: M,
    each: (kv: Float64Array, r0: number, rows: number) => void,
  ): void {
    const svs: Matrix = { data: model.sv, rows: model.support.length, cols: model.nFeatures };
    for (let r0 = 0; r0 < x.rows; r0 += PREDICT_CHUNK) {
      const rows = Math.min(PREDICT_CHUNK, x.rows - r0);
      const chunk: Matrix = { data: x.data.subarray(r0 * x.cols, (r0 + rows) * x.cols), rows, cols: x.cols };
      const kv =
        model.kernel.kernel === 'precomputed'
          ? kernelBlock(chunk, chunk, model.kernel, model.support)
          : kernelBlock(chunk, svs, model.kernel);
      each(kv, r0, rows);
    }
  }

  /** Predictions [n]: labels for a classifier, values for a regressor. */
  async predict(x: SvmInput): Promise<number[]> {
    return this.predictRows(await readMatrix(x, `${this.name}.predict`));
  }

  /** {@link predict} for plain arrays, synchronously. */
  predictSync(x: ArrayInput): number[] {
    return this.predictRows(toMatrix(x, `${this.name}.predict`));
  }

  /** The score of `predict(x)` against y: accuracy in [0, 1] for a classifier, R² for a regressor. */
  async score(x: SvmInput, y: TargetInput): Promise<number> {
    const m = await readMatrix(x, `${this.name}.score`);
    return this.metric(this.predictRows(m), await readTargets(y, m.rows, `${this.name}.score`));
  }

  /** {@link score} for plain arrays, synchronously. */
  scoreSync(x: ArrayInput, y: ArrayLike<number>): number {
    const m = toMatrix(x, `${this.name}.score`);
    return this.metric(this.predictRows(m), toTargets(y, m.rows, `${this.name}.score`));
  }

  /** Whether fit has run (or a fitted model was loaded). */
  get isFitted(): boolean {
    return this.model !== null;
  }

  /** Training-row index of each support vector (scikit-learn's `support_`). */
  get support(): number[] {
    return Array.from(this.fitted('support').support);
  }

  /** The support vectors [nSV][nFeatures], in `support` order (empty for a precomputed kernel). */
  get supportVectors(): number[][] {
    const m = this.fitted('supportVectors');
    return m.sv.length === 0 ? [] : toRows(m.sv, m.support.length, m.nFeatures);
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
          : this.modelJson(
              {
                gamma: m.kernel.gamma,
                nFeatures: m.nFeatures,
                support: Array.from(m.support),
                supportVectors: this.supportVectors,
                dualCoef: this.dualCoef,
                intercept: this.intercept,
                fitInfo: this.fitInfo,
              },
              m,
            ),
    };
  }

  /** The model part of {@link toJSON} from the common fields; subclasses add theirs. */
  protected modelJson(common: CommonModelJson, _model: M): SvmJsonModel {
    return common;
  }

  /**
   * Builds an estimator of type `type` from JSON: checks the header, makes it with `make` and, for a
   * fitted document, loads the state `read` returns (which may use {@link readFittedParts}).
   */
  protected static restoreWith<
    O extends KernelOptions & SolverOptions,
    M extends SvmModel,
    T extends SupportVectorMachine<O, M>,
  >(
    json: unknown,
    type: SvmType,
    make: (options: Partial<O>) => T,
    read: (j: SvmJsonModel, options: Readonly<O>, where: string) => M,
  ): T {
    checkJsonHeader(json, type);
    const est = make(optionsFromJson<O>(json.options));
    if (json.model !== null) est.model = read(json.model, est.options, `${type}.fromJSON`);
    return est;
  }

  /** The common fitted state from JSON, with `nSV` support vectors (any number when null). */
  protected static readFittedParts(
    j: SvmJsonModel,
    options: Readonly<KernelOptions>,
    nSV: number | null,
    where: string,
  ): SvmModel {
    const support = Int32Array.from(jsonNumbers(j.support, nSV, 'model.support', where));
    const nFeatures = jsonNumbers([j.nFeatures], 1, 'model.nFeatures', where)[0] as number;
    const sv =
      options.kernel === 'precomputed'
        ? new Float64Array(0)
        : jsonRows(j.supportVectors, support.length, nFeatures, 'model.supportVectors', where);
    const gamma = jsonNumbers([j.gamma], 1, 'model.gamma', where)[0] as number;
    const info = j.fitInfo ?? { iterations: [], converged: true, warnings: [] };
    return {
      kernel: { kernel: options.kernel, gamma, degree: options.degree, coef0: options.coef0 },
      nFeatures,
      support,
      sv,
      fitInfo: { iterations: [...info.iterations], converged: info.converged, warnings: [...info.warnings] },
    };
  }
}
