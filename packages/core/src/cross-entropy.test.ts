import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, expectTypeOf, test } from 'vitest';

import { expectParity, expectRejects, expectThrows, fixture } from '../test/helpers.js';
import { checkLabels, crossEntropy } from './cross-entropy.js';
import type { CrossEntropyOptions } from './cross-entropy.js';
import { ConfigError, DataError, ShapeError } from './errors.js';
import type { Fixture } from './testing/index.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

/** Each fixture case: which logits and target it uses, and the options PyTorch was given. */
const CASES: Record<
  string,
  (f: Fixture) => { logits: tf.Tensor; target: tf.Tensor; options: CrossEntropyOptions }
> = {
  smooth_ignore: (f) => ({
    logits: f.get('logits'),
    target: f.get('target'),
    options: { labelSmoothing: 0.1 },
  }),
  plain: (f) => ({
    logits: f.get('logits'),
    target: tf.maximum(f.get('target'), tf.scalar(0, 'int32')),
    options: {},
  }),
  weighted: (f) => ({
    logits: f.get('logits'),
    target: f.get('target'),
    options: { weight: f.get('weight'), labelSmoothing: 0.2 },
  }),
  sum: (f) => ({
    logits: f.get('logits'),
    target: f.get('target'),
    options: { reduction: 'sum', labelSmoothing: 0.1 },
  }),
  none: (f) => ({
    logits: f.get('logits'),
    target: f.get('target'),
    options: { reduction: 'none', labelSmoothing: 0.1 },
  }),
  seq: (f) => ({
    logits: f.get('logits3'),
    target: f.get('target3'),
    options: { ignoreIndex: -1, labelSmoothing: 0.1 },
  }),
  probs: (f) => ({ logits: f.get('logits'), target: f.get('probs'), options: { labelSmoothing: 0.1 } }),
  probs_weighted: (f) => ({
    logits: f.get('logits'),
    target: f.get('probs'),
    options: { weight: f.get('weight') },
  }),
};

