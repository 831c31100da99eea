import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, expectTypeOf, test } from 'vitest';

import { expectParity, expectThrows, fixture } from '../test/helpers.js';
import { ConfigError, ShapeError } from './errors.js';
import { huberLoss, l1Loss, mseLoss } from './regression-losses.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

const CASES: Record<string, (pred: tf.Tensor, target: tf.Tensor) => tf.Tensor> = {
  mse: (p, t) => mseLoss(p, t),
  l1: (p, t) => l1Loss(p, t),
  huber: (p, t) => huberLoss(p, t),
  huber_delta: (p, t) => huberLoss(p, t, { delta: 0.5, reduction: 'sum' }),
  mse_none: (p, t) => mseLoss(p, t, { reduction: 'none' }),
};

for (const backend of TEST_BACKENDS) {
  describe(`regression losses on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, loss] of Object.entries(CASES)) {
      test(`${name}: loss and prediction gradient match PyTorch`, async () => {
        const f = await fixture('regression-losses');
        const [pred, target, dy] = [f.get('pred'), f.get('target'), f.get(`${name}.dy`)];
        const value = loss(pred, target);
        const grad = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(loss(p, target), dy)))(pred);
        expectParity(`${name} loss`, value, f.get(`${name}.loss`));
        expectParity(`${name} grad`, grad, f.get(`${name}.grad`));
        tf.dispose([value, grad]);
        f.dispose();
      });
    }

    test('leak no tensors, forward or gradient', async () => {
      const [p, t] = [tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 2, 5])];
      for (const loss of Object.values(CASES)) {
        await expectNoTensorLeak(() => loss(p, t).dispose());
        await expectNoTensorLeak(() =>
          tf
            .grad((x: tf.Tensor) => tf.sum(loss(x, t)))(p)
            .dispose(),
        );
      }
      tf.dispose([p, t]);
    });
  });
}

describe('regression losses', () => {
  beforeAll(() => onBackend('cpu'));

  test('hand-checked values and reductions', () => {
    const [p, t] = [tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 2, 5])]; // d = 1, 0, −2
    expectTensorsClose(mseLoss(p, t), tf.scalar(5 / 3), 1e-6);
    expectTensorsClose(mseLoss(p, t, { reduction: 'sum' }), tf.scalar(5), 1e-6);
    expectTensorsClose(l1Loss(p, t), tf.scalar(1), 1e-6);
    expectTensorsClose(l1Loss(p, t, { reduction: 'none' }), [1, 0, 2], 1e-6);
    // Huber δ = 1: ½·1² = 0.5 (at the kink), 0, 1·(2 − ½) = 1.5.
    expectTensorsClose(huberLoss(p, t, { reduction: 'none' }), [0.5, 0, 1.5], 1e-6);
    expect(mseLoss(p, t).shape).toEqual([]);
    expectTypeOf(mseLoss(p, t)).toEqualTypeOf<tf.Scalar>();
    expectTypeOf(huberLoss(p, t, { delta: 2 })).toEqualTypeOf<tf.Scalar>();
    expectTypeOf(l1Loss(p, t, { reduction: 'none' })).toEqualTypeOf<tf.Tensor>();
    const someReduction: { reduction: 'mean' | 'none' } = { reduction: 'mean' };
    expectTypeOf(mseLoss(p, t, someReduction)).toEqualTypeOf<tf.Tensor>();
  });

  test('reject mismatched shapes and bad options', () => {
    expectThrows(
      () => mseLoss(tf.zeros([2, 3]), tf.zeros([3])),
      ShapeError,
      'mseLoss: target must have the shape of pred [2, 3], got [3]',
    );
    expectThrows(
      () => l1Loss(tf.zeros([2]), tf.zeros([2, 1])),
      ShapeError,
      'l1Loss: target must have the shape of pred [2], got [2, 1]',
    );
    expectThrows(
      () => huberLoss(tf.zeros([2]), tf.zeros([2]), { delta: 0 }),
      ConfigError,
      'huberLoss: delta must be a positive number, got 0',
    );
    expectThrows(
      () => mseLoss(tf.zeros([2]), tf.zeros([2]), { reduction: 'max' as 'sum' }),
      ConfigError,
      "mseLoss: reduction must be 'mean', 'sum' or 'none', got 'max'",
    );
  });
});
