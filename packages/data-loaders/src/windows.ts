import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, checkPositiveInt } from '@ml/core';

import { MinMaxScaler, StandardScaler } from './scalers.js';

/** Options of {@link windows}. */
export interface WindowsOptions {
  /** Past steps per input window. */
  lookback: number;
  /** Future steps to predict (default 1). */
  horizon?: number;
  /** Steps between consecutive window starts (default 1). */
  stride?: number;
  /** Fraction of the series (from the start) that is training data (default 0.8); the rest is test. */
  trainFraction?: number;
  /** Scaling fitted on the training part only (default 'minmax' to [0, 1]). */
  scale?: 'minmax' | 'standard' | 'none';
}

/** Defaults of {@link WindowsOptions}. */
export const DEFAULT_WINDOWS_OPTIONS = {
  horizon: 1,
  stride: 1,
  trainFraction: 0.8,
  scale: 'minmax',
} as const;

/** Input/target windows of one part of a series (tensors the caller owns). */
export interface WindowSet {
  /** float32 [N, lookback, 1]: scaled past values (the trailing 1 is the feature axis, for LSTMs). */
  x: tf.Tensor3D;
  /** float32 [N, horizon]: the next `horizon` scaled values. */
  y: tf.Tensor2D;
  /** Index in the series of each window's first target value. */
  targetStart: number[];
}

/** What {@link windows} returns. */
export interface WindowedSeries {
  train: WindowSet;
  test: WindowSet;
  /** Fitted on series[0, splitIndex) only; use `inverseTransform` on predictions to get original units. */
  scaler: MinMaxScaler | StandardScaler | null;
  /** First index of the test part: ⌊length · trainFraction⌋. */
  splitIndex: number;
  dispose(): void;
}

function windowSet(scaled: Float32Array, starts: number[], lookback: number, horizon: number): WindowSet {
  const x = new Float32Array(starts.length * lookback);
  const y = new Float32Array(starts.length * horizon);
  starts.forEach((s, i) => {
    x.set(scaled.subarray(s, s + lookback), i * lookback);
    y.set(scaled.subarray(s + lookback, s + lookback + horizon), i * horizon);
  });
  return {
    x: tf.tensor3d(x, [starts.length, lookback, 1], 'float32'), // [N, lookback, 1]
    y: tf.tensor2d(y, [starts.length, horizon], 'float32'), // [N, horizon]
    targetStart: starts.map((s) => s + lookback),
  };
}

/**
 * Cuts a univariate series into (lookback → horizon) windows for forecasting. The series is split in
 * time at ⌊length·trainFraction⌋; the scaler is fitted on the training part only (no test statistics
 * leak into training), then applied to the whole series. Training windows lie wholly in the training
 * part; test windows have all their targets in the test part (their inputs may reach back into the
 * training part, as a forecaster's would).
 */
export function windows(series: ArrayLike<number>, options: WindowsOptions): WindowedSeries {
  const { lookback, horizon, stride, trainFraction, scale } = { ...DEFAULT_WINDOWS_OPTIONS, ...options };
  checkPositiveInt('windows', 'lookback', lookback);
  checkPositiveInt('windows', 'horizon', horizon);
  checkPositiveInt('windows', 'stride', stride);
  if (!(trainFraction > 0 && trainFraction <= 1))
    throw new ConfigError(`windows: trainFraction must be in (0, 1], got ${trainFraction}`);
  if (scale !== 'minmax' && scale !== 'standard' && scale !== 'none')
    throw new ConfigError(`windows: scale must be 'minmax', 'standard' or 'none', got ${String(scale)}`);
  const length = series.length;
  const splitIndex = Math.floor(length * trainFraction);
  if (splitIndex < lookback + horizon) {
    throw new ConfigError(
      `windows: the training part (${splitIndex} of ${length} steps) must hold at least lookback + horizon = ${lookback + horizon} steps`,
    );
  }
  const train = Float32Array.from({ length: splitIndex }, (_, i) => series[i] as number);
  const scaler =
    scale === 'minmax'
      ? MinMaxScaler.fitValues(train)
      : scale === 'standard'
        ? StandardScaler.fitValues(train)
        : null;
  const raw = Float32Array.from(series);
  const scaled = scaler ? scaler.transformValues(raw) : raw;
  const trainStarts: number[] = [];
  for (let s = 0; s + lookback + horizon <= splitIndex; s += stride) trainStarts.push(s);
  const testStarts: number[] = [];
  for (let s = Math.max(0, splitIndex - lookback); s + lookback + horizon <= length; s += stride)
    testStarts.push(s);
  const trainSet = windowSet(scaled, trainStarts, lookback, horizon);
  const testSet = windowSet(scaled, testStarts, lookback, horizon);
  return {
    train: trainSet,
    test: testSet,
    scaler,
    splitIndex,
    dispose: () => tf.dispose([trainSet.x, trainSet.y, testSet.x, testSet.y]),
  };
}