for (const backend of TEST_BACKENDS) {
  describe(`crossEntropy on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, make] of Object.entries(CASES)) {
      test(`${name}: loss and logits gradient match PyTorch`, async () => {
        const f = await fixture('cross-entropy');
        const { logits, target, options } = make(f);
        const dy = f.get(`${name}.dy`);
        const loss = crossEntropy(logits, target, options);
        const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(crossEntropy(x, target, options), dy)))(logits);
        expectParity(`cross-entropy ${name} loss`, loss, f.get(`${name}.loss`));
        expectParity(`cross-entropy ${name} grad`, grad, f.get(`${name}.grad`));
        tf.dispose([loss, grad, target]);
        f.dispose();
      });
    }

    test('leaks no tensors, forward or gradient', async () => {
      const logits = tf.tensor2d([
        [1, 2, 3],
        [0, 0, 5],
      ]);
      const target = tf.tensor1d([2, -100], 'int32');
      const weight = tf.tensor1d([1, 2, 3]);
      await expectNoTensorLeak(() => crossEntropy(logits, target, { labelSmoothing: 0.1, weight }).dispose());
      await expectNoTensorLeak(() => crossEntropy(logits, [2, 0]).dispose());
      await expectNoTensorLeak(() =>
        tf
          .grad((x: tf.Tensor) => crossEntropy(x, target))(logits)
          .dispose(),
      );
      tf.dispose([logits, target, weight]);
    });
  });
}

describe('crossEntropy', () => {
  beforeAll(() => onBackend('cpu'));

  test('hand-checked: uniform logits cost log C; a confident right answer costs ~0', () => {
    const loss = crossEntropy(tf.zeros([2, 4]), [1, 3]);
    expect(loss.shape).toEqual([]);
    expectTensorsClose(loss, tf.scalar(Math.log(4)), 1e-6);
    expectTensorsClose(crossEntropy(tf.tensor2d([[20, 0]]), [0]), tf.scalar(Math.log1p(Math.exp(-20))), 1e-6);
    // Huge logits stay finite (logSoftmax, not log(softmax)).
    expectTensorsClose(crossEntropy(tf.tensor2d([[1000, -1000]]), [1]), tf.scalar(2000), 1e-3);
  });

  test('ignored positions add nothing and are not counted by the mean', () => {
    const logits = tf.tensor2d([
      [0, 0],
      [5, -5],
      [3, 1],
    ]);
    const all = crossEntropy(logits, [0, 0, -100], { reduction: 'none' });
    expect(all.shape).toEqual([3]);
    expect(all.dataSync()[2]).toBe(0);
    const mean = crossEntropy(logits, [0, 0, -100]);
    expectTensorsClose(mean, tf.scalar((all.dataSync()[0]! + all.dataSync()[1]!) / 2), 1e-6);
    // A class id can be the ignore index (e.g. a padding token 0).
    expectTensorsClose(crossEntropy(logits, [1, 0, 0], { ignoreIndex: 0 }), tf.scalar(Math.log(2)), 1e-6);
  });

  test('labels out of range in a plain array throw a DataError naming the label and the class count', () => {
    const logits = tf.zeros([3, 5]);
    expectThrows(
      () => crossEntropy(logits, [1, 7, 2]),
      DataError,
      'crossEntropy: label 7 at flat index 1 is out of range [0, 5) (numClasses 5, ignoreIndex -100)',
    );
    expectThrows(
      () => crossEntropy(logits, [1, -1, 2]),
      DataError,
      'crossEntropy: label -1 at flat index 1 is out of range [0, 5) (numClasses 5, ignoreIndex -100)',
    );
    expectThrows(
      () => crossEntropy(logits, [1, 2.5, 2]),
      DataError,
      /label 2.5 at flat index 1 is out of range/,
    );
    expect(crossEntropy(logits, [1, -1, 2], { ignoreIndex: -1 }).shape).toEqual([]);
  });

  test('labels out of range in a tensor give NaN on the hot path and a DataError from checkLabels', async () => {
    const logits = tf.zeros([3, 5]);
    const target = tf.tensor1d([1, 5, -100], 'int32');
    expect(Number.isNaN(crossEntropy(logits, target).dataSync()[0])).toBe(true);
    const none = crossEntropy(logits, target, { reduction: 'none' }).dataSync();
    expect(Number.isNaN(none[1])).toBe(true);
    expect(Number.isNaN(none[0])).toBe(false);
    await expectRejects(
      checkLabels(target, 5),
      DataError,
      'crossEntropy: label 5 at flat index 1 is out of range [0, 5) (numClasses 5, ignoreIndex -100)',
    );
    await checkLabels(tf.tensor1d([0, 4, -100], 'int32'), 5);
  });

  test('returns a tf.Scalar for mean/sum (also in its type) and per-position losses for none', () => {
    const logits = tf.zeros([2, 3, 4]);
    const mean = crossEntropy(logits, [
      [0, 1, 2],
      [3, 0, 1],
    ]);
    const none = crossEntropy(
      logits,
      [
        [0, 1, 2],
        [3, 0, 1],
      ],
      { reduction: 'none' },
    );
    const sum = crossEntropy(
      logits,
      [
        [0, 1, 2],
        [3, 0, 1],
      ],
      { reduction: 'sum', labelSmoothing: 0.1 },
    );
    expectTypeOf(mean).toEqualTypeOf<tf.Scalar>();
    expectTypeOf(sum).toEqualTypeOf<tf.Scalar>();
    expectTypeOf(none).toEqualTypeOf<tf.Tensor>();
    expect([mean.shape, sum.shape, none.shape]).toEqual([[], [], [2, 3]]);
  });

  test('rejects wrong shapes, dtypes and options', () => {
    const logits = tf.zeros([3, 5]);
    expectThrows(
      () => crossEntropy(tf.zeros([5]), [1]),
      ShapeError,
      'crossEntropy: logits must be [N, C] or [N, T, C], got [5]',
    );
    expectThrows(
      () => crossEntropy(logits, [1, 2]),
      ShapeError,
      'crossEntropy: target must be class ids of shape [3] or probabilities of shape [3, 5], got [2]',
    );
    expectThrows(
      () => crossEntropy(logits, tf.tensor1d([1, 2, 3])),
      DataError,
      'crossEntropy: class-id targets must be int32, got float32',
    );
    expectThrows(
      () => crossEntropy(logits, tf.zeros([3, 5], 'int32')),
      DataError,
      'crossEntropy: probability targets must be float32, got int32',
    );
    expectThrows(
      () => crossEntropy(logits, [1, 2, 3], { weight: tf.ones([4]) }),
      ShapeError,
      'crossEntropy: weight must be [5] (one per class), got [4]',
    );
    expectThrows(
      () => crossEntropy(logits, [1, 2, 3], { labelSmoothing: 1.5 }),
      ConfigError,
      'crossEntropy: labelSmoothing must be in [0, 1], got 1.5',
    );
    expectThrows(
      () => crossEntropy(logits, [1, 2, 3], { reduction: 'avg' as 'mean' }),
      ConfigError,
      "crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'avg'",
    );
  });
});
