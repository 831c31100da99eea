import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectParity, expectThrows, fixture, forwardAndGrads, sgdStep } from '../test/helpers.js';
import { ConfigError, ShapeError } from './errors.js';
import { Linear, linear } from './linear.js';
import { init } from './init.js';
import { Rng, manualSeed } from './rng.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

for (const backend of TEST_BACKENDS) {
  describe(`Linear on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('matches PyTorch on [2, 4, 5] input: output, input and parameter gradients', async () => {
      const f = await fixture('linear');
      const linear = new Linear({ inFeatures: 5, outFeatures: 3 });
      linear.loadStateDict({ weight: f.get('weight'), bias: f.get('bias') });
      const { out, grads } = forwardAndGrads(linear, f.get('x'), f.get('dy'), (x) => linear.forward(x));
      expectParity('linear out', out, f.get('out'));
      expectParity('linear grad.input', grads['input'] as tf.Tensor, f.get('grad.input'));
      expectParity('linear grad.weight', grads['weight'] as tf.Tensor, f.get('grad.weight'));
      expectParity('linear grad.bias', grads['bias'] as tf.Tensor, f.get('grad.bias'));
      tf.dispose([out, ...Object.values(grads)]);
      linear.dispose();
      f.dispose();
    });

    test('forward and a training step leak no tensors; steps lower the loss', async () => {
      const linear = new Linear({ inFeatures: 4, outFeatures: 2, seed: 3 });
      const x = init.normal(new Rng(1), [8, 4]);
      const y = init.normal(new Rng(2), [8, 2]);
      await expectNoTensorLeak(() => linear.forward(x).dispose());
      const loss = () => tf.mean<tf.Scalar>(tf.square(tf.sub(linear.forward(x), y)));
      const first = await expectNoTensorLeak(() => sgdStep(linear, loss, 0.1));
      for (let i = 0; i < 20; i++) sgdStep(linear, loss, 0.1);
      expect(sgdStep(linear, loss, 0.1)).toBeLessThan(first * 0.7);
      tf.dispose([x, y]);
      linear.dispose();
    });
  });
}

describe('Linear', () => {
  beforeAll(() => onBackend('cpu'));

  test('computes x·Wᵀ + b for any leading shape', () => {
    const linear = new Linear({ inFeatures: 2, outFeatures: 3 });
    linear.loadStateDict({
      weight: tf.tensor2d([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
      bias: tf.tensor1d([0, 10, 100]),
    });
    expectTensorsClose(linear.forward(tf.tensor2d([[1, 2]])), tf.tensor2d([[1, 12, 103]]), 0);
    expectTensorsClose(linear.forward(tf.tensor1d([1, 2])), tf.tensor1d([1, 12, 103]), 0);
    expect(linear.forward(tf.zeros([2, 3, 4, 2])).shape).toEqual([2, 3, 4, 3]);
    expect(new Linear({ inFeatures: 2, outFeatures: 3, bias: false }).bias).toBeNull();
  });

  test('PyTorch layout and default init: weight [out, in], weight and bias in U(±1/√in)', () => {
    const linear = new Linear({ inFeatures: 16, outFeatures: 64 });
    expect(linear.weight.shape).toEqual([64, 16]);
    const bound = 1 / Math.sqrt(16);
    const w = Array.from(linear.weight.dataSync());
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(
      Math.max(...Array.from((linear.bias as tf.Variable).dataSync()).map(Math.abs)),
    ).toBeLessThanOrEqual(bound);
  });

  test('the same seed (or rng state) gives the same weights', () => {
    const w = (options: { seed?: number; rng?: Rng }) =>
      new Linear({ inFeatures: 3, outFeatures: 2, ...options }).weight.dataSync();
    expect(w({ seed: 5 })).toEqual(w({ seed: 5 }));
    expect(w({ seed: 5 })).not.toEqual(w({ seed: 6 }));
    expect(w({ rng: new Rng(5) })).toEqual(w({ seed: 5 }));
  });

  test('unseeded layers of one shape get different weights; manualSeed makes construction reproducible', () => {
    const build = () => {
      const layers = [
        new Linear({ inFeatures: 3, outFeatures: 2 }),
        new Linear({ inFeatures: 3, outFeatures: 2 }),
      ];
      const values = layers.map((l) => Array.from(l.weight.dataSync()));
      layers.forEach((l) => l.dispose());
      return values;
    };
    manualSeed(42);
    const [a, b] = build();
    expect(a).not.toEqual(b);
    manualSeed(42);
    expect(build()).toEqual([a, b]);
    manualSeed(43);
    expect(build()[0]).not.toEqual(a);
  });

  test('rejects an input of the wrong shape', () => {
    const linear = new Linear({ inFeatures: 64, outFeatures: 2 });
    expectThrows(
      () => linear.forward(tf.zeros([8, 32])),
      ShapeError,
      'Linear: input last dim must be 64, got [8, 32]',
    );
    expectThrows(() => linear.forward(tf.scalar(1)), ShapeError, 'Linear: input last dim must be 64, got []');
  });

  test('rejects invalid options', () => {
    expectThrows(
      () => new Linear({ inFeatures: 0, outFeatures: 2 }),
      ConfigError,
      'Linear: inFeatures must be a positive integer, got 0',
    );
    expectThrows(
      () => new Linear({ inFeatures: 2, outFeatures: 1.5 }),
      ConfigError,
      'Linear: outFeatures must be a positive integer, got 1.5',
    );
  });
});

describe('linear (the function)', () => {
  beforeAll(() => onBackend('cpu'));

  test('equals the Linear layer, with and without a bias, for any leading shape; no tensor leaks', async () => {
    const layer = new Linear({ inFeatures: 5, outFeatures: 3, seed: 7 });
    const x = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 3);
    const want = tf.tidy(() => [
      layer.forward(x),
      tf.reshape(tf.matMul(tf.reshape(x, [8, 5]), layer.weight, false, true), [2, 4, 3]),
    ]);
    const got = await expectNoTensorLeak(
      () => [linear(x, layer.weight, layer.bias), linear(x, layer.weight)],
      2,
    );
    expectTensorsClose(got[0]!, want[0]!, 0);
    expectTensorsClose(got[1]!, want[1]!, 0);
    expect(tf.tidy(() => linear(tf.ones([5]), layer.weight).shape)).toEqual([3]);
    tf.dispose([x, ...want, ...got]);
    layer.dispose();
  });

  test("computes only the gradients asked for: the weight's and bias' take one product, no input gradient", async () => {
    const w = tf.randomNormal([3, 5], 0, 1, 'float32', 1);
    const b = tf.randomNormal([3], 0, 1, 'float32', 2);
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 3);
    const profile = await tf.profile(() => {
      tf.dispose(tf.grads((wv: tf.Tensor, bv: tf.Tensor) => tf.sum(linear(x, wv, bv)))([w, b]));
    });
    const products = profile.kernelNames.filter((k) => k === 'BatchMatMul' || k === '_FusedMatMul');
    expect(products).toEqual(['_FusedMatMul', 'BatchMatMul']); // forward, then dW only
    // the gradients themselves: dW = 1ᵀ·x, db = N
    const [dw, db] = tf.grads((wv: tf.Tensor, bv: tf.Tensor) => tf.sum(linear(x, wv, bv)))([w, b]);
    expectTensorsClose(dw!, tf.tile(tf.sum(x, 0, true), [3, 1]), 1e-5);
    expectTensorsClose(db!, tf.fill([3], 4), 0);
    tf.dispose([w, b, x, dw!, db!]);
  });

  test('names the operand that does not fit', () => {
    const w = tf.zeros([3, 5]);
    expectThrows(
      () => linear(tf.zeros([2, 4]), w),
      ShapeError,
      'linear: input last dim must be 5, got [2, 4]',
    );
    expectThrows(
      () => linear(tf.zeros([2, 5]), tf.zeros([15])),
      ShapeError,
      'linear: weight must be [out, in], got [15]',
    );
    expectThrows(
      () => linear(tf.zeros([2, 5]), w, tf.zeros([5])),
      ShapeError,
      'linear: bias must be [3] for weight [3, 5], got [5]',
    );
    w.dispose();
  });
});
