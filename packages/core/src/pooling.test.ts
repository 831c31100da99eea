import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectParity, expectThrows, fixture, forwardAndGrads } from '../test/helpers.js';
import { ConfigError, ShapeError } from './errors.js';
import { Linear } from './linear.js';
import { AvgPool2d, MaxPool2d } from './pooling.js';
import { init } from './init.js';
import { Rng } from './rng.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

const PARITY_CASES = {
  'max-pool2d': () => new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }),
  'max-pool2d-default': () => new MaxPool2d({ kernelSize: 2 }),
  'avg-pool2d': () => new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1 }),
  'avg-pool2d-exclude-pad': () =>
    new AvgPool2d({ kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], countIncludePad: false }),
};

for (const backend of TEST_BACKENDS) {
  describe(`pooling on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, make] of Object.entries(PARITY_CASES)) {
      test(`${name} forward matches PyTorch`, async () => {
        const f = await fixture(name);
        const out = make().forward(f.get('x'));
        expectParity(`${name} out`, out, f.get('out'));
        out.dispose();
        f.dispose();
      });

      test(`${name} input gradient matches PyTorch`, async () => {
        const f = await fixture(name);
        const pool = make();
        const { out, grads } = forwardAndGrads(pool, f.get('x'), f.get('dy'), (x) => pool.forward(x));
        expectParity(`${name} grad.input`, grads['input'] as tf.Tensor, f.get('grad.input'));
        tf.dispose([out, ...Object.values(grads)]);
        f.dispose();
      });
    }

    test('MaxPool2d sends the gradient to the window maximum even when every value is negative', () => {
      const x = tf.tensor4d([-4, -1, -3, -2, -8, -5, -7, -6], [1, 2, 2, 2]); // channel 0: -4 -3 -8 -7, channel 1: -1 -2 -5 -6
      const dx = tf.grad((v: tf.Tensor) => tf.sum(new MaxPool2d({ kernelSize: 2 }).forward(v)))(x);
      expect(Array.from(dx.dataSync())).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
      tf.dispose([x, dx]);
    });

    test('forward and a training step through pooling leak no tensors', async () => {
      const x = init.normal(new Rng(1), [2, 4, 4, 3]);
      const head = new Linear({ inFeatures: 3, outFeatures: 1 });
      for (const pool of [
        new MaxPool2d({ kernelSize: 2, padding: 1 }),
        new AvgPool2d({ kernelSize: 3, stride: 1, padding: 1 }),
      ]) {
        await expectNoTensorLeak(() => pool.forward(x).dispose());
        await expectNoTensorLeak(() => {
          const { value, grads } = tf.variableGrads(() => tf.mean<tf.Scalar>(head.forward(pool.forward(x))));
          tf.dispose([value, grads]);
        });
      }
      x.dispose();
      head.dispose();
    });
  });
}

describe('pooling', () => {
  beforeAll(() => onBackend('cpu'));

  test('hand-checked windows; stride defaults to the kernel size', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    expectTensorsClose(
      new MaxPool2d({ kernelSize: 2 }).forward(x),
      tf.tensor4d([6, 8, 14, 16], [1, 2, 2, 1]),
      0,
    );
    expectTensorsClose(
      new AvgPool2d({ kernelSize: 2 }).forward(x),
      tf.tensor4d([3.5, 5.5, 11.5, 13.5], [1, 2, 2, 1]),
      1e-6,
    );
    // Corner window with padding 1: real pixels 1, 2, 5, 6 → 14; PyTorch divides by 9 (the pad counts), or by 4.
    expectTensorsClose(
      corner(new AvgPool2d({ kernelSize: 3, stride: 3, padding: 1 }).forward(x)),
      [14 / 9],
      1e-6,
    );
    expectTensorsClose(
      corner(new AvgPool2d({ kernelSize: 3, stride: 3, padding: 1, countIncludePad: false }).forward(x)),
      [14 / 4],
      1e-6,
    );
    // Padding never wins a max, even against negative values.
    expectTensorsClose(corner(new MaxPool2d({ kernelSize: 2, padding: 1 }).forward(tf.neg(x))), [-1], 0);
    expect(new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }).outputSize(7, 6)).toEqual([4, 3]);
  });

  test('rejects wrong input shapes', () => {
    expectThrows(
      () => new MaxPool2d({ kernelSize: 2 }).forward(tf.zeros([4, 4, 3])),
      ShapeError,
      'MaxPool2d: input must be [N, H, W, C] (NHWC), got [4, 4, 3]',
    );
    expectThrows(
      () => new AvgPool2d({ kernelSize: 3 }).forward(tf.zeros([1, 2, 5, 1])),
      ShapeError,
      'AvgPool2d: input of spatial size [2, 5] with padding [0, 0] is smaller than the kernel [3, 3]',
    );
  });

  test('rejects invalid options', () => {
    expectThrows(
      () => new MaxPool2d({ kernelSize: 0 }),
      ConfigError,
      'MaxPool2d: kernelSize must be a positive integer or a pair of them, got 0',
    );
    expectThrows(
      () => new AvgPool2d({ kernelSize: 2, stride: [2, 0] }),
      ConfigError,
      'AvgPool2d: stride must be a positive integer or a pair of them, got [2,0]',
    );
    expectThrows(
      () => new MaxPool2d({ kernelSize: 3, padding: 2 }),
      ConfigError,
      'MaxPool2d: padding [2, 2] must be at most half the kernel size [3, 3]',
    );
    expectThrows(
      () => new AvgPool2d({ kernelSize: 2, padding: -1 }),
      ConfigError,
      'AvgPool2d: padding must be a non-negative integer or a pair of them, got -1',
    );
  });
});

/** The first element of an NHWC output, as a [1] tensor. */
function corner(t: tf.Tensor): tf.Tensor {
  return tf.reshape(tf.slice(t, [0, 0, 0, 0], [1, 1, 1, 1]), [1]);
}
