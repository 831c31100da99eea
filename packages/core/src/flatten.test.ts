import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectThrows } from '../test/helpers.js';
import { ConfigError, ShapeError } from './errors.js';
import { Flatten } from './flatten.js';
import { expectNoTensorLeak, onBackend } from './testing/index.js';

describe('Flatten', () => {
  beforeAll(() => onBackend('cpu'));

  test('merges every axis after the batch by default, keeping row-major order', () => {
    const x = tf.reshape(tf.range(0, 24), [2, 3, 2, 2]);
    const y = new Flatten().forward(x);
    expect(y.shape).toEqual([2, 12]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
  });

  test('startDim and endDim pick the axes, negative ones from the end', () => {
    const x = tf.zeros([2, 3, 4, 5]);
    expect(new Flatten({ startDim: 0 }).forward(x).shape).toEqual([120]);
    expect(new Flatten({ startDim: 1, endDim: 2 }).forward(x).shape).toEqual([2, 12, 5]);
    expect(new Flatten({ startDim: -2 }).forward(x).shape).toEqual([2, 3, 20]);
    expect(new Flatten({ startDim: 2, endDim: 2 }).forward(x).shape).toEqual([2, 3, 4, 5]);
  });

  test('leaks no tensors', async () => {
    const x = tf.zeros([2, 3, 4]);
    await expectNoTensorLeak(() => new Flatten().forward(x).dispose());
    x.dispose();
  });

  test('rejects axes that do not fit the input, and bad options', () => {
    expectThrows(
      () => new Flatten().forward(tf.zeros([3])),
      ShapeError,
      'Flatten: axes 1..-1 do not fit an input of shape [3]',
    );
    expectThrows(
      () => new Flatten({ startDim: 1.5 }),
      ConfigError,
      'Flatten: startDim must be an integer, got 1.5',
    );
    expectThrows(
      () => new Flatten({ startDim: 2, endDim: 1 }),
      ConfigError,
      'Flatten: startDim (2) must not come after endDim (1)',
    );
  });
});
