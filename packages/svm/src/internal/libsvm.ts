import { ConfigError, type Rng } from '@ml/core/plain';

import type { Matrix } from '../input.js';
import { kernelBlock, type ResolvedKernel } from '../kernel.js';
import { sigmoidTrain } from './platt.js';
import type { KernelData } from './q-matrix.js';
import { SvcQ, SvrQ, paddedStride } from './q-matrix.js';
import { solveSmo } from './smo-solver.js';

/** How each dual problem is solved. */
export interface SolverSettings {
  tol: number;
  shrinking: boolean;
  /** Kernel cache limit in bytes, per subproblem. */
  cacheBytes: number;
  maxIter: number;
}

/** Training rows: feature vectors, or (kernel 'precomputed') the square training Gram matrix. */
export interface TrainingSource {
  x: Matrix;
  kernel: ResolvedKernel;
}

/** One binary dual solution: signed coefficients α_i y_i over the subproblem's rows, and ρ. */
export interface BinarySolution {
  coef: Float64Array;
  rho: number;
  iterations: number;
  converged: boolean;
}

function gather(source: TrainingSource, idx: ArrayLike<number>): KernelData {
  const n = idx.length;
  if (source.kernel.kernel === 'precomputed') {
    return {
      x: new Float64Array(0),
      n,
      d: 0,
      gram: { data: source.x.data, m: source.x.cols, ids: Int32Array.from(idx) },
    };
  }
  const d = source.x.cols;
  const w = paddedStride(d);
  const x = new Float64Array(n * w);
  for (let r = 0; r < n; r++) {
    const o = (idx[r] as number) * d;
    x.set(source.x.data.subarray(o, o + d), r * w);
  }
  return { x, n, d };
}

/** The rows `idx` of the source as a matrix for {@link kernelBlock} (whole Gram rows when precomputed). */
function rowsOf(source: TrainingSource, idx: ArrayLike<number>): Matrix {
  const { cols, data } = source.x;
  const out = new Float64Array(idx.length * cols);
  for (let r = 0; r < idx.length; r++) {
    const o = (idx[r] as number) * cols;
    out.set(data.subarray(o, o + cols), r * cols);
  }
  return { data: out, rows: idx.length, cols };
}

/**
 * Solves one two-class problem over the rows `idx` (labels ±1): C-SVC with bounds Cp / Cn, or ν-SVC
 * (rescaled by 1/r to C-SVC form, as libsvm does), starting from libsvm's initial points.
 */
export function trainBinary(
  source: TrainingSource,
  idx: ArrayLike<number>,
  y: Int8Array,
  Cp: number,
  Cn: number,
  nu: number | null,
  settings: SolverSettings,
): BinarySolution {
  const l = idx.length;
  const Q = new SvcQ(gather(source, idx), source.kernel, y, settings.cacheBytes);
  const alpha = new Float64Array(l);
  const C = new Float64Array(l);
  const p = new Float64Array(l);
  if (nu === null) {
    for (let i = 0; i < l; i++) {
      p[i] = -1;
      C[i] = (y[i] as number) > 0 ? Cp : Cn;
    }
  } else {
    // Accumulated like libsvm so the starting point matches it bit for bit.
    let nuL = 0;
    for (let i = 0; i < l; i++) nuL += nu * 1;
    let sumPos = nuL / 2;
    let sumNeg = nuL / 2;
    for (let i = 0; i < l; i++) {
      C[i] = 1;
      if ((y[i] as number) === 1) {
        alpha[i] = Math.min(1, sumPos);
        sumPos -= alpha[i] as number;
      } else {
        alpha[i] = Math.min(1, sumNeg);
        sumNeg -= alpha[i] as number;
      }
    }
  }
  const res = solveSmo({
    Q,
    p,
    y,
    alpha,
    C,
    eps: settings.tol,
    shrinking: settings.shrinking,
    maxIter: settings.maxIter,
    nu: nu !== null,
  });
  const scale = nu === null ? 1 : 1 / res.r;
  const coef = new Float64Array(l);
  // JSON has no −0: keep zero coefficients +0 so saved models compare equal.
  for (let i = 0; i < l; i++)
    coef[i] = res.alpha[i] === 0 ? 0 : (res.alpha[i] as number) * (y[i] as number) * scale;
  return { coef, rho: res.rho * scale, iterations: res.iterations, converged: res.converged };
}

