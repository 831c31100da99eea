import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, DataError, ShapeError, formatShape } from '@ml/core';

/** Per-feature statistics over values laid out [N, F] row-major; NaN/∞ are a DataError. */
function columnStats(
  where: string,
  values: ArrayLike<number>,
  features: number,
): { min: number[]; max: number[]; mean: number[]; std: number[] } {
  if (!Number.isInteger(features) || features <= 0)
    throw new ConfigError(`${where}: features must be a positive integer, got ${features}`);
  if (values.length === 0 || values.length % features !== 0) {
    throw new ShapeError(`${where}: needs a non-empty [N, ${features}] array, got ${values.length} values`);
  }
  const n = values.length / features;
  const min = new Array<number>(features).fill(Infinity);
  const max = new Array<number>(features).fill(-Infinity);
  const sum = new Array<number>(features).fill(0);
  const sq = new Array<number>(features).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const f = i % features;
    if (!Number.isFinite(v))
      throw new DataError(
        `${where}: value at row ${Math.floor(i / features)}, feature ${f} must be finite, got ${v}`,
      );
    if (v < (min[f] as number)) min[f] = v;
    if (v > (max[f] as number)) max[f] = v;
    sum[f] = (sum[f] as number) + v;
  }
  const mean = sum.map((s) => s / n);
  for (let i = 0; i < values.length; i++) {
    const f = i % features;
    const d = (values[i] as number) - (mean[f] as number);
    sq[f] = (sq[f] as number) + d * d;
  }
  return { min, max, mean, std: sq.map((s) => Math.sqrt(s / n)) };
}

function lastDim(x: tf.Tensor): number {
  return x.rank === 0 ? 1 : (x.shape[x.rank - 1] as number);
}

/** State of a {@link MinMaxScaler} (JSON-serialisable). */
export interface MinMaxScalerState {
  /** Per-feature minimum seen by `fit`. */
  min: number[];
  /** Per-feature maximum seen by `fit`. */
  max: number[];
  /** Output range (default [0, 1]). */
  featureRange?: [number, number];
}

/**
 * Per-feature min-max scaling to `featureRange` (default [0, 1]), like scikit-learn's MinMaxScaler and
 * the usual `(X − min) / (max − min)`: x' = lo + (x − min)·(hi − lo)/(max − min). A constant feature
 * (max = min) is mapped with a range of 1 (shifted, not divided by zero). Fit on training data only,
 * then transform every split with the same scaler. Features are the last axis: [..., F]; a scaler
 * fitted on one feature (a series) applies elementwise to a tensor of any shape.
 */
export class MinMaxScaler {
  readonly min: readonly number[];
  readonly max: readonly number[];
  readonly featureRange: readonly [number, number];

  constructor(state: MinMaxScalerState) {
    const { min, max, featureRange = [0, 1] } = state;
    if (min.length === 0 || min.length !== max.length)
      throw new ConfigError(
        `MinMaxScaler: min and max must be non-empty and of equal length, got ${min.length} and ${max.length}`,
      );
    min.forEach((m, f) => {
      if (!(Number.isFinite(m) && Number.isFinite(max[f]) && m <= (max[f] as number)))
        throw new ConfigError(`MinMaxScaler: feature ${f} needs finite min ≤ max, got ${m} and ${max[f]}`);
    });
    if (!(featureRange[0] < featureRange[1]))
      throw new ConfigError(
        `MinMaxScaler: featureRange must be [lo, hi] with lo < hi, got [${featureRange.join(', ')}]`,
      );
    this.min = min.slice();
    this.max = max.slice();
    this.featureRange = [featureRange[0], featureRange[1]];
  }

  /** Fits to values laid out [N, features] (row-major), e.g. a series with features = 1. */
  static fitValues(
    values: ArrayLike<number>,
    features = 1,
    featureRange: [number, number] = [0, 1],
  ): MinMaxScaler {
    const { min, max } = columnStats('MinMaxScaler.fitValues', values, features);
    return new MinMaxScaler({ min, max, featureRange });
  }

  /** Fits to a tensor [..., F] (per last-axis feature). */
  static async fit(x: tf.Tensor, featureRange: [number, number] = [0, 1]): Promise<MinMaxScaler> {
    return MinMaxScaler.fitValues(await x.data(), lastDim(x), featureRange);
  }

  get features(): number {
    return this.min.length;
  }

  private coefficients(): { scale: number[]; offset: number[] } {
    const [lo, hi] = this.featureRange;
    const scale = this.min.map((m, f) => (hi - lo) / ((this.max[f] as number) - m || 1));
    return { scale, offset: this.min.map((m, f) => lo - m * (scale[f] as number)) };
  }

  private check(where: string, x: tf.Tensor): void {
    if (this.features !== 1 && lastDim(x) !== this.features)
      throw new ShapeError(
        `MinMaxScaler.${where}: input last dim must be ${this.features}, got ${formatShape(x.shape)}`,
      );
  }

