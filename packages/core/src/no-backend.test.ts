import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';

import { expectThrows } from '../test/helpers.js';
import { Adam } from './adam.js';
import { activeBackend, useBackend } from './backend.js';
import { BackendError } from './errors.js';
import { Linear } from './linear.js';

// Runs in its own process with nothing but @ml/core imported: importing it must change nothing in tfjs
// (no gradients, no chained ops, no backend), and using a layer before useBackend() must say so.
describe('before useBackend()', () => {
  test('importing @ml/core registers no gradient, chained op or backend', () => {
    expect(tf.getGradient('Add')).toBeUndefined();
    expect(tf.getGradient('BatchMatMul')).toBeUndefined();
    expect((tf.Tensor.prototype as unknown as Record<string, unknown>)['asScalar']).toBeUndefined();
    expect(activeBackend()).toBeNull();
    expect(Object.keys(tf.engine().registryFactory)).toEqual([]);
  });

  test('creating a layer or an optimizer is a BackendError that says to call useBackend()', () => {
    expectThrows(
      () => new Linear({ inFeatures: 2, outFeatures: 3 }),
      BackendError,
      'Linear: no tensor backend is active; call useBackend() first (e.g. `await useBackend()` from @ml/core)',
    );
    expectThrows(() => new Adam([], { lr: 0.1 }), BackendError, /^Adam: no tensor backend is active/);
  });

  test('useBackend() registers the gradients and chained ops training needs; the layer then trains', async () => {
    await useBackend('cpu');
    expect(tf.getGradient('Add')).toBeDefined();
    expect(tf.getGradient('BatchMatMul')).toBeDefined();
    expect(typeof (tf.Tensor.prototype as unknown as Record<string, unknown>)['asScalar']).toBe('function');
    const layer = new Linear({ inFeatures: 2, outFeatures: 1, seed: 1 });
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const y = tf.tensor2d([[1], [2]]);
    const opt = new Adam(layer, { lr: 0.1 });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const l = opt.minimize(() => tf.mean(tf.square(tf.sub(layer.forward(x), y))));
      losses.push((await l.data())[0]!);
      l.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(0.1 * losses[0]!);
    tf.dispose([x, y]);
    layer.dispose();
  });
});
