import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, ConfigError, Embedding, Linear, Rng, ShapeError, crossEntropy } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { expectModuleParity, fixture } from '../test/helpers.js';
import { SinusoidalPositionalEncoding } from './sinusoidal-positional-encoding.js';
import { TransformerEncoder } from './transformer-encoder.js';

describe('TransformerEncoder', () => {
  beforeAll(() => onBackend('cpu'));

  test('names as torch.nn.TransformerEncoder: layers.N.… and an optional norm', () => {
    const enc = new TransformerEncoder({
      dim: 8,
      heads: 2,
      dimFeedforward: 16,
      numLayers: 2,
      finalNorm: true,
    });
    const names = enc.namedParameters().map(([n]) => n);
    expect(names.filter((n) => n.startsWith('layers.1.')).length).toBe(12);
    expect(names.slice(-2)).toEqual(['norm.weight', 'norm.bias']);
    expect(names[0]).toBe('layers.0.self_attn.in_proj_weight');
    const plain = new TransformerEncoder({ dim: 8, heads: 2, dimFeedforward: 16, numLayers: 1 });
    expect(plain.norm).toBeNull();
    expect(plain.namedParameters().some(([n]) => n.startsWith('norm.'))).toBe(false);
    enc.dispose();
    plain.dispose();
  });

  test('layers start from different weights', async () => {
    const enc = new TransformerEncoder({ dim: 8, heads: 2, dimFeedforward: 16, numLayers: 2 });
    const [a, b] = enc.layers.items.map((l) => l.linear1.weight);
    expect(await (a as tf.Tensor).array()).not.toEqual(await (b as tf.Tensor).array());
    enc.dispose();
  });

  test('numLayers and src are checked', () => {
    expect(() => new TransformerEncoder({ dim: 8, heads: 2, numLayers: 0 })).toThrow(ConfigError);
    expect(() => new TransformerEncoder({ dim: 8, heads: 2, numLayers: 0 })).toThrow(
      'TransformerEncoder: numLayers must be a positive integer, got 0',
    );
    const enc = new TransformerEncoder({ dim: 8, heads: 2, dimFeedforward: 16, numLayers: 1 });
    const x = tf.zeros([5, 8]);
    expect(() => enc.forward(x)).toThrow(ShapeError);
    expect(() => enc.forward(x)).toThrow('TransformerEncoder: src must be [B, T, 8], got [5, 8]');
    x.dispose();
    enc.dispose();
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`TransformerEncoder on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('a 2-layer pre-norm stack with a final norm, causal + padding masks, equals PyTorch', async () => {
      const f = await fixture('encoder-stack');
      const enc = new TransformerEncoder({
        dim: 8,
        heads: 2,
        dimFeedforward: 16,
        numLayers: 2,
        normFirst: true,
        finalNorm: true,
      });
      const options = { mask: f.get('mask.src'), keyPaddingMask: f.get('mask.key_padding') };
      expectModuleParity('encoder-stack', f, enc, ['src'], ({ src }) =>
        enc.forward(src as tf.Tensor, options),
      );
      enc.dispose();
      f.dispose();
    });

    test('returnWeights gives one [B, H, T, T] per layer', () => {
      const enc = new TransformerEncoder({ dim: 8, heads: 2, dimFeedforward: 16, numLayers: 3 }).eval();
      const x = tf.randomNormal([2, 4, 8]);
      const r = enc.forward(x, { returnWeights: true });
      expect(r.weights.map((w) => w.shape)).toEqual([
        [2, 2, 4, 4],
        [2, 2, 4, 4],
        [2, 2, 4, 4],
      ]);
      tf.dispose([x, r.output, ...r.weights]);
      enc.dispose();
    });

    test('no tensor leaks on forward and on a training step', async () => {
      const enc = new TransformerEncoder({
        dim: 8,
        heads: 2,
        dimFeedforward: 16,
        numLayers: 2,
        finalNorm: true,
      });
      const opt = new Adam(enc, { lr: 1e-3 });
      const x = tf.randomNormal([2, 4, 8]);
      const step = () => opt.minimize(() => tf.mean<tf.Scalar>(enc.forward(x))).dispose();
      step();
      await expectNoTensorLeak(() => {
        const r = enc.forward(x, { returnWeights: true });
        tf.dispose([r.output, ...r.weights]);
      });
      await expectNoTensorLeak(step);
      tf.dispose(x);
      opt.dispose();
      enc.dispose();
    });
  });
}

describe('TransformerEncoder learns', () => {
  beforeAll(() => onBackend('wasm'));

  test('copy-the-first-token: cross-entropy falls at least 10× in 40 Adam steps (seed 0)', () => {
    // Every position must output the sequence's first token: only attention to position 0 (found
    // through the positional encoding) solves it.
    const V = 6;
    const T = 5;
    const B = 32;
    const rng = new Rng(0);
    const embed = new Embedding({ numEmbeddings: V, embeddingDim: 16, rng });
    const pos = new SinusoidalPositionalEncoding({ dim: 16, maxLength: T });
    const enc = new TransformerEncoder({
      dim: 16,
      heads: 2,
      dimFeedforward: 32,
      numLayers: 1,
      dropout: 0,
      rng,
    });
    const head = new Linear({ inFeatures: 16, outFeatures: V, rng });
    const params = [embed, enc, head].flatMap((m, i) =>
      m.namedParameters().map(([n, v]) => [`${i}.${n}`, v] as [string, tf.Variable]),
    );
    const opt = new Adam(params, { lr: 0.01 });
    const ids = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V)));
    const x = tf.tensor2d(ids, [B, T], 'int32');
    const y = tf.tensor2d(
      ids.map((row) => row.map(() => row[0] as number)),
      [B, T],
      'int32',
    );
    const loss = () => crossEntropy(head.forward(enc.forward(pos.forward(embed.forward(x)))), y);
    const first = tf.tidy(() => loss().dataSync()[0] as number);
    let last = first;
    for (let i = 0; i < 40; i++) {
      const l = opt.minimize(loss);
      last = l.dataSync()[0] as number;
      l.dispose();
    }
    expect(last).toBeLessThan(first / 10);
    tf.dispose([x, y]);
    opt.dispose();
    [embed, pos, enc, head].forEach((m) => m.dispose());
  });
});
