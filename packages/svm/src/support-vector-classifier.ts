import { CheckpointError, ConfigError, DataError, Rng, ShapeError, formatShape } from '@ml/core';

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
import { multiclassProbability, sigmoidPredict } from './internal/platt.js';
import { ovoDecision, trainClassifier } from './internal/libsvm.js';
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

/** Options every support vector classifier takes (on top of the kernel and solver options). */
export interface ClassifierOptions extends KernelOptions, SolverOptions {
  /** Fit Platt's sigmoid per class pair by internal 5-fold cross-validation so `predictProba` works (default false; fitting takes ~6× longer). */
  probability: boolean;
  /** Seed of the cross-validation shuffle for `probability` (default 0). */
  seed: number;
  /** 'ovr': decision values [n, k] (scikit-learn's vote-plus-confidence transform); 'ovo': raw pairwise values [n, k(k−1)/2] (default 'ovr'). */
  decisionFunctionShape: 'ovr' | 'ovo';
  /** With 'ovr' and more than two classes, predict by the argmax of the ovr values instead of by votes (default false). */
  breakTies: boolean;
}

/** The fitted state, in libsvm's layout. */
interface ClassifierModel {
  kernel: ResolvedKernel;
  nFeatures: number;
  classes: Float64Array;
  nSupport: Int32Array;
  support: Int32Array;
  /** Support vectors row-major [nSV, nFeatures] (empty for precomputed). */
  sv: Float64Array;
  /** libsvm's sv_coef [k − 1, nSV]. */
  svCoef: Float64Array;
  rho: Float64Array;
  probA: Float64Array | null;
  probB: Float64Array | null;
  fitInfo: FitInfo;
}

// Test rows per kernel block when predicting: bounds memory at 512 × nSV float64.
const PREDICT_CHUNK = 512;

/**
 * One-vs-one support vector classification in libsvm's manner (the base of {@link SVC} and {@link NuSVC}):
 * k(k−1)/2 binary SMO problems, decision values, votes, Platt probabilities, JSON round trip.
 *
 * Two call styles: `await fit(x, y)` / `await predict(x)` … take number[][], `{ data, shape: [n, d] }` or
 * tf.Tensor (read with `await t.data()`, never disposed); the `…Sync` twins take the first two and return
 * at once. Labels are numbers (any finite values; `classes` is their sorted set). Outputs are plain arrays.
 */
export abstract class SupportVectorClassifier<O extends ClassifierOptions> {
  /** The options, defaults filled in. */
  readonly options: Readonly<O>;
  private model: ClassifierModel | null = null;

  protected constructor(
    protected readonly name: SvmType,
    options: O,
  ) {
    checkKernelOptions(options, name);
    checkSolverOptions(options, name);
    if (typeof options.probability !== 'boolean')
      throw new ConfigError(`${name}: probability must be a boolean, got ${String(options.probability)}`);
    if (!Number.isFinite(options.seed))
      throw new ConfigError(`${name}: seed must be a finite number, got ${options.seed}`);
    if (options.decisionFunctionShape !== 'ovr' && options.decisionFunctionShape !== 'ovo') {
      throw new ConfigError(
        `${name}: decisionFunctionShape must be 'ovr' or 'ovo', got ${JSON.stringify(options.decisionFunctionShape)}`,
      );
    }
    if (options.breakTies && options.decisionFunctionShape === 'ovo')
      throw new ConfigError(`${name}: breakTies needs decisionFunctionShape 'ovr', got 'ovo'`);
    this.options = Object.freeze({ ...options });
  }

  /** Per-class upper bounds C·weight for the classes' row counts, or null for ν-SVC; and ν (null for C-SVC). */
  protected abstract bounds(
    classes: Float64Array,
    counts: Int32Array,
    rows: number,
  ): { weightedC: Float64Array | null; nu: number | null };

