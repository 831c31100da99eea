import { ConfigError, ShapeError, formatShape } from '@ml/core/plain';

import { toMatrix, type ArrayInput, type Matrix } from './input.js';

/** Kernel functions: linear x·y, poly (γx·y + coef0)^degree, rbf exp(−γ‖x − y‖²), sigmoid tanh(γx·y + coef0), or a precomputed Gram matrix. */
export type KernelName = 'linear' | 'poly' | 'rbf' | 'sigmoid' | 'precomputed';

/** γ as scikit-learn takes it: 'scale' = 1 / (nFeatures · var(x)) over all training values, 'auto' = 1 / nFeatures, or a positive number. */
export type Gamma = 'scale' | 'auto' | number;

/** Kernel options shared by every estimator. */
export interface KernelOptions {
  /** Kernel function (default 'rbf'). */
  kernel: KernelName;
  /** γ of poly/rbf/sigmoid (default 'scale'). */
  gamma: Gamma;
  /** Degree of the poly kernel, an integer ≥ 0 (default 3). */
  degree: number;
  /** Constant term of poly and sigmoid (default 0). */
  coef0: number;
}

/** Kernel options with γ resolved to a number (0 for precomputed, as scikit-learn stores it). */
export interface ResolvedKernel {
  readonly kernel: KernelName;
  readonly gamma: number;
  readonly degree: number;
  readonly coef0: number;
}

/** Kernel names {@link KernelOptions.kernel} accepts. */
export const KERNELS: readonly KernelName[] = ['linear', 'poly', 'rbf', 'sigmoid', 'precomputed'];

/** Throws ConfigError unless kernel, gamma, degree and coef0 are valid; `where` names the estimator. */
export function checkKernelOptions(where: string, options: KernelOptions): void {
  const { kernel, gamma, degree, coef0 } = options;
  if (!KERNELS.includes(kernel))
    throw new ConfigError(
      `${where}: kernel must be one of ${KERNELS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(kernel)}`,
    );
  if (
    gamma !== 'scale' &&
    gamma !== 'auto' &&
    !(typeof gamma === 'number' && Number.isFinite(gamma) && gamma > 0)
  ) {
    throw new ConfigError(
      `${where}: gamma must be 'scale', 'auto' or a finite number > 0, got ${typeof gamma === 'string' ? `'${gamma as string}'` : String(gamma)}`,
    );
  }
  if (!Number.isInteger(degree) || degree < 0)
    throw new ConfigError(`${where}: degree must be an integer ≥ 0, got ${degree}`);
  if (!Number.isFinite(coef0)) throw new ConfigError(`${where}: coef0 must be a finite number, got ${coef0}`);
}

/** Population variance of every value of `x` (numpy's `x.var()`: mean first, then mean squared deviation). */
function variance(x: Matrix): number {
  const n = x.data.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x.data[i] as number;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = (x.data[i] as number) - mean;
    sq += d * d;
  }
  return sq / n;
}

/** Resolves 'scale' / 'auto' against the training matrix, exactly as scikit-learn does (a zero variance gives γ = 1). */
export function resolveKernel(options: KernelOptions, x: Matrix): ResolvedKernel {
  let gamma: number;
  if (options.kernel === 'precomputed') gamma = 0;
  else if (options.gamma === 'scale') {
    const v = variance(x);
    gamma = v !== 0 ? 1 / (x.cols * v) : 1;
  } else if (options.gamma === 'auto') gamma = 1 / x.cols;
  else gamma = options.gamma;
  return { kernel: options.kernel, gamma, degree: options.degree, coef0: options.coef0 };
}

/** base^times by repeated squaring, libsvm's `powi` (the same rounding as its poly kernel). */
export function powi(base: number, times: number): number {
  let tmp = base;
  let ret = 1;
  for (let t = times; t > 0; t = Math.floor(t / 2)) {
    if (t % 2 === 1) ret *= tmp;
    tmp *= tmp;
  }
  return ret;
}

/**
 * K(a[i], b[j]) for every row pair, row-major [a.rows, b.rows]. For 'precomputed' `a` is already the
 * kernel against the training rows and `bIndex` picks its columns. RBF sums (a − b)² directly, as
 * libsvm does at prediction time.
 */
export function kernelBlock(
  a: Matrix,
  b: Matrix,
  k: ResolvedKernel,
  bIndex?: ArrayLike<number>,
): Float64Array {
  const na = a.rows;
  const nb = bIndex ? bIndex.length : b.rows;
  const out = new Float64Array(na * nb);
  const ad = a.data;
  if (k.kernel === 'precomputed') {
    for (let i = 0; i < na; i++)
      for (let j = 0; j < nb; j++)
        out[i * nb + j] = ad[i * a.cols + (bIndex ? (bIndex[j] as number) : j)] as number;
    return out;
  }
  const d = a.cols;
  const bd = b.data;
  const { kernel, gamma, coef0, degree } = k;
  for (let i = 0; i < na; i++) {
    const ai = i * d;
    for (let j = 0; j < nb; j++) {
      const bj = j * d;
      let s = 0;
      if (kernel === 'rbf') {
        for (let c = 0; c < d; c++) {
          const diff = (ad[ai + c] as number) - (bd[bj + c] as number);
          s += diff * diff;
        }
        out[i * nb + j] = Math.exp(-gamma * s);
        continue;
      }
      for (let c = 0; c < d; c++) s += (ad[ai + c] as number) * (bd[bj + c] as number);
      out[i * nb + j] =
        kernel === 'linear'
          ? s
          : kernel === 'poly'
            ? powi(gamma * s + coef0, degree)
            : Math.tanh(gamma * s + coef0);
    }
  }
  return out;
}

/**
 * The kernel matrix between the rows of `a` [n, d] and `b` [m, d] as number[n][m] — what an estimator with
 * `kernel: 'precomputed'` takes (train: `kernelMatrix(x, x, …)`, predict: `kernelMatrix(xTest, x, …)`).
 * `gamma` must be a number here. Defaults: rbf, gamma 1, degree 3, coef0 0.
 */
export function kernelMatrix(
  a: ArrayInput,
  b: ArrayInput,
  options: Partial<Omit<KernelOptions, 'gamma'>> & { gamma?: number } = {},
): number[][] {
  const opts: KernelOptions = { kernel: 'rbf', gamma: 1, degree: 3, coef0: 0, ...options };
  checkKernelOptions('kernelMatrix', opts);
  if (opts.kernel === 'precomputed')
    throw new ConfigError(`kernelMatrix: kernel must be a kernel function, got 'precomputed'`);
  const ma = toMatrix(a, 'kernelMatrix', 'a');
  const mb = toMatrix(b, 'kernelMatrix', 'b');
  if (ma.cols !== mb.cols)
    throw new ShapeError(
      `kernelMatrix: a and b must have the same number of features, got ${formatShape([ma.rows, ma.cols])} and ${formatShape([mb.rows, mb.cols])}`,
    );
  const k = kernelBlock(ma, mb, {
    kernel: opts.kernel,
    gamma: opts.gamma as number,
    degree: opts.degree,
    coef0: opts.coef0,
  });
  return Array.from({ length: ma.rows }, (_, i) => Array.from(k.subarray(i * mb.rows, (i + 1) * mb.rows)));
}
