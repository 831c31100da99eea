import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, expectTypeOf, test } from 'vitest';

import { expectParity, expectThrows, fixture } from '../test/helpers.js';
import { binaryCrossEntropyWithLogits } from './binary-cross-entropy.js';
import type { BinaryCrossEntropyOptions } from './binary-cross-entropy.js';
import { ConfigError, ShapeError } from './errors.js';
import type { Fixture } from './testing/index.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

const CASES: Record<string, (f: Fixture) => BinaryCrossEntropyOptions> = {
  mean: () => ({}),
  pos_weight: (f) => ({ posWeight: f.get('pos_weight'), reduction: 'sum' }),
  none: () => ({ reduction: 'none' }),
};

for (const backend of TEST_BACKENDS) {
  describe(`binaryCrossEntropyWithLogits on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, make] of Object.entries(CASES)) {
      // The logits include 0 (where |x|-based formulas get the gradient wrong) and ±30.
      test(`${name}: loss and logits gradient match PyTorch`, async () => {
        const f = await fixture('bce-with-logits');
        const options = make(f);
        const [logits, target, dy] = [f.get('logits'), f.get('target'), f.get(`${name}.dy`)];
        const loss = binaryCrossEntropyWithLogits(logits, target, options);
        const grad = tf.grad((x: tf.Tensor) =>
          tf.sum(tf.mul(binaryCrossEntropyWithLogits(x, target, options), dy)),
        )(logits);
        expectParity(`bce ${name} loss`, loss, f.get(`${name}.loss`));
        expectParity(`bce ${name} grad`, grad, f.get(`${name}.grad`));
        tf.dispose([loss, grad]);
        f.dispose();
      });
    }

    test('leaks no tensors, forward or gradient', async () => {
      const [x, t] = [
        tf.tensor2d([
          [0, 3],
          [-2, 8],
        ]),
        tf.tensor2d([
          [1, 0],
          [0.5, 1],
        ]),
      ];
      await expectNoTensorLeak(() => binaryCrossEntropyWithLogits(x, t, { posWeight: 2 }).dispose());
      await expectNoTensorLeak(() =>
        tf
          .grad((v: tf.Tensor) => binaryCrossEntropyWithLogits(v, t))(x)
          .dispose(),
      );
      tf.dispose([x, t]);
    });
  });
}

describe('binaryCrossEntropyWithLogits', () => {
  beforeAll(() => onBackend('cpu'));

  test('hand-checked values, stable at large logits', () => {
    expectTensorsClose(
      binaryCrossEntropyWithLogits(tf.tensor1d([0]), tf.tensor1d([1])),
      tf.scalar(Math.log(2)),
      1e-6,
    );
    // A confident wrong answer costs |x|, with no overflow.
    expectTensorsClose(
      binaryCrossEntropyWithLogits(tf.tensor1d([-200]), tf.tensor1d([1])),
      tf.scalar(200),
      1e-3,
    );
    expectTensorsClose(
      binaryCrossEntropyWithLogits(tf.tensor1d([200]), tf.tensor1d([1])),
      tf.scalar(0),
      1e-6,
    );
    // posWeight 3 triples the positive term: −3·log σ(0) = 3·log 2.
    expectTensorsClose(
      binaryCrossEntropyWithLogits(tf.tensor1d([0]), tf.tensor1d([1]), { posWeight: 3 }),
      tf.scalar(3 * Math.log(2)),
      1e-6,
    );
    expect(
      binaryCrossEntropyWithLogits(tf.zeros([2, 3]), tf.zeros([2, 3]), { reduction: 'none' }).shape,
    ).toEqual([2, 3]);
    expectTypeOf(binaryCrossEntropyWithLogits(tf.zeros([2]), tf.zeros([2]))).toEqualTypeOf<tf.Scalar>();
    expectTypeOf(
      binaryCrossEntropyWithLogits(tf.zeros([2]), tf.zeros([2]), { reduction: 'none' }),
    ).toEqualTypeOf<tf.Tensor>();
  });

  test('rejects mismatched shapes and bad options', () => {
    expectThrows(
      () => binaryCrossEntropyWithLogits(tf.zeros([2, 3]), tf.zeros([2])),
      ShapeError,
      'binaryCrossEntropyWithLogits: target must have the shape of logits [2, 3], got [2]',
    );
    expectThrows(
      () => binaryCrossEntropyWithLogits(tf.zeros([2, 3]), tf.zeros([2, 3]), { posWeight: tf.ones([2]) }),
      ShapeError,
      'binaryCrossEntropyWithLogits: posWeight must be [3] (one per class on the last axis), got [2]',
    );
    expectThrows(
      () => binaryCrossEntropyWithLogits(tf.zeros([2]), tf.zeros([2]), { reduction: 'avg' as 'mean' }),
      ConfigError,
      "binaryCrossEntropyWithLogits: reduction must be 'mean', 'sum' or 'none', got 'avg'",
    );
  });
});
