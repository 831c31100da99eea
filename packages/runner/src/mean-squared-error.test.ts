import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { CheckpointError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { MeanSquaredError, RootMeanSquaredError } from './mean-squared-error.js';

describe('MeanSquaredError and RootMeanSquaredError', () => {
  beforeAll(() => onBackend('cpu'));

  it('pool squared errors over every element of every batch', async () => {
    const mse = new MeanSquaredError();
    const rmse = new RootMeanSquaredError();
    // batch 1: errors 1, -2 → SSE 5 over 2; batch 2: errors 0, 3, 1, 2 → SSE 14 over 4. Pooled: 19 / 6,
    // where a mean of the batch MSEs would give (2.5 + 3.5) / 2 = 3.
    const p1 = tf.tensor1d([1, 0]);
    const t1 = tf.tensor2d([[0], [2]]); // [N, 1] targets align with [N] outputs
    const p2 = tf.tensor2d([
      [1, 3],
      [1, 4],
    ]);
    const t2 = tf.tensor2d([
      [1, 0],
      [0, 2],
    ]);
    for (const m of [mse, rmse]) {
      await expectNoTensorLeak(() => m.update(p1, t1));
      await m.update(p2, t2);
    }
    expect(mse.result()).toBeCloseTo(19 / 6, 12);
    expect(rmse.result()).toBeCloseTo(Math.sqrt(19 / 6), 12);
    expect(mse.state()).toEqual([19, 6]);
    expect(mse.name).toBe('mse');
    expect(rmse.name).toBe('rmse');
    tf.dispose([p1, t1, p2, t2]);
  });

  it('rejects targets with another number of elements and malformed state', async () => {
    const mse = new MeanSquaredError();
    const p = tf.zeros([2, 2]);
    const t = tf.zeros([3]);
    await expect(mse.update(p, t)).rejects.toThrow(ShapeError);
    await expect(mse.update(p, t)).rejects.toThrow(
      "MeanSquaredError: target must have the output's shape [2, 2], got [3]",
    );
    expect(() => mse.setState([1, 2, 3])).toThrow(CheckpointError);
    tf.dispose([p, t]);
  });
});