  /** Scales a tensor [..., F] → float32 [..., F]. */
  transform(x: tf.Tensor): tf.Tensor {
    this.check('transform', x);
    const { scale, offset } = this.coefficients();
    return tf.tidy(() => tf.add(tf.mul(tf.cast(x, 'float32'), scale), offset)); // [..., F]
  }

  /** Undoes {@link MinMaxScaler.transform}. */
  inverseTransform(x: tf.Tensor): tf.Tensor {
    this.check('inverseTransform', x);
    const { scale, offset } = this.coefficients();
    return tf.tidy(() => tf.div(tf.sub(tf.cast(x, 'float32'), offset), scale)); // [..., F]
  }

  /** Scales values laid out [N, F] row-major. */
  transformValues(values: ArrayLike<number>): Float32Array {
    const { scale, offset } = this.coefficients();
    const f = this.features;
    return Float32Array.from(
      { length: values.length },
      (_, i) => (values[i] as number) * (scale[i % f] as number) + (offset[i % f] as number),
    );
  }

  /** Undoes {@link MinMaxScaler.transformValues}. */
  inverseTransformValues(values: ArrayLike<number>): Float32Array {
    const { scale, offset } = this.coefficients();
    const f = this.features;
    return Float32Array.from(
      { length: values.length },
      (_, i) => ((values[i] as number) - (offset[i % f] as number)) / (scale[i % f] as number),
    );
  }

  /** The JSON-serialisable state (load with `new MinMaxScaler(state)`). */
  toJSON(): MinMaxScalerState {
    return {
      min: this.min.slice(),
      max: this.max.slice(),
      featureRange: [this.featureRange[0], this.featureRange[1]],
    };
  }
}

/** State of a {@link StandardScaler} (JSON-serialisable). */
export interface StandardScalerState {
  mean: number[];
  /** Population standard deviation per feature. */
  std: number[];
}

/**
 * Per-feature standardisation x' = (x − mean)/std with the population std (scikit-learn's
 * StandardScaler); a constant feature gets std 1. Fit on training data only. Features are the last
 * axis; a one-feature scaler applies elementwise to any shape.
 */
export class StandardScaler {
  readonly mean: readonly number[];
  readonly std: readonly number[];

  constructor(state: StandardScalerState) {
    if (state.mean.length === 0 || state.mean.length !== state.std.length) {
      throw new ConfigError(
        `StandardScaler: mean and std must be non-empty and of equal length, got ${state.mean.length} and ${state.std.length}`,
      );
    }
    state.std.forEach((s, f) => {
      if (!(Number.isFinite(s) && s >= 0) || !Number.isFinite(state.mean[f]))
        throw new ConfigError(
          `StandardScaler: feature ${f} needs a finite mean and std ≥ 0, got ${state.mean[f]} and ${s}`,
        );
    });
    this.mean = state.mean.slice();
    this.std = state.std.map((s) => s || 1);
  }

  /** Fits to values laid out [N, features] (row-major). */
  static fitValues(values: ArrayLike<number>, features = 1): StandardScaler {
    const { mean, std } = columnStats('StandardScaler.fitValues', values, features);
    return new StandardScaler({ mean, std });
  }

  /** Fits to a tensor [..., F]. */
  static async fit(x: tf.Tensor): Promise<StandardScaler> {
    return StandardScaler.fitValues(await x.data(), lastDim(x));
  }

  get features(): number {
    return this.mean.length;
  }

  private check(where: string, x: tf.Tensor): void {
    if (this.features !== 1 && lastDim(x) !== this.features)
      throw new ShapeError(
        `StandardScaler.${where}: input last dim must be ${this.features}, got ${formatShape(x.shape)}`,
      );
  }

  /** Standardises a tensor [..., F] → float32 [..., F]. */
  transform(x: tf.Tensor): tf.Tensor {
    this.check('transform', x);
    return tf.tidy(() => tf.div(tf.sub(tf.cast(x, 'float32'), this.mean as number[]), this.std as number[])); // [..., F]
  }

  /** Undoes {@link StandardScaler.transform}. */
  inverseTransform(x: tf.Tensor): tf.Tensor {
    this.check('inverseTransform', x);
    return tf.tidy(() => tf.add(tf.mul(tf.cast(x, 'float32'), this.std as number[]), this.mean as number[])); // [..., F]
  }

  /** Standardises values laid out [N, F] row-major. */
  transformValues(values: ArrayLike<number>): Float32Array {
    const f = this.features;
    return Float32Array.from(
      { length: values.length },
      (_, i) => ((values[i] as number) - (this.mean[i % f] as number)) / (this.std[i % f] as number),
    );
  }

  /** Undoes {@link StandardScaler.transformValues}. */
  inverseTransformValues(values: ArrayLike<number>): Float32Array {
    const f = this.features;
    return Float32Array.from(
      { length: values.length },
      (_, i) => (values[i] as number) * (this.std[i % f] as number) + (this.mean[i % f] as number),
    );
  }

  /** The JSON-serialisable state. */
  toJSON(): StandardScalerState {
    return { mean: this.mean.slice(), std: this.std.slice() };
  }
}
