import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import { TEST_BACKENDS, forwardAndGrads, onBackend } from '@ml/core/testing';

import { absoluteError } from '../test/helpers.js';
import { PatchEmbedding } from './patch-embedding.js';

for (const backend of TEST_BACKENDS) {
  describe(`PatchEmbedding (${backend})`, () => {
    beforeAll(() => onBackend(backend));

    test("'matmul' and 'conv' give the same patches and gradients from the same parameters", () => {
      const options = { imageSize: [8, 12], patchSize: 4, channels: 3, dim: 5, seed: 1 } as const;
      const a = new PatchEmbedding({ ...options, method: 'matmul' });
      const b = new PatchEmbedding({ ...options, method: 'conv' });
      b.loadStateDict(a.stateDict());
      const x = tf.randomNormal([2, 8, 12, 3], 0, 1, 'float32', 2);
      const dy = tf.randomNormal([2, 6, 5], 0, 1, 'float32', 3);
      const ra = forwardAndGrads(a, { x }, dy, (i) => a.forward(i['x'] as tf.Tensor));
      const rb = forwardAndGrads(b, { x }, dy, (i) => b.forward(i['x'] as tf.Tensor));
      expect(ra.out.shape).toEqual([2, 6, 5]);
      expect(absoluteError(ra.out, rb.out)).toBeLessThanOrEqual(1e-5);
      for (const k of ['in.x', 'proj.weight', 'proj.bias'])
        expect(absoluteError(ra.grads[k] as tf.Tensor, rb.grads[k] as tf.Tensor), k).toBeLessThanOrEqual(
          1e-4,
        );
      // Patch (0, 1) of image 0 is rows 0–3, columns 4–7, and its embedding is w·patch + b.
      const patch = tf.transpose(tf.slice(x, [0, 0, 4, 0], [1, 4, 4, 3]), [0, 3, 1, 2]); // [1, C, p, p]
      const manual = tf.add(tf.sum(tf.mul(a.proj.weight, patch), [1, 2, 3]), a.proj.bias as tf.Variable);
      expect(
        absoluteError(tf.reshape(tf.slice(ra.out, [0, 1, 0], [1, 1, 5]), [5]), manual),
      ).toBeLessThanOrEqual(1e-5);
      tf.dispose([x, dy, patch, manual]);
      ra.dispose();
      rb.dispose();
      a.dispose();
      b.dispose();
    });
  });
}

describe('PatchEmbedding errors', () => {
  beforeAll(() => onBackend('cpu'));

  test('image size not divisible by the patch size → ConfigError naming both', () => {
    expect(() => new PatchEmbedding({ imageSize: [28, 30], patchSize: 8, channels: 1, dim: 4 })).toThrow(
      new ConfigError('PatchEmbedding: image size [28, 30] must be divisible by the patch size (8)'),
    );
  });

  test('wrong input shape → ShapeError with expected and actual', () => {
    const p = new PatchEmbedding({ imageSize: 8, patchSize: 4, channels: 2, dim: 4, seed: 0 });
    const x = tf.zeros([1, 8, 8, 3]);
    expect(() => p.forward(x)).toThrow(ShapeError);
    expect(() => p.forward(x)).toThrow(
      'PatchEmbedding: images must be [B, 8, 8, 2] (NHWC), got [1, 8, 8, 3]',
    );
    x.dispose();
    p.dispose();
  });
});