  /** Fits on feature rows [n, d] (or, for kernel 'precomputed', the training Gram matrix [n, n]) and labels [n]. */
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
    const classes = Float64Array.from(new Set(y)).sort();
    if (classes.length < 2)
      throw new DataError(
        `${where}: y must hold at least two classes, got 1 class (label ${classes[0]}) in ${y.length} rows`,
      );
    const labels = new Int32Array(y.length);
    const counts = new Int32Array(classes.length);
    const index = new Map<number, number>();
    classes.forEach((c, i) => index.set(c, i));
    y.forEach((v, r) => {
      const c = index.get(v) as number;
      labels[r] = c;
      counts[c] = (counts[c] as number) + 1;
    });
    const kernel = resolveKernel(this.options, x);
    const { weightedC, nu } = this.bounds(classes, counts, y.length);
    const fit = trainClassifier(
      { x, kernel },
      {
        labels,
        k: classes.length,
        weightedC,
        nu,
        probability: this.options.probability,
        rng: new Rng(this.options.seed),
        settings: solverSettings(this.options),
        where,
      },
    );
    const sv =
      kernel.kernel === 'precomputed' ? new Float64Array(0) : new Float64Array(fit.support.length * x.cols);
    if (sv.length > 0)
      fit.support.forEach((r, s) => sv.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), s * x.cols));
    this.model = {
      kernel,
      nFeatures: x.cols,
      classes,
      nSupport: fit.nSupport,
      support: fit.support,
      sv,
      svCoef: fit.svCoef,
      rho: fit.rho,
      probA: fit.probA,
      probB: fit.probB,
      fitInfo: {
        iterations: fit.iterations,
        converged: fit.converged,
        warnings: fit.converged ? [] : [maxIterWarning(where, this.options.maxIter)],
      },
    };
    return this;
  }

  private fitted(where: string): ClassifierModel {
    if (this.model === null)
      throw new ConfigError(`${this.name}.${where}: the model is not fitted; call fit() first`);
    return this.model;
  }

  private checkFeatures(x: Matrix, model: ClassifierModel, where: string): void {
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

  /** Raw one-vs-one decision values [n, k(k−1)/2] in libsvm's sign (positive → the pair's first class). */
  private ovo(x: Matrix, model: ClassifierModel): Float64Array {
    const pairs = model.rho.length;
    const nSV = model.support.length;
    const out = new Float64Array(x.rows * pairs);
    const svs: Matrix = { data: model.sv, rows: nSV, cols: model.nFeatures };
    for (let r0 = 0; r0 < x.rows; r0 += PREDICT_CHUNK) {
      const rows = Math.min(PREDICT_CHUNK, x.rows - r0);
      const chunk: Matrix = { data: x.data.subarray(r0 * x.cols, (r0 + rows) * x.cols), rows, cols: x.cols };
      const kv =
        model.kernel.kernel === 'precomputed'
          ? kernelBlock(chunk, chunk, model.kernel, model.support)
          : kernelBlock(chunk, svs, model.kernel);
      out.set(ovoDecision(kv, rows, model.nSupport, model.svCoef, model.rho), r0 * pairs);
    }
    return out;
  }

  private decisionRows(x: Matrix, shape: 'ovr' | 'ovo', where: string): number[][] {
    const model = this.fitted(where);
    this.checkFeatures(x, model, where);
    const k = model.classes.length;
    const pairs = model.rho.length;
    const dec = this.ovo(x, model);
    if (k === 2) return Array.from({ length: x.rows }, (_, r) => [-(dec[r] as number)]);
    if (shape === 'ovo') return toRows(dec, x.rows, pairs);
    return Array.from({ length: x.rows }, (_, r) => ovrRow(dec.subarray(r * pairs, (r + 1) * pairs), k));
  }

  /**
   * Decision values, number[n][·]: one column for two classes (positive → `classes[1]`, scikit-learn's
   * sign); otherwise [n, k] ('ovr') or the raw pairwise values [n, k(k−1)/2] in pair order (0,1), (0,2), …
   * ('ovo', positive → the pair's first class). `shape` defaults to `options.decisionFunctionShape`.
   */
  async decisionFunction(
    x: SvmInput,
    shape: 'ovr' | 'ovo' = this.options.decisionFunctionShape,
  ): Promise<number[][]> {
    return this.decisionRows(await readMatrix(x, `${this.name}.decisionFunction`), shape, 'decisionFunction');
  }

  /** {@link decisionFunction} for plain arrays, synchronously. */
  decisionFunctionSync(x: ArrayInput, shape: 'ovr' | 'ovo' = this.options.decisionFunctionShape): number[][] {
    return this.decisionRows(toMatrix(x, `${this.name}.decisionFunction`), shape, 'decisionFunction');
  }

  private predictRows(x: Matrix): number[] {
    const model = this.fitted('predict');
    this.checkFeatures(x, model, 'predict');
    const k = model.classes.length;
    if (this.options.breakTies && k > 2) {
      return this.decisionRows(x, 'ovr', 'predict').map((row) => model.classes[argmax(row)] as number);
    }
    const dec = this.ovo(x, model);
    const pairs = model.rho.length;
    const votes = new Int32Array(k);
    const out: number[] = [];
    for (let r = 0; r < x.rows; r++) {
      votes.fill(0);
      let p = 0;
      for (let i = 0; i < k; i++) {
        for (let j = i + 1; j < k; j++) {
          const winner = (dec[r * pairs + p++] as number) > 0 ? i : j;
          votes[winner] = (votes[winner] as number) + 1;
        }
      }
      out.push(model.classes[argmax(votes)] as number);
    }
    return out;
  }

  /** Predicted labels [n] by one-vs-one voting (ties go to the lower class), as libsvm does. */
  async predict(x: SvmInput): Promise<number[]> {
    return this.predictRows(await readMatrix(x, `${this.name}.predict`));
  }

  /** {@link predict} for plain arrays, synchronously. */
  predictSync(x: ArrayInput): number[] {
    return this.predictRows(toMatrix(x, `${this.name}.predict`));
  }

  private probaRows(x: Matrix): number[][] {
    const model = this.fitted('predictProba');
    if (model.probA === null || model.probB === null)
      throw new ConfigError(
        `${this.name}.predictProba: fit with probability: true to get probabilities (it was false)`,
      );
    this.checkFeatures(x, model, 'predictProba');
    const k = model.classes.length;
    const pairs = model.rho.length;
    const dec = this.ovo(x, model);
    const r = new Float64Array(k * k);
    const minProb = 1e-7;
    const out: number[][] = [];
    for (let t = 0; t < x.rows; t++) {
      let p = 0;
      for (let i = 0; i < k; i++) {
        for (let j = i + 1; j < k; j++) {
          const v = Math.min(
            Math.max(
              sigmoidPredict(
                dec[t * pairs + p] as number,
                model.probA[p] as number,
                model.probB[p] as number,
              ),
              minProb,
            ),
            1 - minProb,
          );
          r[i * k + j] = v;
          r[j * k + i] = 1 - v;
          p++;
        }
      }
      out.push(Array.from(multiclassProbability(k, r)));
    }
    return out;
  }

  /**
   * Class probabilities [n, k] (columns in `classes` order) from Platt's pairwise sigmoids coupled by Wu,
   * Lin & Weng's method. Needs `probability: true`. Like libsvm's, these come from cross-validation, so
   * their argmax can disagree with `predict` near the boundary, and they match scikit-learn's only
   * approximately (its folds are shuffled by a different generator).
   */
  async predictProba(x: SvmInput): Promise<number[][]> {
    return this.probaRows(await readMatrix(x, `${this.name}.predictProba`));
  }

  /** {@link predictProba} for plain arrays, synchronously. */
  predictProbaSync(x: ArrayInput): number[][] {
    return this.probaRows(toMatrix(x, `${this.name}.predictProba`));
  }

  /** Accuracy of `predict(x)` against labels y, in [0, 1]. */
  async score(x: SvmInput, y: TargetInput): Promise<number> {
    const m = await readMatrix(x, `${this.name}.score`);
    return accuracy(this.predictRows(m), await readTargets(y, m.rows, `${this.name}.score`));
  }

  /** {@link score} for plain arrays, synchronously. */
  scoreSync(x: ArrayInput, y: ArrayLike<number>): number {
    const m = toMatrix(x, `${this.name}.score`);
    return accuracy(this.predictRows(m), toTargets(y, m.rows, `${this.name}.score`));
  }

  /** Whether fit has run (or a fitted model was loaded). */
  get isFitted(): boolean {
    return this.model !== null;
  }

  /** The sorted class labels. */
  get classes(): number[] {
    return Array.from(this.fitted('classes').classes);
  }

  /** Number of support vectors of each class, in `classes` order. */
  get nSupport(): number[] {
    return Array.from(this.fitted('nSupport').nSupport);
  }

  /** Training-row index of each support vector, grouped by class (scikit-learn's `support_`). */
  get support(): number[] {
    return Array.from(this.fitted('support').support);
  }

  /** The support vectors [nSV][nFeatures], in `support` order (empty for a precomputed kernel). */
  get supportVectors(): number[][] {
    const m = this.fitted('supportVectors');
    return m.sv.length === 0 ? [] : toRows(m.sv, m.support.length, m.nFeatures);
  }

  /** Dual coefficients y_i α_i [k − 1][nSV] in libsvm's one-vs-one layout (scikit-learn's `dual_coef_`, sign flipped for two classes). */
  get dualCoef(): number[][] {
    const m = this.fitted('dualCoef');
    const sign = m.classes.length === 2 ? -1 : 1;
    return toRows(
      m.svCoef.map((v) => (v === 0 ? 0 : sign * v)),
      m.classes.length - 1,
      m.support.length,
    );
  }

  /** Intercept per class pair (scikit-learn's `intercept_`: −ρ, sign flipped for two classes). */
  get intercept(): number[] {
    const m = this.fitted('intercept');
    const sign = m.classes.length === 2 ? 1 : -1;
    return Array.from(m.rho, (r) => (r === 0 ? 0 : sign * r));
  }

  /** Platt's A per class pair (empty without `probability`). */
  get probA(): number[] {
    return Array.from(this.fitted('probA').probA ?? []);
  }

  /** Platt's B per class pair (empty without `probability`). */
  get probB(): number[] {
    return Array.from(this.fitted('probB').probB ?? []);
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
              classes: Array.from(m.classes),
              nSupport: Array.from(m.nSupport),
              support: Array.from(m.support),
              supportVectors: this.supportVectors,
              dualCoef: this.dualCoef,
              intercept: this.intercept,
              probA: m.probA ? Array.from(m.probA) : null,
              probB: m.probB ? Array.from(m.probB) : null,
              fitInfo: this.fitInfo,
            },
    };
  }

  /** Builds an estimator of this type from JSON (used by the subclasses' `fromJSON`). */
  protected static restore<O extends ClassifierOptions, T extends SupportVectorClassifier<O>>(
    json: unknown,
    type: SvmType,
    make: (options: Partial<O>) => T,
  ): T {
    checkJsonHeader(json, type);
    const est = make(optionsFromJson<O>(json.options));
    const j = json.model;
    if (j === null) return est;
    const where = `${type}.fromJSON`;
    const classes = jsonNumbers(j.classes, null, 'model.classes', where);
    const k = classes.length;
    if (k < 2) throw new CheckpointError(`${where}: model.classes must hold at least two labels, got ${k}`);
    const nSupport = Int32Array.from(jsonNumbers(j.nSupport, k, 'model.nSupport', where));
    const nSV = nSupport.reduce((a, b) => a + b, 0);
    const support = Int32Array.from(jsonNumbers(j.support, nSV, 'model.support', where));
    const nFeatures = jsonNumbers([j.nFeatures], 1, 'model.nFeatures', where)[0] as number;
    const precomputed = est.options.kernel === 'precomputed';
    const sv = precomputed
      ? new Float64Array(0)
      : jsonRows(j.supportVectors, nSV, nFeatures, 'model.supportVectors', where);
    const sign = k === 2 ? -1 : 1;
    const svCoef = jsonRows(j.dualCoef, k - 1, nSV, 'model.dualCoef', where).map((v) =>
      v === 0 ? 0 : sign * v,
    );
    const pairs = (k * (k - 1)) / 2;
    const rho = jsonNumbers(j.intercept, pairs, 'model.intercept', where).map((v) =>
      v === 0 ? 0 : -sign * v,
    );
    const probA = j.probA == null ? null : jsonNumbers(j.probA, pairs, 'model.probA', where);
    const probB = j.probB == null ? null : jsonNumbers(j.probB, pairs, 'model.probB', where);
    const gamma = jsonNumbers([j.gamma], 1, 'model.gamma', where)[0] as number;
    const info = j.fitInfo ?? { iterations: [], converged: true, warnings: [] };
    est.model = {
      kernel: { kernel: est.options.kernel, gamma, degree: est.options.degree, coef0: est.options.coef0 },
      nFeatures,
      classes,
      nSupport,
      support,
      sv,
      svCoef,
      rho,
      probA,
      probB,
      fitInfo: { iterations: [...info.iterations], converged: info.converged, warnings: [...info.warnings] },
    };
    return est;
  }
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** scikit-learn's ovr transform of one row of ovo values: votes plus confidence sums squashed into (−1/3, 1/3). */
function ovrRow(dec: Float64Array, k: number): number[] {
  const votes = new Float64Array(k);
  const conf = new Float64Array(k);
  let p = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const d = dec[p++] as number;
      conf[i] = (conf[i] as number) + d;
      conf[j] = (conf[j] as number) - d;
      const winner = d < 0 ? j : i;
      votes[winner] = (votes[winner] as number) + 1;
    }
  }
  return Array.from(votes, (v, c) => v + (conf[c] as number) / (3 * (Math.abs(conf[c] as number) + 1)));
}

function accuracy(pred: number[], y: Float64Array): number {
  let hits = 0;
  pred.forEach((p, i) => (hits += p === y[i] ? 1 : 0));
  return hits / pred.length;
}
