import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { expectModuleParity, fixture } from '../test/helpers.js';
import { causalMask } from './masks.js';
import { TransformerDecoder } from './transformer-decoder.js';

describe('TransformerDecoder', () => {
  beforeAll(() => onBackend('cpu'));

  test('names as torch.nn.TransformerDecoder', () => {
    const dec = new TransformerDecoder({
      dim: 8,
      heads: 2,
      dimFeedforward: 16,
      numLayers: 2,
      finalNorm: true,
    });
    const names = dec.namedParameters().map(([n]) => n);
    expect(names).toContain('layers.1.multihead_attn.in_proj_weight');
    expect(names).toContain('layers.0.norm3.bias');
    expect(names.slice(-2)).toEqual(['norm.weight', 'norm.bias']);
    dec.dispose();
  });

  test('tgt and memory are checked', () => {
    const dec = new TransformerDecoder({ dim: 8, heads: 2, dimFeedforward: 16, numLayers: 1 });
    const tgt = tf.zeros([2, 3, 8]);
    const memory = tf.zeros([2, 4, 7]);
    expect(() => dec.forward(tgt, memory)).toThrow(ShapeError);
    expect(() => dec.forward(tgt, memory)).toThrow(
      'TransformerDecoder: memory must be [B, T, 8], got [2, 4, 7]',
    );
    tf.dispose([tgt, memory]);
    dec.dispose();
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`TransformerDecoder on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('a 2-layer post-norm stack with a final norm equals PyTorch', async () => {
      const f = await fixture('decoder-stack');
      const dec = new TransformerDecoder({
        dim: 8,
        heads: 2,
        dimFeedforward: 16,
        numLayers: 2,
        finalNorm: true,
      });
      const options = { tgtMask: f.get('mask.tgt'), memoryKeyPaddingMask: f.get('mask.memory_key_padding') };
      expectModuleParity('decoder-stack', f, dec, ['tgt', 'memory'], ({ tgt, memory }) =>
        dec.forward(tgt as tf.Tensor, memory as tf.Tensor, options),
      );
      dec.dispose();
      f.dispose();
    });

    test('returnWeights gives self and cross weights per layer', async () => {
      const dec = new TransformerDecoder({ dim: 8, heads: 2, dimFeedforward: 16, numLayers: 2 }).eval();
      const tgt = tf.randomNormal([1, 3, 8]);
      const memory = tf.randomNormal([1, 6, 8]);
      const tgtMask = causalMask(3);
      const r = dec.forward(tgt, memory, { tgtMask, returnWeights: true });
      expect(r.selfWeights.map((w) => w.shape)).toEqual([
        [1, 2, 3, 3],
        [1, 2, 3, 3],
      ]);
      expect(r.crossWeights.map((w) => w.shape)).toEqual([
        [1, 2, 3, 6],
        [1, 2, 3, 6],
      ]);
      const plain = dec.forward(tgt, memory, { tgtMask });
      expect(await plain.array()).toEqual(await r.output.array());
      tf.dispose([tgt, memory, tgtMask, plain, r.output, ...r.selfWeights, ...r.crossWeights]);
      dec.dispose();
    });

    test('no tensor leaks on forward and on a training step', async () => {
      const dec = new TransformerDecoder({
        dim: 8,
        heads: 2,
        dimFeedforward: 16,
        numLayers: 2,
        finalNorm: true,
        normFirst: true,
      });
      const opt = new Adam(dec, { lr: 1e-3 });
      const tgt = tf.randomNormal([2, 3, 8]);
      const memory = tf.randomNormal([2, 4, 8]);
      const tgtMask = causalMask(3);
      const memoryKeyPaddingMask = tf.tensor2d([
        [false, false, false, true],
        [false, false, false, false],
      ]);
      const options = { tgtMask, memoryKeyPaddingMask };
      const step = () => opt.minimize(() => tf.mean<tf.Scalar>(dec.forward(tgt, memory, options))).dispose();
      step();
      await expectNoTensorLeak(() => tf.dispose(dec.forward(tgt, memory, options)));
      await expectNoTensorLeak(step);
      tf.dispose([tgt, memory, tgtMask, memoryKeyPaddingMask]);
      opt.dispose();
      dec.dispose();
    });
  });
}
