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

// @ml's wasm MaxPoolGrad against the first-maximum rule it implements, written out plainly below: bit for
// bit (dx accumulates float32 sums in output-position order, so overlapping windows are exact too). The
// reference itself is checked against tfjs-cpu's MaxPoolGrad, which sums overlaps in another order.
describe('MaxPoolGrad on wasm', () => {
  interface PoolCase {
    shape: [number, number, number, number];
    filter: number | [number, number];
    stride: number | [number, number];
    pad: 'valid' | 'same';
  }
  const CASES: Record<string, PoolCase> = {
    '2x2/2 valid, 4 channels': { shape: [2, 6, 6, 4], filter: 2, stride: 2, pad: 'valid' },
    '2x2/2 valid, odd sizes, 6 channels': { shape: [2, 5, 7, 6], filter: 2, stride: 2, pad: 'valid' },
    '3x3/2 same, 8 channels': { shape: [2, 7, 8, 8], filter: 3, stride: 2, pad: 'same' },
    '3x3/2 same, 3 channels': { shape: [2, 6, 5, 3], filter: 3, stride: 2, pad: 'same' },
    '3x3/1 same, 6 channels': { shape: [2, 5, 6, 6], filter: 3, stride: 1, pad: 'same' },
    '3x3/1 same, 4 channels': { shape: [2, 4, 4, 4], filter: 3, stride: 1, pad: 'same' },
    '2x3/(2,1) same, 7 channels': { shape: [2, 5, 6, 7], filter: [2, 3], stride: [2, 1], pad: 'same' },
  };

  /** The gradient to the first tap (in (i, j) order) strictly above all before it, from −∞; float32 sums. */
  function reference(c: PoolCase, x: Float32Array, dy: Float32Array): Float32Array {
    const info = tf.backend_util.computePool2DInfo(c.shape, c.filter, c.stride, 1, c.pad);
    const { batchSize, inHeight, inWidth, inChannels: ch, outHeight, outWidth } = info;
    const dx = new Float32Array(x.length);
    let g = 0;
    for (let n = 0; n < batchSize; n++)
      for (let oh = 0; oh < outHeight; oh++)
        for (let ow = 0; ow < outWidth; ow++)
          for (let k = 0; k < ch; k++, g++) {
            let best = -Infinity;
            let arg = -1;
            for (let i = 0; i < info.filterHeight; i++) {
              const ih = oh * info.strideHeight - info.padInfo.top + i;
              for (let j = 0; j < info.filterWidth; j++) {
                const iw = ow * info.strideWidth - info.padInfo.left + j;
                if (ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth) continue;
                const at = ((n * inHeight + ih) * inWidth + iw) * ch + k;
                if (x[at]! > best) [best, arg] = [x[at]!, at];
              }
            }
            if (arg >= 0) dx[arg] = dx[arg]! + dy[g]!;
          }
    return dx;
  }

  /** MaxPoolGrad's dx on the active backend, asserting it leaves no tensor behind. */
  async function maxPoolGrad(c: PoolCase, x: Float32Array, dy: Float32Array): Promise<Float32Array> {
    return expectNoTensorLeak(async () => {
      const xt = tf.tensor4d(x, c.shape);
      const y = tf.maxPool(xt, c.filter, c.stride, c.pad);
      const dyt = tf.tensor(dy, y.shape);
      const dx = tf
        .engine()
        .runKernel<tf.Tensor>(
          'MaxPoolGrad',
          { dy: dyt, input: xt, output: y },
          { filterSize: c.filter, strides: c.stride, pad: c.pad },
        );
      const out = await dx.data<'float32'>();
      tf.dispose([xt, y, dyt, dx]);
      return out;
    });
  }

  const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

  for (const [name, c] of Object.entries(CASES)) {
    test(`${name}: equals the first-maximum rule bit for bit, with ties`, async () => {
      const rng = new Rng(7);
      const n = c.shape.reduce((a, b) => a * b, 1);
      // Four levels: most windows hold equal maxima, so the first one must get the gradient.
      const x = Float32Array.from({ length: n }, () => rng.int(4) - 1);
      const outShape = tf.backend_util.computePool2DInfo(c.shape, c.filter, c.stride, 1, c.pad).outShape;
      const dy = rng.normalArray(outShape.reduce((a, b) => a * b, 1));
      const expected = reference(c, x, dy);
      await onBackend('cpu');
      expectTensorsClose(await maxPoolGrad(c, x, dy), expected, { atol: 1e-6, rtol: 1e-6, label: 'cpu' });
      await onBackend('wasm');
      expect(bits(await maxPoolGrad(c, x, dy))).toEqual(bits(expected));
    });
  }

  test('-Infinity never wins, NaN never wins, a window without a winner sends nothing', async () => {
    await onBackend('wasm');
    // One 2x2 window, taps in (i, j) order per channel; channels 0-3 take the SIMD path, 4 the scalar one.
    const taps = [
      [1, 3, 3, 2], // a tie: the first 3 wins
      [-Infinity, -Infinity, -Infinity, -Infinity], // no winner
      [NaN, 1, NaN, 5],
      [NaN, NaN, NaN, NaN], // no winner
      [-Infinity, NaN, 0, -0], // +0 wins; −0 is not greater
    ];
    const c: PoolCase = { shape: [1, 2, 2, 5], filter: 2, stride: 2, pad: 'valid' };
    const x = Float32Array.from({ length: 20 }, (_, k) => taps[k % 5]![Math.floor(k / 5)]!);
    const dy = new Float32Array([10, 20, 30, 40, 50]);
    const dx = await maxPoolGrad(c, x, dy);
    expect(Array.from(dx)).toEqual([0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 30, 0, 0]);
    expect(bits(dx)).toEqual(bits(reference(c, x, dy)));
  });
});

/** The first element of an NHWC output, as a [1] tensor. */
function corner(t: tf.Tensor): tf.Tensor {
  return tf.reshape(tf.slice(t, [0, 0, 0, 0], [1, 1, 1, 1]), [1]);
}