/** Σ coef_s K(x_s, x_t) − ρ for every test row t, over the training rows `svIdx` of the source. */
function binaryDecision(
  source: TrainingSource,
  testIdx: ArrayLike<number>,
  svIdx: ArrayLike<number>,
  coef: ArrayLike<number>,
  rho: number,
): Float64Array {
  const out = new Float64Array(testIdx.length);
  if (svIdx.length === 0) return out.fill(-rho);
  const test = rowsOf(source, testIdx);
  const k =
    source.kernel.kernel === 'precomputed'
      ? kernelBlock(test, test, source.kernel, svIdx)
      : kernelBlock(test, rowsOf(source, svIdx), source.kernel);
  const m = svIdx.length;
  for (let t = 0; t < testIdx.length; t++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += (coef[j] as number) * (k[t * m + j] as number);
    out[t] = s - rho;
  }
  return out;
}

/**
 * libsvm's svm_binary_svc_probability: decision values from 5-fold cross-validation on a shuffled copy
 * of the pair's rows (shuffled with `rng`, so not scikit-learn's folds), then Platt's sigmoid on them.
 */
function binaryProbability(
  source: TrainingSource,
  idx: Int32Array,
  y: Int8Array,
  Cp: number,
  Cn: number,
  nu: number | null,
  settings: SolverSettings,
  rng: Rng,
): [number, number] {
  const l = idx.length;
  const folds = 5;
  const perm = new Int32Array(l);
  for (let i = 0; i < l; i++) perm[i] = i;
  for (let i = 0; i < l; i++) {
    const j = i + rng.int(l - i);
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  const dec = new Float64Array(l);
  for (let f = 0; f < folds; f++) {
    const begin = Math.floor((f * l) / folds);
    const end = Math.floor(((f + 1) * l) / folds);
    const trainPos: number[] = [];
    for (let j = 0; j < begin; j++) trainPos.push(perm[j] as number);
    for (let j = end; j < l; j++) trainPos.push(perm[j] as number);
    let pos = 0;
    let neg = 0;
    for (const t of trainPos)
      if ((y[t] as number) > 0) pos++;
      else neg++;
    const held = Array.from(perm.subarray(begin, end));
    if (pos === 0 || neg === 0) {
      const v = pos === 0 && neg === 0 ? 0 : pos > 0 ? 1 : -1;
      for (const t of held) dec[t] = v;
      continue;
    }
    const subIdx = Int32Array.from(trainPos, (t) => idx[t] as number);
    const subY = Int8Array.from(trainPos, (t) => y[t] as number);
    const sol = trainBinary(source, subIdx, subY, Cp, Cn, nu, settings);
    const svIdx: number[] = [];
    const svCoef: number[] = [];
    for (let s = 0; s < subIdx.length; s++) {
      if (sol.coef[s] !== 0) {
        svIdx.push(subIdx[s] as number);
        svCoef.push(sol.coef[s] as number);
      }
    }
    const values = binaryDecision(
      source,
      Int32Array.from(held, (t) => idx[t] as number),
      svIdx,
      svCoef,
      sol.rho,
    );
    held.forEach((t, h) => (dec[t] = values[h] as number));
  }
  return sigmoidTrain(dec, y);
}

/** A fitted one-vs-one classifier in libsvm's layout. */
export interface ClassifierFit {
  /** Support vectors per class, in class order. */
  nSupport: Int32Array;
  /** Training-row index of each support vector (grouped by class, ascending within a class). */
  support: Int32Array;
  /** libsvm's sv_coef, row-major [k − 1, nSV]. */
  svCoef: Float64Array;
  /** One ρ per pair (i, j), i < j, in the order (0,1), (0,2), …, (1,2), … */
  rho: Float64Array;
  probA: Float64Array | null;
  probB: Float64Array | null;
  iterations: number[];
  converged: boolean;
}

/** How to train a classifier. */
export interface ClassifierSpec {
  /** Class index 0..k−1 of each training row. */
  labels: Int32Array;
  k: number;
  /** Per-class bound C·weight (C-SVC), or null for ν-SVC. */
  weightedC: Float64Array | null;
  nu: number | null;
  probability: boolean;
  rng: Rng;
  settings: SolverSettings;
  /** Names the estimator in errors. */
  where: string;
}

/** libsvm's svm_train for C-SVC / ν-SVC: k(k−1)/2 one-vs-one problems over rows grouped by class. */
export function trainClassifier(source: TrainingSource, spec: ClassifierSpec): ClassifierFit {
  const { labels, k, settings } = spec;
  const l = labels.length;
  const count = new Int32Array(k);
  for (let i = 0; i < l; i++) {
    const c = labels[i] as number;
    count[c] = (count[c] as number) + 1;
  }
  const start = new Int32Array(k);
  for (let c = 1; c < k; c++) start[c] = (start[c - 1] as number) + (count[c - 1] as number);
  const perm = new Int32Array(l);
  const fill = Int32Array.from(start);
  for (let i = 0; i < l; i++) {
    const c = labels[i] as number;
    perm[fill[c] as number] = i;
    fill[c] = (fill[c] as number) + 1;
  }

  if (spec.nu !== null) {
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        const n1 = count[i] as number;
        const n2 = count[j] as number;
        if ((spec.nu * (n1 + n2)) / 2 > Math.min(n1, n2)) {
          throw new ConfigError(
            `${spec.where}: nu (${spec.nu}) is infeasible for classes ${i} and ${j} with ${n1} and ${n2} rows: nu·(n1 + n2)/2 must be ≤ min(n1, n2)`,
          );
        }
      }
    }
  }

  const nonzero = new Uint8Array(l);
  const pairs = (k * (k - 1)) / 2;
  const coefs: Float64Array[] = [];
  const rho = new Float64Array(pairs);
  const probA = spec.probability ? new Float64Array(pairs) : null;
  const probB = spec.probability ? new Float64Array(pairs) : null;
  const iterations: number[] = [];
  let converged = true;
  let p = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const si = start[i] as number;
      const sj = start[j] as number;
      const ci = count[i] as number;
      const cj = count[j] as number;
      const idx = new Int32Array(ci + cj);
      const y = new Int8Array(ci + cj);
      for (let t = 0; t < ci; t++) {
        idx[t] = perm[si + t] as number;
        y[t] = 1;
      }
      for (let t = 0; t < cj; t++) {
        idx[ci + t] = perm[sj + t] as number;
        y[ci + t] = -1;
      }
      const Cp = spec.weightedC ? (spec.weightedC[i] as number) : 1;
      const Cn = spec.weightedC ? (spec.weightedC[j] as number) : 1;
      if (probA && probB)
        [probA[p], probB[p]] = binaryProbability(source, idx, y, Cp, Cn, spec.nu, settings, spec.rng);
      const sol = trainBinary(source, idx, y, Cp, Cn, spec.nu, settings);
      iterations.push(sol.iterations);
      converged &&= sol.converged;
      for (let t = 0; t < ci; t++) if (sol.coef[t] !== 0) nonzero[si + t] = 1;
      for (let t = 0; t < cj; t++) if (sol.coef[ci + t] !== 0) nonzero[sj + t] = 1;
      coefs.push(sol.coef);
      rho[p] = sol.rho;
      p++;
    }
  }

  const nSupport = new Int32Array(k);
  for (let c = 0; c < k; c++) {
    let n = 0;
    for (let t = 0; t < (count[c] as number); t++) if (nonzero[(start[c] as number) + t]) n++;
    nSupport[c] = n;
  }
  const nSV = nSupport.reduce((a, b) => a + b, 0);
  const support = new Int32Array(nSV);
  for (let i = 0, q = 0; i < l; i++) if (nonzero[i]) support[q++] = perm[i] as number;
  const nzStart = new Int32Array(k);
  for (let c = 1; c < k; c++) nzStart[c] = (nzStart[c - 1] as number) + (nSupport[c - 1] as number);

  // Classifier (i, j): coefficients of class i go to row j − 1, those of class j to row i.
  const svCoef = new Float64Array((k - 1) * nSV);
  p = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const coef = coefs[p] as Float64Array;
      const si = start[i] as number;
      const sj = start[j] as number;
      const ci = count[i] as number;
      let q = nzStart[i] as number;
      for (let t = 0; t < ci; t++) if (nonzero[si + t]) svCoef[(j - 1) * nSV + q++] = coef[t] as number;
      q = nzStart[j] as number;
      for (let t = 0; t < (count[j] as number); t++)
        if (nonzero[sj + t]) svCoef[i * nSV + q++] = coef[ci + t] as number;
      p++;
    }
  }
  return { nSupport, support, svCoef, rho, probA, probB, iterations, converged };
}

