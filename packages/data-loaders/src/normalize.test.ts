import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, DataError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, expectTensorsClose, onBackend } from '@ml/core/testing';

import { normalize } from './normalize.js';
import { oneHot } from './one-hot.js';

describe('normalize and oneHot', () => {
  beforeAll(() => onBackend('cpu'));

  it('normalize subtracts the per-channel mean and divides by the std (NHWC)', async () => {
    const x = tf.tensor4d([0.5, 1, 0.25, 0], [1, 1, 2, 2]);
    const y = await expectNoTensorLeak(() => normalize(x, { mean: [0.5, 0], std: [0.25, 2] }), 1);
    expectTensorsClose(y, tf.tensor4d([0, 0.5, -1, 0], [1, 1, 2, 2]), 1e-6);
    const mnistStyle = normalize(x, { mean: 0.1307, std: 0.3081 });
    expect((await mnistStyle.data())[0]).toBeCloseTo((0.5 - 0.1307) / 0.3081, 5);
    expect(() => normalize(x, { mean: [1, 2, 3], std: 1 })).toThrow(ShapeError);
    expect(() => normalize(x, { mean: [1, 2, 3], std: 1 })).toThrow(
      'normalize: mean must have 1 or 2 values (the channel count of [1, 1, 2, 2]), got 3',
    );
    expect(() => normalize(x, { mean: 0, std: 0 })).toThrow(ConfigError);
    expect(() => normalize(x, { mean: 0, std: 0 })).toThrow(
      'normalize: std[0] must be a finite number > 0, got 0',
    );
    tf.dispose([x, y, mnistStyle]);
  });

  it('oneHot encodes ids and rejects ids out of range', async () => {
    const labels = tf.tensor1d([2, 0], 'int32');
    const y = await oneHot(labels, 3);
    expect(y.dtype).toBe('float32');
    expect(await y.array()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    await expect(oneHot(labels, 2)).rejects.toThrow(DataError);
    await expect(oneHot(labels, 2)).rejects.toThrow('oneHot: labels[0] must be an integer in [0, 2), got 2');
    await expect(oneHot(labels, 0)).rejects.toThrow('oneHot: numClasses must be a positive integer, got 0');
    tf.dispose([labels, y]);
  });
});
