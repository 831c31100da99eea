import { ConfigError, DataError } from '@ml/core';

import type { Windows } from './sliding-windows.js';

/** The persistence forecast: every future value equals the window's last value. [count, horizon]. */
export function lastValueForecast(w: Windows): Float32Array {
  const out = new Float32Array(w.count * w.horizon);
  for (let i = 0; i < w.count; i++)
    out.fill(w.x[(i + 1) * w.window - 1] as number, i * w.horizon, (i + 1) * w.horizon);
  return out;
}

/** Options of {@link RidgeRegression}. */
export interface RidgeRegressionOptions {
  /** L2 penalty on the weights (not the intercept), ≥ 0 (default 1e-3). */
  alpha?: number;
}

/** Defaults of {@link RidgeRegressionOptions}. */
export const DEFAULT_RIDGE_REGRESSION_OPTIONS = { alpha: 1e-3 } as const;

/**
 * Linear least squares with an L2 penalty, fitted in closed form in float64 (centred data, Cholesky
 * of XᵀX + αI): the "ridge on the window" forecaster, predicting each of the horizon values from the
 * window's values. Like scikit-learn's `Ridge(alpha)` with an intercept.
 */
export class RidgeRegression {
  readonly alpha: number;
  #w: Float64Array | null = null; // [D, K]
  #b: Float64Array | null = null; // [K]
  #d = 0;
  #k = 0;

  constructor(options: RidgeRegressionOptions = {}) {
    const alpha = options.alpha ?? DEFAULT_RIDGE_REGRESSION_OPTIONS.alpha;
    if (!(Number.isFinite(alpha) && alpha >= 0))
      throw new ConfigError(`RidgeRegression: alpha must be a finite number ≥ 0, got ${alpha}`);
    this.alpha = alpha;
  }

  /** Fits to windows: x [N, window] → y [N, horizon]; returns this. */
  fit(w: Windows): this {
    const { count: n, window: d, horizon: k, x, y } = w;
    const mx = new Float64Array(d);
    const my = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) mx[j] = (mx[j] as number) + (x[i * d + j] as number) / n;
      for (let j = 0; j < k; j++) my[j] = (my[j] as number) + (y[i * k + j] as number) / n;
    }
    const A = new Float64Array(d * d); // XcᵀXc + αI
    const R = new Float64Array(d * k); // XcᵀYc
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) {
        const xa = (x[i * d + a] as number) - (mx[a] as number);
        for (let b = 0; b <= a; b++)
          A[a * d + b] = (A[a * d + b] as number) + xa * ((x[i * d + b] as number) - (mx[b] as number));
        for (let j = 0; j < k; j++)
          R[a * k + j] = (R[a * k + j] as number) + xa * ((y[i * k + j] as number) - (my[j] as number));
      }
    }
    for (let a = 0; a < d; a++) {
      A[a * d + a] = (A[a * d + a] as number) + this.alpha;
      for (let b = 0; b < a; b++) A[b * d + a] = A[a * d + b] as number;
    }
    const L = cholesky(A, d);
    const W = new Float64Array(d * k);
    for (let j = 0; j < k; j++) {
      const col = solveCholesky(
        L,
        d,
        Float64Array.from({ length: d }, (_, a) => R[a * k + j] as number),
      );
      for (let a = 0; a < d; a++) W[a * k + j] = col[a] as number;
    }
    const bias = Float64Array.from({ length: k }, (_, j) => {
      let s = my[j] as number;
      for (let a = 0; a < d; a++) s -= (mx[a] as number) * (W[a * k + j] as number);
      return s;
    });
    this.#w = W;
    this.#b = bias;
    this.#d = d;
    this.#k = k;
    return this;
  }

  /** Predicts [count, horizon] for windows of the fitted width. */
  predict(w: Windows): Float32Array {
    if (this.#w === null || this.#b === null)
      throw new DataError('RidgeRegression.predict: the model is not fitted; call fit(trainWindows) first');
    if (w.window !== this.#d)
      throw new DataError(`RidgeRegression.predict: windows must have ${this.#d} values, got ${w.window}`);
    const d = this.#d;
    const k = this.#k;
    const out = new Float32Array(w.count * k);
    for (let i = 0; i < w.count; i++) {
      for (let j = 0; j < k; j++) {
        let s = this.#b[j] as number;
        for (let a = 0; a < d; a++) s += (w.x[i * d + a] as number) * (this.#w[a * k + j] as number);
        out[i * k + j] = s;
      }
    }
    return out;
  }
}

function cholesky(A: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j] as number;
      for (let k = 0; k < j; k++) s -= (L[i * d + k] as number) * (L[j * d + k] as number);
      if (i === j) {
        if (!(s > 0))
          throw new DataError('RidgeRegression.fit: XᵀX + αI is not positive definite; use alpha > 0');
        L[i * d + i] = Math.sqrt(s);
      } else L[i * d + j] = s / (L[j * d + j] as number);
    }
  }
  return L;
}

function solveCholesky(L: Float64Array, d: number, b: Float64Array): Float64Array {
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (L[i * d + k] as number) * (z[k] as number);
    z[i] = s / (L[i * d + i] as number);
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i] as number;
    for (let k = i + 1; k < d; k++) s -= (L[k * d + i] as number) * (x[k] as number);
    x[i] = s / (L[i * d + i] as number);
  }
  return x;
}
