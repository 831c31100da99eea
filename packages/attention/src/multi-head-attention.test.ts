import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { CheckpointError, ConfigError, DataError, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { expectModuleParity, expectParity, fixture } from '../test/helpers.js';
import { causalMask } from './masks.js';
import { MultiHeadAttention } from './multi-head-attention.js';

describe('MultiHeadAttention parameters', () => {
  beforeAll(() => onBackend('cpu'));
  test('packed q/k/v: names and shapes of torch.nn.MultiheadAttention', () => {
    const m = new MultiHeadAttention({ dim: 8, heads: 2 });
    expect(m.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([
      ['in_proj_weight', [24, 8]],
      ['in_proj_bias', [24]],
      ['out_proj.weight', [8, 8]],
      ['out_proj.bias', [8]],
    ]);
    m.dispose();
  });

  test('kdim/vdim ≠ dim: separate q/k/v weights', () => {
    const m = new MultiHeadAttention({ dim: 8, heads: 2, kdim: 6, vdim: 4, bias: false });
    expect(m.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([
      ['q_proj_weight', [8, 8]],
      ['k_proj_weight', [8, 6]],
      ['v_proj_weight', [8, 4]],
      ['out_proj.weight', [8, 8]],
    ]);
    m.dispose();
  });

  test('PyTorch init: Xavier-uniform in_proj_weight, zero biases, same seed → same weights', async () => {
    const a = new MultiHeadAttention({ dim: 16, heads: 4, seed: 3 });
    const b = new MultiHeadAttention({ dim: 16, heads: 4, seed: 3 });
    const bound = Math.sqrt(6 / (16 + 48));
    const w = await a.inProjWeight?.data();
    expect(Math.max(...Array.from(w ?? [], Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w ?? [], Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Array.from(await (a.inProjBias as tf.Tensor).data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await (a.outProj.bias as tf.Tensor).data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await (b.inProjWeight as tf.Tensor).data())).toEqual(Array.from(w ?? []));
    a.dispose();
    b.dispose();
  });

  test('a state dict with PyTorch names loads; a wrong name is rejected', () => {
    const m = new MultiHeadAttention({ dim: 4, heads: 2 });
    const sd = {
      in_proj_weight: tf.ones([12, 4]),
      in_proj_bias: tf.zeros([12]),
      'out_proj.weight': tf.eye(4),
      'out_proj.bias': tf.zeros([4]),
    };
    m.loadStateDict(sd);
    expect(m.inProjWeight?.dataSync()[0]).toBe(1);
    expect(() => m.loadStateDict({ ...sd, q_proj_weight: tf.zeros([4, 4]) })).toThrow(CheckpointError);
    tf.dispose(Object.values(sd));
    m.dispose();
  });
});

describe('MultiHeadAttention errors', () => {
  beforeAll(() => onBackend('cpu'));
  test('dim not divisible by heads → ConfigError', () => {
    expect(() => new MultiHeadAttention({ dim: 10, heads: 3 })).toThrow(ConfigError);
    expect(() => new MultiHeadAttention({ dim: 10, heads: 3 })).toThrow(
      'MultiHeadAttention: dim (10) must be divisible by heads (3)',
    );
  });

  test('bad sizes and dropout → ConfigError', () => {
    expect(() => new MultiHeadAttention({ dim: 8, heads: 0 })).toThrow(
      'MultiHeadAttention: heads must be a positive integer, got 0',
    );
    expect(() => new MultiHeadAttention({ dim: 8, heads: 2, kdim: 2.5 })).toThrow(
      'MultiHeadAttention: kdim must be a positive integer, got 2.5',
    );
    expect(() => new MultiHeadAttention({ dim: 8, heads: 2, dropout: 1 })).toThrow(ConfigError);
  });

  describe('inputs', () => {
    let m: MultiHeadAttention;
    let q: tf.Tensor;
    beforeAll(() => {
      m = new MultiHeadAttention({ dim: 8, heads: 2, kdim: 6 });
      q = tf.zeros([2, 3, 8]);
    });
    test('query width', () => {
      expect(() => m.forward(tf.zeros([2, 3, 6]), tf.zeros([2, 4, 6]), tf.zeros([2, 4, 8]))).toThrow(
        ShapeError,
      );
      expect(() => m.forward(tf.zeros([2, 3, 6]), tf.zeros([2, 4, 6]), tf.zeros([2, 4, 8]))).toThrow(
        'MultiHeadAttention: query must be [B, T, dim] with dim = 8, got [2, 3, 6]',
      );
    });
    test('key width (kdim) and rank', () => {
      expect(() => m.forward(q, tf.zeros([2, 4, 8]), tf.zeros([2, 4, 8]))).toThrow(
        'MultiHeadAttention: key must be [B, T, kdim] with kdim = 6, got [2, 4, 8]',
      );
      expect(() => m.forward(q, tf.zeros([4, 6]), tf.zeros([2, 4, 8]))).toThrow(
        'key must be [B, T, kdim] with kdim = 6, got [4, 6]',
      );
    });
    test('mismatched batch', () => {
      expect(() => m.forward(q, tf.zeros([3, 4, 6]), tf.zeros([3, 4, 8]))).toThrow(
        'MultiHeadAttention: query, key and value must have the same batch size, got query [2, 3, 8], key [3, 4, 6], value [3, 4, 8]',
      );
    });
    test('key and value of different lengths', () => {
      expect(() => m.forward(q, tf.zeros([2, 4, 6]), tf.zeros([2, 5, 8]))).toThrow(
        'MultiHeadAttention: key and value must have the same length Tk',
      );
    });
    test('mask of the wrong shape names both shapes', () => {
      const kpm = tf.zeros([2, 4], 'bool');
      expect(() =>
        m.forward(q, tf.zeros([2, 4, 6]), tf.zeros([2, 4, 8]), { mask: tf.zeros([4, 4], 'bool') }),
      ).toThrow(ShapeError);
      expect(() =>
        m.forward(q, tf.zeros([2, 4, 6]), tf.zeros([2, 4, 8]), {
          mask: tf.zeros([4, 4], 'bool'),
          keyPaddingMask: kpm,
        }),
      ).toThrow(
        'MultiHeadAttention: mask of shape [4, 4] cannot be broadcast to [B, H, Tq, Tk] = [2, 2, 3, 4]',
      );
      expect(() =>
        m.forward(q, tf.zeros([2, 4, 6]), tf.zeros([2, 4, 8]), { mask: tf.zeros([3, 3, 4], 'bool') }),
      ).toThrow(
        'MultiHeadAttention: mask of shape [3, 3, 4] cannot be broadcast to [B, H, Tq, Tk] = [2, 2, 3, 4]',
      );
    });
    test('keyPaddingMask must be [B, Tk]', () => {
      expect(() =>
        m.forward(q, tf.zeros([2, 4, 6]), tf.zeros([2, 4, 8]), { keyPaddingMask: tf.zeros([2, 3], 'bool') }),
      ).toThrow('MultiHeadAttention: keyPaddingMask must be [B, Tk] = [2, 4], got [2, 3]');
    });
    test('mask dtype', () => {
      expect(() =>
        m.forward(q, tf.zeros([2, 4, 6]), tf.zeros([2, 4, 8]), { mask: tf.zeros([3, 4], 'int32') }),
      ).toThrow(DataError);
      expect(() =>
        m.forward(q, tf.zeros([2, 4, 6]), tf.zeros([2, 4, 8]), { mask: tf.zeros([3, 4], 'int32') }),
      ).toThrow(
        'MultiHeadAttention: mask must be a bool (true = blocked) or float32 (additive) tensor, got dtype int32',
      );
    });
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`MultiHeadAttention on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('self-attention with key padding + causal bool masks equals PyTorch (output, weights, gradients)', async () => {
      const f = await fixture('mha-self-masked');
      const m = new MultiHeadAttention({ dim: 8, heads: 2 });
      const options = { mask: f.get('mask.attn'), keyPaddingMask: f.get('mask.key_padding') };
      expectModuleParity('mha-self-masked', f, m, ['x'], ({ x }) => m.forward(x as tf.Tensor, x, x, options));
      const { output, weights } = m.forward(f.get('in.x'), undefined, undefined, {
        ...options,
        returnWeights: true,
      });
      expectParity('mha-self-masked weights', weights, f.get('weights'));
      tf.dispose([output, weights]);
      m.dispose();
      f.dispose();
    });

    test('additive float mask with −∞ equals PyTorch', async () => {
      const f = await fixture('mha-self-float-mask');
      const m = new MultiHeadAttention({ dim: 8, heads: 2 });
      expectModuleParity('mha-self-float-mask', f, m, ['x'], ({ x }) =>
        m.forward(x as tf.Tensor, x, x, { mask: f.get('mask.attn') }),
      );
      m.dispose();
      f.dispose();
    });

    test('no bias, no mask equals PyTorch', async () => {
      const f = await fixture('mha-self-nobias');
      const m = new MultiHeadAttention({ dim: 8, heads: 2, bias: false });
      expectModuleParity('mha-self-nobias', f, m, ['x'], ({ x }) => m.forward(x as tf.Tensor));
      m.dispose();
      f.dispose();
    });

    test('cross-attention with kdim = 6, vdim = 4 equals PyTorch', async () => {
      const f = await fixture('mha-cross');
      const m = new MultiHeadAttention({ dim: 8, heads: 2, kdim: 6, vdim: 4 });
      const keyPaddingMask = f.get('mask.key_padding');
      expectModuleParity('mha-cross', f, m, ['query', 'key', 'value'], ({ query, key, value }) =>
        m.forward(query as tf.Tensor, key, value, { keyPaddingMask }),
      );
      const { output, weights } = m.forward(f.get('in.query'), f.get('in.key'), f.get('in.value'), {
        keyPaddingMask,
        returnWeights: true,
      });
      expectParity('mha-cross weights', weights, f.get('weights'));
      tf.dispose([output, weights]);
      m.dispose();
      f.dispose();
    });

    test('a batch element whose keys are all padding gets zeros, with finite gradients', async () => {
      const m = new MultiHeadAttention({ dim: 8, heads: 2, seed: 1 });
      const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 7);
      const kpm = tf.tensor2d([
        [false, false, true],
        [true, true, true],
      ]);
      const { value, grads } = tf.variableGrads(() =>
        tf.sum<tf.Scalar>(tf.square(m.forward(x, x, x, { keyPaddingMask: kpm }))),
      );
      const out = m.forward(x, x, x, { keyPaddingMask: kpm, returnWeights: true });
      const bias = await (m.outProj.bias as tf.Tensor).array();
      const second = (await out.output.array()) as number[][][];
      // With every key blocked the attention context is 0, so the output is out_proj's bias.
      for (const row of second[1] as number[][])
        row.forEach((v, i) => expect(v).toBeCloseTo((bias as number[])[i] as number, 6));
      expect(Array.from(await out.weights.data()).every(Number.isFinite)).toBe(true);
      expect((await tf.sum(tf.slice(out.weights, [1], [1])).data())[0]).toBe(0);
      for (const g of Object.values(grads))
        expect(Array.from(await g.data()).every(Number.isFinite)).toBe(true);
      tf.dispose([value, ...Object.values(grads), out.output, out.weights, x, kpm]);
      m.dispose();
    });

    test('dropout on the weights acts in training mode only', async () => {
      const m = new MultiHeadAttention({ dim: 8, heads: 2, dropout: 0.5, seed: 2 });
      const x = tf.randomNormal([2, 6, 8], 0, 1, 'float32', 3);
      m.eval();
      const a = m.forward(x, x, x, { returnWeights: true });
      const b = m.forward(x, x, x, { returnWeights: true });
      expect(await a.output.array()).toEqual(await b.output.array());
      m.train();
      const c = m.forward(x, x, x, { returnWeights: true });
      const w = await c.weights.data();
      const zeros = Array.from(w).filter((v) => v === 0).length;
      expect(zeros).toBeGreaterThan(w.length * 0.3);
      expect(zeros).toBeLessThan(w.length * 0.7);
      tf.dispose([a.output, a.weights, b.output, b.weights, c.output, c.weights, x]);
      m.dispose();
    });

    test('no tensor leaks on forward and on a training step', async () => {
      const m = new MultiHeadAttention({ dim: 8, heads: 2, kdim: 6, vdim: 4, dropout: 0.1 });
      const q = tf.randomNormal([2, 3, 8]);
      const kv = [tf.randomNormal([2, 4, 6]), tf.randomNormal([2, 4, 4])] as const;
      const mask = causalMask(4);
      const kpm = tf.tensor2d([
        [false, false, false, true],
        [false, true, true, true],
      ]);
      const sliced = tf.slice(mask, [0, 0, 1, 0], [1, 1, 3, 4]);
      await expectNoTensorLeak(() => {
        const r = m.forward(q, kv[0], kv[1], { mask: sliced, keyPaddingMask: kpm, returnWeights: true });
        tf.dispose([r.output, r.weights]);
      });
      await expectNoTensorLeak(() => {
        const { value, grads } = tf.variableGrads(() =>
          tf.mean<tf.Scalar>(m.forward(q, kv[0], kv[1], { mask: sliced, keyPaddingMask: kpm })),
        );
        tf.dispose([value, ...Object.values(grads)]);
      });
      tf.dispose([q, ...kv, mask, kpm, sliced]);
      m.dispose();
    });
  });
}
