import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectThrows } from '../test/helpers.js';
import { Dropout, dropout } from './dropout.js';
import { ConfigError } from './errors.js';
import { Rng } from './rng.js';
import { expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

describe('Dropout', () => {
  beforeAll(() => onBackend('cpu'));

  test('zeroes about p of the elements and scales the rest by 1/(1 − p) in training', () => {
    const y = new Dropout({ p: 0.25, seed: 1 }).forward(tf.ones([100, 100]));
    const v = y.dataSync();
    const zeros = v.filter((a) => a === 0).length;
    expect(zeros / v.length).toBeGreaterThan(0.23);
    expect(zeros / v.length).toBeLessThan(0.27);
    expect(v.every((a) => a === 0 || Math.abs(a - 1 / 0.75) < 1e-6)).toBe(true);
  });

  test('is the identity in eval mode and for p = 0', () => {
    const x = tf.tensor1d([1, 2, 3]);
    expectTensorsClose(new Dropout({ p: 0.9 }).eval().forward(x), x, 0);
    expectTensorsClose(new Dropout({ p: 0 }).forward(x), x, 0);
  });

  test('the same seed gives the same mask; the stream advances between calls', () => {
    const x = tf.ones([50]);
    const a = new Dropout({ seed: 3 });
    const b = new Dropout({ seed: 3 });
    const first = a.forward(x).dataSync();
    expect(first).toEqual(b.forward(x).dataSync());
    expect(a.forward(x).dataSync()).not.toEqual(first);
    expect(dropout(x, 0.5, new Rng(3)).dataSync()).toEqual(first);
  });

  test('passes gradients only through kept elements, scaled', () => {
    const x = tf.ones([20]);
    const d = new Dropout({ p: 0.5, seed: 2 });
    const mask = d.forward(x).dataSync();
    d.rng.setState(new Rng(2).state());
    const g = tf
      .grad((v: tf.Tensor) => tf.sum(d.forward(v)))(x)
      .dataSync();
    expect(Array.from(g)).toEqual(Array.from(mask));
  });

  test('leaks no tensors', async () => {
    const x = tf.ones([4, 4]);
    const d = new Dropout({ p: 0.3 });
    await expectNoTensorLeak(() => d.forward(x).dispose());
    await expectNoTensorLeak(() => d.eval().forward(x).dispose());
    await expectNoTensorLeak(() =>
      tf
        .grad((v: tf.Tensor) => tf.sum(d.train().forward(v)))(x)
        .dispose(),
    );
    x.dispose();
  });

  test('rejects p outside [0, 1)', () => {
    expectThrows(() => new Dropout({ p: 1 }), ConfigError, 'Dropout: p must be in [0, 1), got 1');
    expectThrows(() => new Dropout({ p: -0.1 }), ConfigError, 'Dropout: p must be in [0, 1), got -0.1');
  });
});
