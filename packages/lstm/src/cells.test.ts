import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, test } from 'vitest';

import { ShapeError } from '@ml/core';
import { expectTensorsClose, expectThrows, onBackend } from '@ml/core/testing';

import { LSTMCell } from './lstm-cell.js';
import { LSTM } from './lstm.js';

describe('LSTMCell', () => {
  beforeAll(() => onBackend('wasm'));

  test('stepping the cell matches the LSTM layer (the fast hand-written recurrence)', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 2 });
    const sd = lstm.stateDict();
    cell.loadStateDict({
      weight_ih: sd['weight_ih_l0'] as tf.Tensor,
      weight_hh: sd['weight_hh_l0'] as tf.Tensor,
      bias_ih: sd['bias_ih_l0'] as tf.Tensor,
      bias_hh: sd['bias_hh_l0'] as tf.Tensor,
    });
    const x = tf.randomNormal([2, 5, 2], 0, 1, 'float32', 3);
    const r = lstm.forward(x);
    let state: { h: tf.Tensor2D; c: tf.Tensor2D } | undefined;
    const made: tf.Tensor[] = [];
    for (let t = 0; t < 5; t++) {
      const xt = tf.reshape(tf.slice(x, [0, t, 0], [2, 1, 2]), [2, 2]);
      state = cell.forward(xt, state);
      made.push(xt, state.h, state.c);
    }
    const s = state as { h: tf.Tensor2D; c: tf.Tensor2D };
    const h = tf.reshape(r.h, [2, 3]);
    const c = tf.reshape(r.c, [2, 3]);
    expectTensorsClose(s.h, h, { atol: 1e-6 });
    expectTensorsClose(s.c, c, { atol: 1e-6 });
    tf.dispose([x, r.output, r.h, r.c, h, c, ...made]);
    lstm.dispose();
    cell.dispose();
  });

  test('wrong shapes are ShapeErrors naming both shapes', () => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 0 });
    const x = tf.zeros([4, 5]);
    const x2 = tf.zeros([4, 2]);
    const h = tf.zeros([4, 3]);
    const c = tf.zeros([1, 3]);
    expectThrows(
      () => cell.forward(x),
      ShapeError,
      'LSTMCell: input must be [B, inputSize] = [B, 2], got [4, 5]',
    );
    expectThrows(
      () => cell.forward(x2, { h: h as tf.Tensor2D, c: c as tf.Tensor2D }),
      ShapeError,
      'LSTMCell: c must be [B, H] = [4, 3], got [1, 3]',
    );
    tf.dispose([x, x2, h, c]);
    cell.dispose();
  });
});
