import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { expectModuleParity, fixture } from '../test/helpers.js';
import { causalMask } from './masks.js';
import { TransformerDecoderLayer } from './transformer-decoder-layer.js';

const VARIANTS = [
  { name: 'decoder-layer-post-relu', normFirst: false, activation: 'relu' },
  { name: 'decoder-layer-post-gelu', normFirst: false, activation: 'gelu' },
  { name: 'decoder-layer-pre-relu', normFirst: true, activation: 'relu' },
  { name: 'decoder-layer-pre-gelu', normFirst: true, activation: 'gelu' },
] as const;

describe('TransformerDecoderLayer', () => {
  beforeAll(() => onBackend('cpu'));

  test('parameter names match torch.nn.TransformerDecoderLayer', () => {
    const layer = new TransformerDecoderLayer({ dim: 8, heads: 2, dimFeedforward: 16 });
    expect(layer.namedParameters().map(([n]) => n)).toEqual([
      'self_attn.in_proj_weight',
      'self_attn.in_proj_bias',
      'self_attn.out_proj.weight',
      'self_attn.out_proj.bias',
      'multihead_attn.in_proj_weight',
      'multihead_attn.in_proj_bias',
      'multihead_attn.out_proj.weight',
      'multihead_attn.out_proj.bias',
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
      'norm1.weight',
      'norm1.bias',
      'norm2.weight',
      'norm2.bias',
      'norm3.weight',
      'norm3.bias',
    ]);
    layer.dispose();
  });

  test('tgt and memory are checked', () => {
    const layer = new TransformerDecoderLayer({ dim: 8, heads: 2, dimFeedforward: 16 });
    const tgt = tf.zeros([2, 4, 8]);
    expect(() => layer.forward(tgt, tf.zeros([2, 5, 4]))).toThrow(ShapeError);
    expect(() => layer.forward(tgt, tf.zeros([2, 5, 4]))).toThrow(
      'TransformerDecoderLayer: memory must be [B, T, 8], got [2, 5, 4]',
    );
    expect(() => layer.forward(tgt, tf.zeros([3, 5, 8]))).toThrow(
      'TransformerDecoderLayer: tgt and memory must have the same batch size, got tgt [2, 4, 8], memory [3, 5, 8]',
    );
    expect(() => layer.forward(tgt, tf.zeros([2, 5, 8]), { tgtMask: causalMask(5) })).toThrow(
      'MultiHeadAttention: mask of shape [1, 1, 5, 5] cannot be broadcast to [B, H, Tq, Tk] = [2, 2, 4, 4]',
    );
    layer.dispose();
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`TransformerDecoderLayer on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const v of VARIANTS) {
      test(`${v.name} equals PyTorch (output and every gradient)`, async () => {
        const f = await fixture(v.name);
        const layer = new TransformerDecoderLayer({
          dim: 8,
          heads: 2,
          dimFeedforward: 16,
          normFirst: v.normFirst,
          activation: v.activation,
        });
        const options = {
          tgtMask: f.get('mask.tgt'),
          tgtKeyPaddingMask: f.get('mask.tgt_key_padding'),
          memoryKeyPaddingMask: f.get('mask.memory_key_padding'),
        };
        expectModuleParity(v.name, f, layer, ['tgt', 'memory'], ({ tgt, memory }) =>
          layer.forward(tgt as tf.Tensor, memory as tf.Tensor, options),
        );
        layer.dispose();
        f.dispose();
      });
    }

    test('returnWeights: self [B, H, Tt, Tt] causal, cross [B, H, Tt, Ts]', async () => {
      const layer = new TransformerDecoderLayer({ dim: 8, heads: 2, dimFeedforward: 16 }).eval();
      const tgt = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 1);
      const memory = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 2);
      const mask = causalMask(3);
      const r = layer.forward(tgt, memory, { tgtMask: mask, returnWeights: true });
      expect(r.selfWeights.shape).toEqual([2, 2, 3, 3]);
      expect(r.crossWeights.shape).toEqual([2, 2, 3, 5]);
      const w = await r.selfWeights.array();
      expect(w[1]?.[0]?.[0]?.slice(1)).toEqual([0, 0]);
      tf.dispose([tgt, memory, mask, r.output, r.selfWeights, r.crossWeights]);
      layer.dispose();
    });

    test('no tensor leaks on forward and on a training step', async () => {
      const layer = new TransformerDecoderLayer({ dim: 8, heads: 2, dimFeedforward: 16, dropout: 0.1 });
      const opt = new Adam(layer, { lr: 1e-3 });
      const tgt = tf.randomNormal([2, 3, 8]);
      const memory = tf.randomNormal([2, 4, 8]);
      const tgtMask = causalMask(3);
      const step = () =>
        opt.minimize(() => tf.mean<tf.Scalar>(layer.forward(tgt, memory, { tgtMask }))).dispose();
      step();
      await expectNoTensorLeak(() => tf.dispose(layer.forward(tgt, memory, { tgtMask })));
      await expectNoTensorLeak(step);
      tf.dispose([tgt, memory, tgtMask]);
      opt.dispose();
      layer.dispose();
    });
  });
}
