import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from '@ml/core/testing';

import { fixture } from '../test/helpers.js';
import { SinusoidalPositionalEncoding, sinusoidalEncoding } from './sinusoidal-positional-encoding.js';

describe('sinusoidalEncoding', () => {
  beforeAll(() => onBackend('cpu'));

  test('sinusoidalEncoding equals the reference sin/cos table computed in PyTorch (even and odd widths)', async () => {
    const f = await fixture('positional');
    for (const [n, d] of [
      [30, 16],
      [7, 9],
    ] as const) {
      const t = sinusoidalEncoding(n, d);
      expectTensorsClose(t, f.get(`sinusoid.${n}x${d}`), 1e-6);
      t.dispose();
    }
    f.dispose();
  });

  test('hand-checked values: PE[1, 0] = sin 1, PE[1, 1] = cos 1, PE[2, 2] = sin(2/10000^(2/4))', async () => {
    const t = sinusoidalEncoding(3, 4);
    const v = await t.array();
    expect(v[0]).toEqual([0, 1, 0, 1]);
    expect(v[1]?.[0]).toBeCloseTo(Math.sin(1), 6);
    expect(v[1]?.[1]).toBeCloseTo(Math.cos(1), 6);
    expect(v[2]?.[2]).toBeCloseTo(Math.sin(2 / 100), 6);
    const shifted = sinusoidalEncoding(2, 4, 1);
    expect(await shifted.array()).toEqual(v.slice(1));
    tf.dispose([t, shifted]);
  });

  test('bad arguments → ConfigError', () => {
    expect(() => sinusoidalEncoding(0, 4)).toThrow(
      'sinusoidalEncoding: length must be a positive integer, got 0',
    );
    expect(() => sinusoidalEncoding(2, 4, -1)).toThrow(ConfigError);
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`SinusoidalPositionalEncoding on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('SinusoidalPositionalEncoding adds PE by position, not by token content', () => {
      const pe = new SinusoidalPositionalEncoding({ dim: 4, maxLength: 8 });
      expect(pe.namedBuffers().map(([n, v]) => [n, v.shape])).toEqual([['pe', [8, 4]]]);
      // Two sequences with the same token (all-ones embedding) at every step still get distinct rows.
      const x = tf.ones([2, 3, 4]);
      const y = pe.forward(x);
      const table = sinusoidalEncoding(3, 4);
      const expected = tf.add(tf.ones([2, 3, 4]), table);
      expectTensorsClose(y, expected, 1e-6);
      const z = pe.forward(x, { offset: 5 });
      const tail = sinusoidalEncoding(3, 4, 5);
      const expectedTail = tf.add(tf.ones([2, 3, 4]), tail);
      expectTensorsClose(z, expectedTail, 1e-6);
      tf.dispose([x, y, table, expected, z, tail, expectedTail]);
      pe.dispose();
    });

    test('SinusoidalPositionalEncoding checks length and width', () => {
      const pe = new SinusoidalPositionalEncoding({ dim: 4, maxLength: 8 });
      const long = tf.zeros([1, 9, 4]);
      expect(() => pe.forward(long)).toThrow(ShapeError);
      expect(() => pe.forward(long)).toThrow(
        'SinusoidalPositionalEncoding: positions 0…8 of input [1, 9, 4] exceed maxLength 8',
      );
      const x = tf.zeros([1, 4, 4]);
      expect(() => pe.forward(x, { offset: 5 })).toThrow(
        'positions 5…8 of input [1, 4, 4] exceed maxLength 8',
      );
      expect(() => pe.forward(tf.zeros([1, 4, 3]))).toThrow(
        'SinusoidalPositionalEncoding: input must be [B, T, 4], got [1, 4, 3]',
      );
      expect(() => new SinusoidalPositionalEncoding({ dim: 4, maxLength: 0 })).toThrow(ConfigError);
      tf.dispose([long, x]);
      pe.dispose();
    });

    test('no tensor leaks', async () => {
      const pe = new SinusoidalPositionalEncoding({ dim: 4, maxLength: 8, dropout: 0.1 });
      const x = tf.ones([2, 3, 4]);
      await expectNoTensorLeak(() => tf.dispose(pe.forward(x)));
      await expectNoTensorLeak(() => tf.dispose(tf.grad((a: tf.Tensor) => tf.sum(pe.forward(a)))(x)));
      x.dispose();
      pe.dispose();
    });
  });
}
