import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { TopKAccuracy } from './top-k-accuracy.js';

describe('TopKAccuracy', () => {
  beforeAll(() => onBackend('cpu'));

  it('counts targets among the k highest scores, over batches', async () => {
    const top2 = new TopKAccuracy({ k: 2 });
    expect(top2.name).toBe('top2_accuracy');
    // top-2 sets: {0, 1}, {2, 3}, {1, 3}
    const scores = tf.tensor2d([
      [0.5, 0.4, 0.1, 0.0],
      [0.0, 0.1, 0.5, 0.4],
      [0.1, 0.3, 0.2, 0.4],
    ]);
    const y = tf.tensor1d([1, 0, 3], 'int32'); // hit, miss, hit
    await expectNoTensorLeak(() => top2.update(scores, y));
    expect(top2.result()).toBeCloseTo(2 / 3, 12);
    const onehot = tf.oneHot(tf.tensor1d([2], 'int32'), 4);
    const s2 = tf.tensor2d([[0.1, 0.2, 0.3, 0.4]]); // top-2 {3, 2}: hit
    await top2.update(s2, onehot);
    expect(top2.state()).toEqual([3, 4]);
    tf.dispose([scores, y, onehot, s2]);
  });

  it('rejects bad k and shapes', async () => {
    expect(() => new TopKAccuracy({ k: 0 })).toThrow(ConfigError);
    expect(() => new TopKAccuracy({ k: 0 })).toThrow('TopKAccuracy: k must be a positive integer, got 0');
    const m = new TopKAccuracy({ k: 5 });
    const scores = tf.zeros([2, 3]);
    const y = tf.zeros([2], 'int32');
    await expect(m.update(scores, y)).rejects.toThrow(ShapeError);
    await expect(m.update(scores, y)).rejects.toThrow(
      'TopKAccuracy: output must be [N, C] with C ≥ k (5), got [2, 3]',
    );
    const m1 = new TopKAccuracy({ k: 1 });
    const bad = tf.zeros([3], 'int32');
    await expect(m1.update(scores, bad)).rejects.toThrow(
      'TopKAccuracy: target must be class ids [2] or one-hot [2, 3], got [3]',
    );
    tf.dispose([scores, y, bad]);
  });
});
