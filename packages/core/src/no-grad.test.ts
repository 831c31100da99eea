import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { noGrad } from './no-grad.js';
import { onBackend } from './testing/index.js';

describe('noGrad', () => {
  beforeAll(() => onBackend('cpu'));

  test('ops inside give constants to a surrounding gradient, and nothing is taped', () => {
    const x = tf.scalar(3);
    let taped = -1;
    // y = x·x + stop(x·x): dy/dx = 2x, not 4x.
    const g = tf.grad((v: tf.Tensor) => {
      const before = tf.engine().state.activeTape.length;
      const constant = noGrad(() => tf.mul(v, v));
      taped = tf.engine().state.activeTape.length - before;
      return tf.add(tf.mul(v, v), constant);
    })(x);
    expect(g.dataSync()[0]).toBe(6);
    expect(taped).toBe(0);
  });

  test('returns what fn returns, restores taping after a throw, and is inert outside gradients', () => {
    expect(noGrad(() => 7)).toBe(7);
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const g = tf.grad((v: tf.Tensor) => tf.mul(v, v))(tf.scalar(2));
    expect(g.dataSync()[0]).toBe(4);
  });
});
