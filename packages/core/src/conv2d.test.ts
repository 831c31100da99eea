import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectParity, expectThrows, fixture, forwardAndGrads, sgdStep } from '../test/helpers.js';
import { Conv2d } from './conv2d.js';
import { ConfigError, ShapeError } from './errors.js';
import { init } from './init.js';
import { Rng } from './rng.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

const PARITY_CASES = {
  'conv2d-stride2-pad': { inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1 },
  'conv2d-dilation': { inChannels: 2, outChannels: 3, kernelSize: 3, padding: 2, dilation: 2 },
  'conv2d-depthwise': {
    inChannels: 3,
    outChannels: 6,
    kernelSize: [3, 2],
    stride: [1, 2],
    padding: [1, 0],
    groups: 3,
  },
  'conv2d-groups': {
    inChannels: 4,
    outChannels: 6,
    kernelSize: [2, 3],
    padding: 'same',
    groups: 2,
    bias: false,
  },
} as const;

for (const backend of TEST_BACKENDS) {
  describe(`Conv2d on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, options] of Object.entries(PARITY_CASES)) {
      test(`${name} forward matches PyTorch`, async () => {
        const f = await fixture(name);
        const conv = new Conv2d(options);
        conv.loadStateDict(pick(f.tensors, ['weight', 'bias']));
        const out = conv.forward(f.get('x'));
        expectParity(`${name} out`, out, f.get('out'));
        out.dispose();
        conv.dispose();
        f.dispose();
      });

      test(`${name} input and parameter gradients match PyTorch`, async () => {
        const f = await fixture(name);
        const conv = new Conv2d(options);
        conv.loadStateDict(pick(f.tensors, ['weight', 'bias']));
        const { out, grads } = forwardAndGrads(conv, f.get('x'), f.get('dy'), (x) => conv.forward(x));
        expectParity(`${name} grad.input`, grads['input'] as tf.Tensor, f.get('grad.input'));
        expectParity(`${name} grad.weight`, grads['weight'] as tf.Tensor, f.get('grad.weight'));
        if (conv.bias !== null)
          expectParity(`${name} grad.bias`, grads['bias'] as tf.Tensor, f.get('grad.bias'));
        tf.dispose([out, ...Object.values(grads)]);
        conv.dispose();
        f.dispose();
      });
    }

    test('forward and a training step leak no tensors, and the step lowers the loss', async () => {
      const conv = new Conv2d({
        inChannels: 2,
        outChannels: 3,
        kernelSize: 3,
        stride: 2,
        padding: 1,
        seed: 1,
      });
      const x = init.normal(new Rng(2), [2, 6, 6, 2]);
      const target = tf.zeros([2, 3, 3, 3]);
      await expectNoTensorLeak(() => conv.forward(x).dispose());
      const loss = () => tf.mean<tf.Scalar>(tf.square(tf.sub(conv.forward(x), target)));
      const first = await expectNoTensorLeak(() => sgdStep(conv, loss, 0.5));
      const second = sgdStep(conv, loss, 0.5);
      expect(second).toBeLessThan(first * 0.9);
      tf.dispose([x, target]);
      conv.dispose();
    });
  });
}

function pick(tensors: Record<string, tf.Tensor>, keys: string[]): Record<string, tf.Tensor> {
  return Object.fromEntries(keys.filter((k) => k in tensors).map((k) => [k, tensors[k] as tf.Tensor]));
}

describe('Conv2d', () => {
  beforeAll(() => onBackend('cpu'));

  test('computes a hand-checked 2×2 convolution with stride and bias', () => {
    const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 2, stride: 2 });
    conv.loadStateDict({
      weight: tf.tensor4d([
        [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      ]),
      bias: tf.tensor1d([0.5]),
    });
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    // top-left window [[1, 2], [5, 6]] · [[1, 2], [3, 4]] = 1 + 4 + 15 + 24 = 44, +0.5.
    expectTensorsClose(conv.forward(x), tf.tensor4d([44.5, 64.5, 124.5, 144.5], [1, 2, 2, 1]), 1e-5);
  });

  test('output sizes follow PyTorch for padding, stride and dilation', () => {
    const conv = new Conv2d({
      inChannels: 1,
      outChannels: 2,
      kernelSize: [3, 5],
      stride: [2, 1],
      padding: [1, 2],
      dilation: [1, 2],
    });
    expect(conv.outputSize(9, 10)).toEqual([5, 6]);
    expect(conv.forward(tf.zeros([1, 9, 10, 1])).shape).toEqual([1, 5, 6, 2]);
    const same = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 4, padding: 'same' });
    expect(same.padding).toEqual([1, 2, 1, 2]);
    expect(same.forward(tf.zeros([1, 5, 7, 1])).shape).toEqual([1, 5, 7, 1]);
  });

  test('stores the weight in PyTorch layout with PyTorch default init bounds', () => {
    const conv = new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, groups: 2 });
    expect(conv.weight.shape).toEqual([8, 2, 3, 3]);
    expect(conv.bias?.shape).toEqual([8]);
    const bound = 1 / Math.sqrt(2 * 3 * 3);
    const w = conv.weight.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound * 0.8);
    expect(Math.max(...(conv.bias as tf.Variable).dataSync().map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 1, bias: false }).bias).toBeNull();
  });

  test('the same seed gives the same weights; another seed does not', () => {
    const a = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, seed: 7 });
    const b = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, seed: 7 });
    const c = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, seed: 8 });
    expect(a.weight.dataSync()).toEqual(b.weight.dataSync());
    expect(a.bias?.dataSync()).toEqual(b.bias?.dataSync());
    expect(a.weight.dataSync()).not.toEqual(c.weight.dataSync());
  });

  test('rejects inputs of the wrong shape, with a hint for NCHW', () => {
    const conv = new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3 });
    expectThrows(
      () => conv.forward(tf.zeros([8, 8, 3])),
      ShapeError,
      'Conv2d: input must be [N, H, W, 3] (NHWC), got [8, 8, 3]',
    );
    expectThrows(
      () => conv.forward(tf.zeros([2, 3, 8, 8])),
      ShapeError,
      'Conv2d: input must be [N, H, W, 3] (NHWC), got [2, 3, 8, 8] (this looks like NCHW; convert it with toNHWC)',
    );
    expectThrows(
      () => conv.forward(tf.zeros([1, 2, 8, 3])),
      ShapeError,
      'Conv2d: input of spatial size [2, 8] with padding [0, 0, 0, 0] is smaller than the kernel [3, 3] at dilation [1, 1]',
    );
  });

  test('rejects invalid options with ConfigErrors that name them', () => {
    const base = { inChannels: 4, outChannels: 4, kernelSize: 3 };
    expectThrows(
      () => new Conv2d({ ...base, inChannels: 0 }),
      ConfigError,
      'Conv2d: inChannels must be a positive integer, got 0',
    );
    expectThrows(
      () => new Conv2d({ ...base, outChannels: 2.5 }),
      ConfigError,
      'Conv2d: outChannels must be a positive integer, got 2.5',
    );
    expectThrows(
      () => new Conv2d({ ...base, kernelSize: 0 }),
      ConfigError,
      'Conv2d: kernelSize must be a positive integer or a pair of them, got 0',
    );
    expectThrows(
      () => new Conv2d({ ...base, stride: [1, -1] }),
      ConfigError,
      'Conv2d: stride must be a positive integer or a pair of them, got [1,-1]',
    );
    expectThrows(
      () => new Conv2d({ ...base, padding: -1 }),
      ConfigError,
      'Conv2d: padding must be a non-negative integer or a pair of them, got -1',
    );
    expectThrows(
      () => new Conv2d({ ...base, padding: 'full' as 'same' }),
      ConfigError,
      "Conv2d: padding must be a number, a pair, 'same' or 'valid', got 'full'",
    );
    expectThrows(
      () => new Conv2d({ ...base, padding: 'same', stride: 2 }),
      ConfigError,
      "Conv2d: padding 'same' needs stride 1 (as in PyTorch), got stride [2, 2]",
    );
    expectThrows(
      () => new Conv2d({ ...base, dilation: 0 }),
      ConfigError,
      'Conv2d: dilation must be a positive integer or a pair of them, got 0',
    );
    expectThrows(
      () => new Conv2d({ ...base, groups: 3 }),
      ConfigError,
      'Conv2d: inChannels (4) and outChannels (4) must both be divisible by groups (3)',
    );
  });
});
