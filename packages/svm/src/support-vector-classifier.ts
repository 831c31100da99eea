import { CheckpointError, ConfigError, DataError, Rng } from '@ml/core/plain';

import { readMatrix, toMatrix, type ArrayInput, type Matrix, type SvmInput } from './input.js';
import { multiclassProbability, sigmoidPredict } from './internal/platt.js';
import { ovoDecision, trainClassifier } from './internal/libsvm.js';
import {
  SupportVectorMachine,
  type CommonModelJson,
  type SvmModel,
} from './internal/support-vector-machine.js';
import type { KernelOptions, ResolvedKernel } from './kernel.js';
import { solverSettings, type SolverOptions } from './solver-options.js';
import { jsonNumbers, jsonRows, toRows, type SvmJsonModel, type SvmType } from './svm-json.js';

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

/** The fitted state of a classifier, in libsvm's layout (support vectors grouped by class). */
export interface ClassifierModel extends SvmModel {
  classes: Float64Array;
  nSupport: Int32Array;
  /** libsvm's sv_coef [k − 1, nSV]. */
  svCoef: Float64Array;
  rho: Float64Array;
  probA: Float64Array | null;
  probB: Float64Array | null;
}

/**
 * One-vs-one support vector classification in libsvm's manner (the base of {@link SVC} and {@link NuSVC}):
 * k(k−1)/2 binary SMO problems, decision values, votes, Platt probabilities, JSON round trip.
 *
 * Two call styles: `await fit(x, y)` / `await predict(x)` … take number[][], `{ data, shape: [n, d] }` or
 * tf.Tensor (read with `await t.data()`, never disposed); the `…Sync` twins take the first two and return
 * at once. Labels are numbers (any finite values; `classes` is their sorted set). Outputs are plain arrays.
 */
export abstract class SupportVectorClassifier<O extends ClassifierOptions> extends SupportVectorMachine<
  O,
  ClassifierModel
> {
  protected constructor(name: SvmType, options: O) {
    super(name, options);
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
  }

  /** Per-class upper bounds C·weight for the classes' row counts, or null for ν-SVC; and ν (null for C-SVC). */
  protected abstract bounds(
    classes: Float64Array,
    counts: Int32Array,
    rows: number,
  ): { weightedC: Float64Array | null; nu: number | null };

  protected train(x: Matrix, y: Float64Array, kernel: ResolvedKernel, where: string): ClassifierModel {
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
    return {
      ...this.fittedParts(x, kernel, fit.support, fit.iterations, fit.converged, where),
      classes,
      nSupport: fit.nSupport,
      svCoef: fit.svCoef,
      rho: fit.rho,
      probA: fit.probA,
      probB: fit.probB,
    };
  }

  /** Raw one-vs-one decision values [n, k(k−1)/2] in libsvm's sign (positive → the pair's first class). */
  private ovo(x: Matrix, model: ClassifierModel): Float64Array {
    const pairs = model.rho.length;
    const out = new Float64Array(x.rows * pairs);
    this.kernelChunks(x, model, (kv, r0, rows) =>
      out.set(ovoDecision(kv, rows, model.nSupport, model.svCoef, model.rho), r0 * pairs),
    );
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

  protected predictRows(x: Matrix): number[] {
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

  protected metric(pred: number[], y: Float64Array): number {
    return accuracy(pred, y);
  }

  /** The sorted class labels. */
  get classes(): number[] {
    return Array.from(this.fitted('classes').classes);
  }

  /** Number of support vectors of each class, in `classes` order. */
  get nSupport(): number[] {
    return Array.from(this.fitted('nSupport').nSupport);
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

  protected override modelJson(common: CommonModelJson, m: ClassifierModel): SvmJsonModel {
    const { gamma, nFeatures, fitInfo, ...vectors } = common;
    return {
      gamma,
      nFeatures,
      classes: Array.from(m.classes),
      nSupport: Array.from(m.nSupport),
      ...vectors,
      probA: m.probA ? Array.from(m.probA) : null,
      probB: m.probB ? Array.from(m.probB) : null,
      fitInfo,
    };
  }

  /** Builds an estimator of this type from JSON (used by the subclasses' `fromJSON`). */
  protected static restore<O extends ClassifierOptions, T extends SupportVectorClassifier<O>>(
    json: unknown,
    type: SvmType,
    make: (options: Partial<O>) => T,
  ): T {
    return SupportVectorMachine.restoreWith<O, ClassifierModel, T>(json, type, make, (j, options, where) => {
      const classes = jsonNumbers(j.classes, null, 'model.classes', where);
      const k = classes.length;
      if (k < 2) throw new CheckpointError(`${where}: model.classes must hold at least two labels, got ${k}`);
      const nSupport = Int32Array.from(jsonNumbers(j.nSupport, k, 'model.nSupport', where));
      const nSV = nSupport.reduce((a, b) => a + b, 0);
      const parts = SupportVectorMachine.readFittedParts(j, options, nSV, where);
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
      return { ...parts, classes, nSupport, svCoef, rho, probA, probB };
    });
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