/**
 * libsvm's predict_values for a one-vs-one model: given K(test, SV) row-major [n, nSV], the decision
 * values [n, k(k−1)/2] of every pair (i, j), positive meaning class i.
 */
export function ovoDecision(
  kv: Float64Array,
  n: number,
  nSupport: Int32Array,
  svCoef: Float64Array,
  rho: Float64Array,
): Float64Array {
  const k = nSupport.length;
  const nSV = svCoef.length / Math.max(k - 1, 1);
  const pairs = rho.length;
  const start = new Int32Array(k);
  for (let c = 1; c < k; c++) start[c] = (start[c - 1] as number) + (nSupport[c - 1] as number);
  const out = new Float64Array(n * pairs);
  for (let t = 0; t < n; t++) {
    const row = t * nSV;
    let p = 0;
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        const si = start[i] as number;
        const sj = start[j] as number;
        const c1 = (j - 1) * nSV;
        const c2 = i * nSV;
        let sum = 0;
        for (let s = 0; s < (nSupport[i] as number); s++)
          sum += (svCoef[c1 + si + s] as number) * (kv[row + si + s] as number);
        for (let s = 0; s < (nSupport[j] as number); s++)
          sum += (svCoef[c2 + sj + s] as number) * (kv[row + sj + s] as number);
        out[t * pairs + p] = sum - (rho[p] as number);
        p++;
      }
    }
  }
  return out;
}

