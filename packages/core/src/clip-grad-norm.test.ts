import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { clipGradNorm } from './clip-grad-norm.js';
import { ConfigError } from './errors.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

for (const backend of TEST_BACKENDS) {
  describe(`clipGradNorm on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('returns the global L2 norm and scales every gradient so the norm is maxNorm', async () => {
      // Global norm over both tensors: √(3² + 4² + 12²) = 13.
      const grads = { a: tf.tensor2d([[3, 4]]), b: tf.tensor1d([12]) };
      const out = await expectNoTensorLeak(() => clipGradNorm(grads, 6.5), 2);
      expect(out.totalNorm).toBeCloseTo(13, 5);
      expectTensorsClose(out.grads.a as tf.Tensor, tf.tensor2d([[1.5, 2]]), 1e-5);
      expectTensorsClose(out.grads.b as tf.Tensor, [6], 1e-5);
      const clippedNorm = Math.hypot(
        ...(await (out.grads.a as tf.Tensor).data()),
        ...(await (out.grads.b as tf.Tensor).data()),
      );
      expect(clippedNorm).toBeLessThanOrEqual(6.5);
      expect(clippedNorm).toBeGreaterThan(6.5 - 1e-4);
      // The inputs are untouched and still owned by the caller.
      expectTensorsClose(grads.a, tf.tensor2d([[3, 4]]), 0);
      tf.dispose([...Object.values(grads), ...Object.values(out.grads)]);
    });

    test('leaves gradients within the bound unchanged (same values, new tensors)', async () => {
      const grads = { w: tf.tensor1d([0.1, -0.2, 0.3]), b: tf.tensor1d([0.05]) };
      const out = await clipGradNorm(grads, 1);
      expect(out.totalNorm).toBeCloseTo(Math.hypot(0.1, 0.2, 0.3, 0.05), 6);
      expect(Array.from(await (out.grads.w as tf.Tensor).data())).toEqual(Array.from(await grads.w.data()));
      expect(Array.from(await (out.grads.b as tf.Tensor).data())).toEqual(Array.from(await grads.b.data()));
      expect(out.grads.w).not.toBe(grads.w);
      tf.dispose([...Object.values(grads), ...Object.values(out.grads)]);
    });

    test('no gradients: norm 0, nothing created', async () => {
      const out = await expectNoTensorLeak(() => clipGradNorm({}, 1));
      expect(out).toEqual({ grads: {}, totalNorm: 0 });
    });
  });
}

describe('clipGradNorm errors', () => {
  test('maxNorm must be a finite number > 0', () => {
    const grads = { w: tf.ones([2]) };
    expect(() => clipGradNorm(grads, 0)).toThrow(
      new ConfigError('clipGradNorm: maxNorm must be a finite number > 0, got 0'),
    );
    expect(() => clipGradNorm(grads, -1)).toThrow(
      new ConfigError('clipGradNorm: maxNorm must be a finite number > 0, got -1'),
    );
    expect(() => clipGradNorm(grads, NaN)).toThrow(
      new ConfigError('clipGradNorm: maxNorm must be a finite number > 0, got NaN'),
    );
    grads.w.dispose();
  });
});
