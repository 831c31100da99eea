import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, DataError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, expectTensorsClose, onBackend } from '@ml/core/testing';

import { MinMaxScaler, StandardScaler } from './scalers.js';

describe('scalers', () => {
  beforeAll(() => onBackend('cpu'));

  it('MinMaxScaler fits per feature, handles a constant feature, inverts, serialises', async () => {
    const x = tf.tensor2d([
      [1, 5, 7],
      [3, 5, 9],
      [2, 5, 8],
    ]);
    const s = await MinMaxScaler.fit(x);
    expect(s.min).toEqual([1, 5, 7]);
    expect(s.max).toEqual([3, 5, 9]);
    const y = await expectNoTensorLeak(() => s.transform(x), 1);
    expectTensorsClose(
      y,
      tf.tensor2d([
        [0, 0, 0],
        [1, 0, 1],
        [0.5, 0, 0.5],
      ]),
      1e-6,
    );
    const back = s.inverseTransform(y);
    expectTensorsClose(back, x, 1e-5);
    const ranged = new MinMaxScaler({ ...s.toJSON(), featureRange: [-1, 1] });
    expect(Array.from(ranged.transformValues([3, 5, 8]))).toEqual([1, -1, 0]);
    expect(Array.from(ranged.inverseTransformValues([1, -1, 0]))).toEqual([3, 5, 8]);
    tf.dispose([x, y, back]);
    const wrong = tf.zeros([2, 2]);
    expect(() => s.transform(wrong)).toThrow(ShapeError);
    expect(() => s.transform(wrong)).toThrow('MinMaxScaler.transform: input last dim must be 3, got [2, 2]');
    wrong.dispose();
  });

  it('StandardScaler uses the population std and std 1 for constant features', () => {
    const s = StandardScaler.fitValues([1, 4, 3, 4], 2); // rows [1, 4], [3, 4]
    expect(s.mean).toEqual([2, 4]);
    expect(s.std).toEqual([1, 1]);
    expect(Array.from(s.transformValues([1, 4, 3, 4]))).toEqual([-1, 0, 1, 0]);
    const t = tf.tensor2d([[3, 6]]);
    const z = s.transform(t);
    expectTensorsClose(z, tf.tensor2d([[1, 2]]), 1e-6);
    const back = s.inverseTransform(z);
    expectTensorsClose(back, t, 1e-6);
    expect(Array.from(s.inverseTransformValues([1, 2]))).toEqual([3, 6]);
    tf.dispose([t, z, back]);
  });

  it('bad data and states are named errors', () => {
    expect(() => MinMaxScaler.fitValues([1, NaN], 1)).toThrow(DataError);
    expect(() => MinMaxScaler.fitValues([1, NaN], 1)).toThrow(
      'MinMaxScaler.fitValues: value at row 1, feature 0 must be finite, got NaN',
    );
    expect(() => StandardScaler.fitValues([1, 2, 3], 2)).toThrow(
      'StandardScaler.fitValues: needs a non-empty [N, 2] array, got 3 values',
    );
    expect(() => new MinMaxScaler({ min: [2], max: [1] })).toThrow(ConfigError);
    expect(() => new MinMaxScaler({ min: [0], max: [1], featureRange: [1, 0] })).toThrow(
      'MinMaxScaler: featureRange must be [lo, hi] with lo < hi, got [1, 0]',
    );
  });
});