/** A fitted regressor: coefficient α⁺ − α⁻ of every training row (zero for non-support rows), and ρ. */
export interface RegressorFit {
  coef: Float64Array;
  rho: number;
  iterations: number;
  converged: boolean;
}

/** ε-SVR (`nu` null) or ν-SVR over all training rows, libsvm's solve_epsilon_svr / solve_nu_svr. */
export function trainRegressor(
  source: TrainingSource,
  target: Float64Array,
  C: number,
  epsilon: number,
  nu: number | null,
  settings: SolverSettings,
): RegressorFit {
  const l = target.length;
  const all = new Int32Array(l);
  for (let i = 0; i < l; i++) all[i] = i;
  const Q = new SvrQ(gather(source, all), source.kernel, settings.cacheBytes);
  const alpha2 = new Float64Array(2 * l);
  const p = new Float64Array(2 * l);
  const y = new Int8Array(2 * l);
  const Cs = new Float64Array(2 * l).fill(C);
  if (nu === null) {
    for (let i = 0; i < l; i++) {
      p[i] = epsilon - (target[i] as number);
      y[i] = 1;
      p[i + l] = epsilon + (target[i] as number);
      y[i + l] = -1;
    }
  } else {
    let sum = 0;
    for (let i = 0; i < l; i++) sum += C * nu;
    sum /= 2;
    for (let i = 0; i < l; i++) {
      const a = Math.min(sum, C);
      alpha2[i] = a;
      alpha2[i + l] = a;
      sum -= a;
      p[i] = -(target[i] as number);
      y[i] = 1;
      p[i + l] = target[i] as number;
      y[i + l] = -1;
    }
  }
  const res = solveSmo({
    Q,
    p,
    y,
    alpha: alpha2,
    C: Cs,
    eps: settings.tol,
    shrinking: settings.shrinking,
    maxIter: settings.maxIter,
    nu: nu !== null,
  });
  const coef = new Float64Array(l);
  for (let i = 0; i < l; i++) coef[i] = (res.alpha[i] as number) - (res.alpha[i + l] as number) || 0;
  return { coef, rho: res.rho, iterations: res.iterations, converged: res.converged };
}
