import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, ConfigError, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { expectModuleParity, fixture } from '../test/helpers.js';
import { TransformerEncoderLayer } from './transformer-encoder-layer.js';

const VARIANTS = [
  { name: 'encoder-layer-post-relu', normFirst: false, activation: 'relu' },
  { name: 'encoder-layer-post-gelu', normFirst: false, activation: 'gelu' },
  { name: 'encoder-layer-pre-relu', normFirst: true, activation: 'relu' },
  { name: 'encoder-layer-pre-gelu', normFirst: true, activation: 'gelu' },
] as const;

describe('TransformerEncoderLayer', () => {
  beforeAll(() => onBackend('cpu'));

  test('parameter names and shapes match torch.nn.TransformerEncoderLayer', () => {
    const layer = new TransformerEncoderLayer({ dim: 8, heads: 2, dimFeedforward: 16 });
    expect(layer.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([
      ['self_attn.in_proj_weight', [24, 8]],
      ['self_attn.in_proj_bias', [24]],
      ['self_attn.out_proj.weight', [8, 8]],
      ['self_attn.out_proj.bias', [8]],
      ['linear1.weight', [16, 8]],
      ['linear1.bias', [16]],
      ['linear2.weight', [8, 16]],
      ['linear2.bias', [8]],
      ['norm1.weight', [8]],
      ['norm1.bias', [8]],
      ['norm2.weight', [8]],
      ['norm2.bias', [8]],
    ]);
    layer.dispose();
  });

  test('bad options → ConfigError', () => {
    expect(() => new TransformerEncoderLayer({ dim: 10, heads: 4 })).toThrow(ConfigError);
    expect(() => new TransformerEncoderLayer({ dim: 10, heads: 4 })).toThrow(
      'TransformerEncoderLayer: dim (10) must be divisible by heads (4)',
    );
    expect(() => new TransformerEncoderLayer({ dim: 8, heads: 2, dimFeedforward: 0 })).toThrow(
      'TransformerEncoderLayer: dimFeedforward must be a positive integer, got 0',
    );
    expect(() => new TransformerEncoderLayer({ dim: 8, heads: 2, activation: 'tanh' as 'relu' })).toThrow(
      "TransformerEncoderLayer: activation must be 'relu', 'gelu' or a function, got tanh",
    );
    expect(() => new TransformerEncoderLayer({ dim: 8, heads: 2, layerNormEps: 0 })).toThrow(
      'TransformerEncoderLayer: layerNormEps must be > 0, got 0',
    );
  });

  test('src of the wrong shape → ShapeError', () => {
    const layer = new TransformerEncoderLayer({ dim: 8, heads: 2, dimFeedforward: 16 });
    const x = tf.zeros([2, 5, 6]);
    expect(() => layer.forward(x)).toThrow(ShapeError);
    expect(() => layer.forward(x)).toThrow('TransformerEncoderLayer: src must be [B, T, 8], got [2, 5, 6]');
    tf.dispose(x);
    layer.dispose();
  });

  test('a custom activation function is applied', async () => {
    const a = new TransformerEncoderLayer({
      dim: 8,
      heads: 2,
      dimFeedforward: 16,
      dropout: 0,
      seed: 1,
      activation: (x) => tf.mul(x, 0),
    });
    const b = new TransformerEncoderLayer({
      dim: 8,
      heads: 2,
      dimFeedforward: 16,
      dropout: 0,
      seed: 1,
      activation: 'relu',
    });
    const x = tf.randomNormal([1, 3, 8], 0, 1, 'float32', 1);
    const ya = a.forward(x);
    const yb = b.forward(x);
    expect(await tf.any(tf.notEqual(ya, yb)).data()).toEqual(new Uint8Array([1]));
    tf.dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`TransformerEncoderLayer on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const v of VARIANTS) {
      test(`${v.name} equals PyTorch (output and every gradient)`, async () => {
        const f = await fixture(v.name);
        const layer = new TransformerEncoderLayer({
          dim: 8,
          heads: 2,
          dimFeedforward: 16,
          normFirst: v.normFirst,
          activation: v.activation,
        });
        const keyPaddingMask = f.get('mask.key_padding');
        expectModuleParity(v.name, f, layer, ['src'], ({ src }) =>
          layer.forward(src as tf.Tensor, { keyPaddingMask }),
        );
        layer.dispose();
        f.dispose();
      });
    }

    test('returnWeights gives [B, H, T, T] rows that sum to 1', async () => {
      const layer = new TransformerEncoderLayer({ dim: 8, heads: 2, dimFeedforward: 16 }).eval();
      const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 2);
      const plain = layer.forward(x);
      const { output, weights } = layer.forward(x, { returnWeights: true });
      expect(weights.shape).toEqual([2, 2, 5, 5]);
      expect(await output.array()).toEqual(await plain.array());
      const sums = await tf.sum(weights, -1).data();
      for (const s of sums) expect(s).toBeCloseTo(1, 5);
      tf.dispose([x, plain, output, weights]);
      layer.dispose();
    });

    test('no tensor leaks on forward and on a training step', async () => {
      const layer = new TransformerEncoderLayer({
        dim: 8,
        heads: 2,
        dimFeedforward: 16,
        dropout: 0.1,
        normFirst: true,
      });
      const opt = new Adam(layer, { lr: 1e-3 });
      const x = tf.randomNormal([2, 5, 8]);
      const kpm = tf.tensor2d([
        [false, false, false, false, true],
        [false, false, true, true, true],
      ]);
      opt.minimize(() => tf.mean<tf.Scalar>(layer.forward(x, { keyPaddingMask: kpm }))).dispose(); // creates the optimizer state
      await expectNoTensorLeak(() => tf.dispose(layer.forward(x, { keyPaddingMask: kpm })));
      await expectNoTensorLeak(() =>
        opt.minimize(() => tf.mean<tf.Scalar>(layer.forward(x, { keyPaddingMask: kpm }))).dispose(),
      );
      tf.dispose([x, kpm]);
      opt.dispose();
      layer.dispose();
    });
  });
}
