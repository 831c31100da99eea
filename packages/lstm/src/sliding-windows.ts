import * as tf from '@tensorflow/tfjs-core';

import { DataError, checkPositiveInt } from '@ml/core';

/** Options of {@link slidingWindows}. */
export interface SlidingWindowsOptions {
  /** Past values per input window. */
  window: number;
  /** Future values to predict after each window (default 1: the next value). */
  horizon?: number;
  /** First index a target may have (default 0). Inputs may reach back before it, as a forecaster's would. */
  targetStart?: number;
  /** One past the last index a target may have (default: the series length). */
  targetEnd?: number;
}

/** Defaults of {@link SlidingWindowsOptions}. */
export const DEFAULT_SLIDING_WINDOWS_OPTIONS = { horizon: 1, targetStart: 0 } as const;

/** Windows cut from a series: plain arrays, row-major. */
export interface Windows {
  /** [count, window]: the inputs. */
  x: Float32Array;
  /** [count, horizon]: the values that follow each input. */
  y: Float32Array;
  count: number;
  window: number;
  horizon: number;
  /** Index in the series of each window's first target. */
  targetIndex: Int32Array;
}

/**
 * Every (window → horizon) pair of consecutive values whose targets all lie in [targetStart,
 * targetEnd), one per start position: input values[s … s + window), targets values[s + window …
 * s + window + horizon).
 */
export function slidingWindows(values: ArrayLike<number>, options: SlidingWindowsOptions): Windows {
  const where = 'slidingWindows';
  const { window, horizon, targetStart } = { ...DEFAULT_SLIDING_WINDOWS_OPTIONS, ...options };
  checkPositiveInt(where, 'window', window);
  checkPositiveInt(where, 'horizon', horizon);
  const n = values.length;
  const targetEnd = options.targetEnd ?? n;
  if (window + horizon > n)
    throw new DataError(
      `${where}: the series must be at least window + horizon = ${window} + ${horizon} = ${window + horizon} values long, got ${n}`,
    );
  if (!(
    Number.isInteger(targetStart) &&
    Number.isInteger(targetEnd) &&
    0 <= targetStart &&
    targetStart < targetEnd &&
    targetEnd <= n
  ))
    throw new DataError(
      `${where}: targets must lie in a non-empty range [targetStart, targetEnd) within [0, ${n}], got [${targetStart}, ${targetEnd})`,
    );
  const first = Math.max(0, targetStart - window);
  const last = targetEnd - window - horizon; // the last start whose targets end by targetEnd
  const count = Math.max(0, last - first + 1);
  if (count === 0)
    throw new DataError(
      `${where}: no window of ${window} + ${horizon} values has its targets in [${targetStart}, ${targetEnd})`,
    );
  const x = new Float32Array(count * window);
  const y = new Float32Array(count * horizon);
  const targetIndex = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const s = first + i;
    for (let k = 0; k < window; k++) x[i * window + k] = values[s + k] as number;
    for (let k = 0; k < horizon; k++) y[i * horizon + k] = values[s + window + k] as number;
    targetIndex[i] = s + window;
  }
  return { x, y, count, window, horizon, targetIndex };
}

/** Windows as tensors the caller owns: x [count, window, 1] (one feature per step), y [count, horizon]. */
export function windowTensors(w: Windows): { x: tf.Tensor3D; y: tf.Tensor2D } {
  return {
    x: tf.tensor3d(w.x, [w.count, w.window, 1]), // [N, W, 1]
    y: tf.tensor2d(w.y, [w.count, w.horizon]), // [N, horizon]
  };
}
