import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectParity, expectThrows, fixture } from '../test/helpers.js';
import { GELU, LeakyReLU, ReLU, Sigmoid, Tanh, gelu } from './activations.js';
import type { GeluApproximation } from './activations.js';
import { ConfigError } from './errors.js';
import { enableJsKernelsForTest } from './internal/kernels/js-kernel.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

for (const backend of TEST_BACKENDS) {
  describe(`activations on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, approximate] of [
      ['gelu-exact', 'none'],
      ['gelu-tanh', 'tanh'],
    ] as [string, GeluApproximation][]) {
      test(`${name} matches PyTorch: output and input gradient over [-6, 6]`, async () => {
        const f = await fixture(name);
        const layer = new GELU({ approximate });
        const x = f.get('x');
        const out = layer.forward(x);
        const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(layer.forward(v), f.get('dy'))))(x);
        expectParity(`${name} out`, out, f.get('out'));
        expectParity(`${name} grad.input`, grad, f.get('grad.input'));
        tf.dispose([out, grad]);
        f.dispose();
      });
    }

    test('the fused exact GELU kernel (MlGelu, with its derivative) equals the op-level form, SIMD groups and JS tail', () => {
      const x = tf.linspace(-7, 7, 4 * 257 + 3); // not a multiple of 4: the wasm path's JS tail runs too
      const dy = tf.sin(tf.mul(x, 3));
      const run = (fused: boolean) => {
        enableJsKernelsForTest(fused);
        try {
          return tf.tidy(() => {
            const f = (v: tf.Tensor) => tf.sum(tf.mul(gelu(v), dy));
            return [gelu(x), tf.grad(f)(x)];
          });
        } finally {
          enableJsKernelsForTest(true);
        }
      };
      const [y, g] = run(true);
      const [yRef, gRef] = run(false);
      expectTensorsClose(y!, yRef!, { atol: 1e-6, label: 'gelu' });
      expectTensorsClose(g!, gRef!, { atol: 1e-6, label: 'gelu gradient' });
      tf.dispose([x, dy, y!, g!, yRef!, gRef!]);
    });

    test('the fused LeakyReLU kernels equal tf.leakyRelu: output and gradient, SIMD groups and JS tail, slope at 0', () => {
      const x = tf.concat([tf.linspace(-3, 3, 4 * 64 + 1), tf.zeros([2])]); // zeros: the slope there is α
      const dy = tf.cos(tf.mul(x, 5));
      for (const alpha of [0.01, 0.2, 1.5]) {
        const layer = new LeakyReLU({ negativeSlope: alpha });
        const f = (v: tf.Tensor) => tf.sum(tf.mul(layer.forward(v), dy));
        const ref = (v: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(v, alpha), dy));
        const [y, g, yRef, gRef] = tf.tidy(() => [
          layer.forward(x),
          tf.grad(f)(x),
          tf.leakyRelu(x, alpha),
          tf.grad(ref)(x),
        ]);
        expectTensorsClose(y, yRef, { atol: 1e-7, label: `leaky relu α ${alpha}` }); // tfjs' cpu kernel multiplies by α in float64
        expectTensorsClose(g, gRef, { atol: 0, label: `leaky relu gradient α ${alpha}` });
        tf.dispose([y, g, yRef, gRef]);
      }
      tf.dispose([x, dy]);
    });

    test('the fused ReLU (slope 0) equals tf.relu bit for bit: output and gradient, zeros and ±∞', () => {
      const x = tf.concat([tf.linspace(-3, 3, 4 * 32 + 1), tf.tensor1d([0, -0, Infinity, -Infinity, 0.5])]);
      const dy = tf.cos(tf.mul(tf.linspace(0, 9, x.size), 5));
      const layer = new ReLU();
      const f = (v: tf.Tensor) => tf.sum(tf.mul(layer.forward(v), dy));
      const ref = (v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), dy));
      const [y, g, yRef, gRef] = tf.tidy(() => [
        layer.forward(x),
        tf.grad(f)(x),
        tf.relu(x),
        tf.grad(ref)(x),
      ]);
      expect(Array.from(y.dataSync()), 'relu').toEqual(Array.from(yRef.dataSync()));
      const unsigned = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v + 0); // tfjs' dy·0 can be −0
      expect(unsigned(g), 'relu gradient').toEqual(unsigned(gRef));
      tf.dispose([x, dy, y, g, yRef, gRef]);
    });

    test('every activation leaks no tensors, forward or gradient', async () => {
      const x = tf.tensor1d([-2, -0.5, 0.5, 2]);
      for (const layer of [
        new ReLU(),
        new GELU(),
        new GELU({ approximate: 'tanh' }),
        new LeakyReLU(),
        new Sigmoid(),
        new Tanh(),
      ]) {
        await expectNoTensorLeak(() => layer.forward(x).dispose());
        await expectNoTensorLeak(() =>
          tf
            .grad((v: tf.Tensor) => tf.sum(layer.forward(v)))(x)
            .dispose(),
        );
      }
      x.dispose();
    });
  });
}

describe('activations', () => {
  beforeAll(() => onBackend('cpu'));

  test('hand-checked values', () => {
    const x = tf.tensor1d([-2, 0, 3]);
    expectTensorsClose(new ReLU().forward(x), [0, 0, 3], 0);
    expectTensorsClose(new LeakyReLU().forward(x), [-0.02, 0, 3], 1e-7);
    expectTensorsClose(new LeakyReLU({ negativeSlope: 0.2 }).forward(x), [-0.4, 0, 3], 1e-7);
    expectTensorsClose(new Sigmoid().forward(x), [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-3))], 1e-6);
    expectTensorsClose(new Tanh().forward(x), [Math.tanh(-2), 0, Math.tanh(3)], 1e-6);
    // GELU(1) = Φ(1) = 0.8413447; the tanh form gives 0.8411920.
    expectTensorsClose(gelu(tf.tensor1d([1])), [0.8413447], 1e-6);
    expectTensorsClose(gelu(tf.tensor1d([1]), 'tanh'), [0.841192], 1e-6);
    expect(new GELU().approximate).toBe('none');
  });

  test('reject invalid options', () => {
    expectThrows(
      () => new GELU({ approximate: 'erf' as 'none' }),
      ConfigError,
      "GELU: approximate must be 'none' or 'tanh', got 'erf'",
    );
    expectThrows(
      () => new LeakyReLU({ negativeSlope: Number.NaN }),
      ConfigError,
      'LeakyReLU: negativeSlope must be finite, got NaN',
    );
  });
});
