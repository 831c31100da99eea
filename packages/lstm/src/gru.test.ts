import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ShapeError } from '@ml/core';
import { expectTensorsClose, expectThrows, onBackend } from '@ml/core/testing';

import { GRUCell } from './gru-cell.js';
import { GRU } from './gru.js';

describe('GRU', () => {
  beforeAll(() => onBackend('wasm'));

  test('one layer equals stepping a GRUCell with the same weights', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const cell = new GRUCell({ inputSize: 2, hiddenSize: 3, seed: 2 });
    const sd = gru.stateDict();
    cell.loadStateDict({
      weight_ih: sd['weight_ih_l0'] as tf.Tensor,
      weight_hh: sd['weight_hh_l0'] as tf.Tensor,
      bias_ih: sd['bias_ih_l0'] as tf.Tensor,
      bias_hh: sd['bias_hh_l0'] as tf.Tensor,
    });
    const x = tf.randomNormal([2, 4, 2], 0, 1, 'float32', 3);
    const { output, h } = gru.forward(x);
    let state: tf.Tensor2D | undefined;
    const steps: tf.Tensor[] = [];
    for (let t = 0; t < 4; t++) {
      const xt = tf.reshape(tf.slice(x, [0, t, 0], [2, 1, 2]), [2, 2]);
      state = cell.forward(xt, state);
      steps.push(state, xt);
    }
    const stacked = tf.stack(
      steps.filter((_, i) => i % 2 === 0),
      1,
    );
    expectTensorsClose(stacked, output, { atol: 1e-6 });
    expect(h.shape).toEqual([1, 2, 3]);
    tf.dispose([x, output, h, stacked, ...steps]);
    gru.dispose();
    cell.dispose();
  });

  test('wrong shapes are ShapeErrors naming both shapes', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 0 });
    const x = tf.zeros([1, 3, 2]);
    const h0 = tf.zeros([1, 1, 3]);
    expectThrows(
      () => gru.forward(h0),
      ShapeError,
      'GRU: input must be [B, T, inputSize] = [B, T, 2], got [1, 1, 3]',
    );
    expectThrows(
      () => gru.forward(x, { h0 }),
      ShapeError,
      'GRU: h0 must be [numLayers·directions, B, H] = [2, 1, 3], got [1, 1, 3]',
    );
    const cell = new GRUCell({ inputSize: 2, hiddenSize: 3, seed: 0 });
    const x2 = tf.zeros([1, 2]);
    expectThrows(
      () => cell.forward(x2, tf.zeros([2, 3])),
      ShapeError,
      'GRUCell: h must be [B, H] = [1, 3], got [2, 3]',
    );
    tf.dispose([x, h0, x2]);
    gru.dispose();
    cell.dispose();
  });
});
