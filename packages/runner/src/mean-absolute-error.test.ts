import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ShapeError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { MeanAbsoluteError } from './mean-absolute-error.js';

describe('MeanAbsoluteError', () => {
  beforeAll(() => onBackend('cpu'));

  it('pools absolute errors over batches', async () => {
    const mae = new MeanAbsoluteError();
    const p1 = tf.tensor1d([1, 0, 4]);
    const t1 = tf.tensor1d([0, 2, 4]); // |e| 1, 2, 0
    const p2 = tf.tensor1d([-1]);
    const t2 = tf.tensor1d([2]); // |e| 3
    await expectNoTensorLeak(() => mae.update(p1, t1));
    await mae.update(p2, t2);
    expect(mae.result()).toBeCloseTo(6 / 4, 12);
    tf.dispose([p1, t1, p2, t2]);
  });

  it('rejects mismatched targets', async () => {
    const mae = new MeanAbsoluteError();
    const p = tf.zeros([2]);
    const t = tf.zeros([5]);
    await expect(mae.update(p, t)).rejects.toThrow(ShapeError);
    await expect(mae.update(p, t)).rejects.toThrow(
      "MeanAbsoluteError: target must have the output's shape [2], got [5]",
    );
    tf.dispose([p, t]);
  });
});
