import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, Rng, ShapeError, init } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from '@ml/core/testing';

import { expectParity, fixture } from '../test/helpers.js';
import { scaledDotProductAttention } from './scaled-dot-product-attention.js';

describe('scaledDotProductAttention errors', () => {
  beforeAll(() => onBackend('cpu'));
  const z = (...shape: number[]) => tf.zeros(shape);

  test('q, k, v must be rank 4', () => {
    expect(() => scaledDotProductAttention(z(2, 3, 4), z(2, 1, 3, 4), z(2, 1, 3, 4))).toThrow(ShapeError);
    expect(() => scaledDotProductAttention(z(2, 3, 4), z(2, 1, 3, 4), z(2, 1, 3, 4))).toThrow(
      'scaledDotProductAttention: q, k and v must be rank 4 [B, H, T, d], got q [2, 3, 4], k [2, 1, 3, 4], v [2, 1, 3, 4]',
    );
  });

  test('mismatched batch, heads, depth or length', () => {
    expect(() => scaledDotProductAttention(z(2, 1, 3, 4), z(3, 1, 3, 4), z(3, 1, 3, 4))).toThrow(
      'must have the same batch size B, got q [2, 1, 3, 4], k [3, 1, 3, 4], v [3, 1, 3, 4]',
    );
    expect(() => scaledDotProductAttention(z(2, 2, 3, 4), z(2, 1, 3, 4), z(2, 1, 3, 4))).toThrow(
      'must have the same number of heads H',
    );
    expect(() => scaledDotProductAttention(z(2, 1, 3, 4), z(2, 1, 3, 5), z(2, 1, 3, 4))).toThrow(
      'q and k must have the same depth d, got q [2, 1, 3, 4], k [2, 1, 3, 5]',
    );
    expect(() => scaledDotProductAttention(z(2, 1, 3, 4), z(2, 1, 3, 4), z(2, 1, 6, 4))).toThrow(
      'k and v must have the same length Tk',
    );
  });

  test('a mask of the wrong shape → ShapeError naming both shapes', () => {
    const mask = tf.zeros([2, 1, 3, 5], 'bool');
    expect(() => scaledDotProductAttention(z(2, 1, 3, 4), z(2, 1, 6, 4), z(2, 1, 6, 4), { mask })).toThrow(
      ShapeError,
    );
    expect(() => scaledDotProductAttention(z(2, 1, 3, 4), z(2, 1, 6, 4), z(2, 1, 6, 4), { mask })).toThrow(
      'scaledDotProductAttention: mask of shape [2, 1, 3, 5] cannot be broadcast to [B, H, Tq, Tk] = [2, 1, 3, 6]',
    );
  });

  test('dropout needs an rng and a probability in [0, 1)', () => {
    const q = z(1, 1, 2, 2);
    expect(() => scaledDotProductAttention(q, q, q, { dropout: 0.1 })).toThrow(ConfigError);
    expect(() => scaledDotProductAttention(q, q, q, { dropout: 0.1 })).toThrow(
      'scaledDotProductAttention: dropout 0.1 needs an rng',
    );
    expect(() => scaledDotProductAttention(q, q, q, { dropout: 1.5, rng: new Rng(0) })).toThrow(
      'scaledDotProductAttention: dropout must be in [0, 1), got 1.5',
    );
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`scaledDotProductAttention on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('a hand-checkable example: softmax(q·kᵀ/√d)·v, not softmax(q·kᵀ/√d·v)', async () => {
      // d = 4, so scores are q·k / 2. Query 0 matches key 0 with score 2·2/2 = 2, key 1 with 0.
      const q = tf.tensor4d([
        [
          [
            [2, 0, 0, 0],
            [0, 0, 0, 0],
          ],
        ],
      ]);
      const k = tf.tensor4d([
        [
          [
            [2, 0, 0, 0],
            [0, 2, 0, 0],
          ],
        ],
      ]);
      const v = tf.tensor4d([
        [
          [
            [1, 10],
            [3, 30],
          ],
        ],
      ]);
      const { output, weights } = scaledDotProductAttention(q, k, v, { returnWeights: true });
      const w0 = Math.exp(2) / (Math.exp(2) + 1);
      expectTensorsClose((await weights.data()) as Float32Array, [w0, 1 - w0, 0.5, 0.5], 1e-6);
      expectTensorsClose(
        (await output.data()) as Float32Array,
        [w0 * 1 + (1 - w0) * 3, w0 * 10 + (1 - w0) * 30, 2, 20],
        1e-5,
      );
      expect(output.shape).toEqual([1, 1, 2, 2]);
      tf.dispose([q, k, v, output, weights]);
    });

    test('equals the float64 PyTorch reference (output, weights, gradients of q, k, v)', async () => {
      const f = await fixture('sdpa');
      const mask = f.get('mask');
      const [q, k, v] = ['q', 'k', 'v'].map((n) => f.get(`in.${n}`)) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const { output, weights } = scaledDotProductAttention(q, k, v, { mask, returnWeights: true });
      expectParity('sdpa out', output, f.get('out'));
      expectParity('sdpa weights', weights, f.get('weights'));
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(scaledDotProductAttention(a, b, c, { mask }), f.get('dy'))),
      );
      const [gq, gk, gv] = grads([q, k, v]);
      expectParity('sdpa grad.in.q', gq as tf.Tensor, f.get('grad.in.q'));
      expectParity('sdpa grad.in.k', gk as tf.Tensor, f.get('grad.in.k'));
      expectParity('sdpa grad.in.v', gv as tf.Tensor, f.get('grad.in.v'));
      tf.dispose([output, weights, gq, gk, gv]);
      f.dispose();
    });

    test('bool masks and additive −∞ masks agree; custom scale applies', () => {
      const rng = new Rng(5);
      const [q, k, v] = [
        init.normal(rng, [2, 2, 3, 4]),
        init.normal(rng, [2, 2, 5, 4]),
        init.normal(rng, [2, 2, 5, 3]),
      ];
      const bool = tf.tensor2d([
        [false, true, false, false, true],
        [false, false, false, false, false],
        [true, true, false, true, true],
      ]);
      const additive = tf.where(bool, tf.scalar(-Infinity), tf.scalar(0));
      const a = scaledDotProductAttention(q, k, v, { mask: bool, scale: 0.3 });
      const b = scaledDotProductAttention(q, k, v, { mask: additive, scale: 0.3 });
      const ref = tf.tidy(() =>
        tf.matMul(
          tf.softmax(
            tf.add(tf.mul(tf.matMul(q, k, false, true), 0.3), tf.where(bool, tf.scalar(-1e30), tf.scalar(0))),
          ),
          v,
        ),
      );
      expectTensorsClose(a, b, 1e-6);
      expectTensorsClose(a, ref, 1e-5);
      tf.dispose([q, k, v, bool, additive, a, b, ref]);
    });

    test('fully masked rows give zeros, not NaN, in the output and the gradients', async () => {
      const rng = new Rng(6);
      const [q, k, v] = [
        init.normal(rng, [1, 2, 3, 4]),
        init.normal(rng, [1, 2, 4, 4]),
        init.normal(rng, [1, 2, 4, 4]),
      ];
      // Query 1 sees no key at all.
      const mask = tf.tensor2d([
        [false, true, true, true],
        [true, true, true, true],
        [false, false, true, false],
      ]);
      const { output, weights } = scaledDotProductAttention(q, k, v, { mask, returnWeights: true });
      const out = (await output.array()) as number[][][][];
      const w = await weights.array();
      for (let h = 0; h < 2; h++) {
        expect(out[0]?.[h]?.[1]).toEqual([0, 0, 0, 0]);
        expect(w[0]?.[h]?.[1]).toEqual([0, 0, 0, 0]);
        expect((w[0]?.[h]?.[0] ?? [])[0]).toBeCloseTo(1, 6);
      }
      const [gq, gk, gv] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.square(scaledDotProductAttention(a, b, c, { mask }))),
      )([q, k, v]);
      for (const g of [gq, gk, gv])
        expect(Array.from(await (g as tf.Tensor).data()).every(Number.isFinite)).toBe(true);
      const gqRow = (await (gq as tf.Tensor).array()) as number[][][][];
      expect(gqRow[0]?.[0]?.[1]).toEqual([0, 0, 0, 0]);
      const additive = tf.where(mask, tf.scalar(-Infinity), tf.scalar(0));
      const viaAdditive = scaledDotProductAttention(q, k, v, { mask: additive });
      expectTensorsClose(viaAdditive, output, 1e-6);
      tf.dispose([q, k, v, mask, output, weights, gq, gk, gv, additive, viaAdditive]);
    });

    test('dropout zeroes weights and rescales the rest; the same seed repeats', async () => {
      const rng = new Rng(7);
      const [q, k, v] = [
        init.normal(rng, [2, 2, 8, 4]),
        init.normal(rng, [2, 2, 8, 4]),
        init.normal(rng, [2, 2, 8, 4]),
      ];
      const plain = scaledDotProductAttention(q, k, v, { returnWeights: true });
      const a = scaledDotProductAttention(q, k, v, { dropout: 0.5, rng: new Rng(1), returnWeights: true });
      const b = scaledDotProductAttention(q, k, v, { dropout: 0.5, rng: new Rng(1), returnWeights: true });
      const wa = await a.weights.data();
      const wp = await plain.weights.data();
      const kept = Array.from(wa)
        .map((x, i) => [x, wp[i] as number])
        .filter(([x]) => x !== 0);
      expect(kept.length).toBeGreaterThan(wa.length * 0.3);
      expect(kept.length).toBeLessThan(wa.length * 0.7);
      for (const [x, p] of kept) expect(x).toBeCloseTo(2 * (p as number), 5);
      expect(await a.output.array()).toEqual(await b.output.array());
      tf.dispose([q, k, v, plain.output, plain.weights, a.output, a.weights, b.output, b.weights]);
    });

    test('no tensor leaks, forward and gradient', async () => {
      const rng = new Rng(8);
      const [q, k, v] = [
        init.normal(rng, [2, 2, 3, 4]),
        init.normal(rng, [2, 2, 5, 4]),
        init.normal(rng, [2, 2, 5, 4]),
      ];
      const mask = tf.zeros([2, 1, 1, 5], 'bool');
      await expectNoTensorLeak(() => {
        const r = scaledDotProductAttention(q, k, v, { mask, returnWeights: true, dropout: 0.2, rng });
        tf.dispose([r.output, r.weights]);
      });
      await expectNoTensorLeak(() =>
        tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(scaledDotProductAttention(a, k, v, { mask })))([q])),
      );
      tf.dispose([q, k, v, mask]);
    });
  });
}
