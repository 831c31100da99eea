import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, ShapeError } from '@ml/core';
import { expectNoTensorLeak, expectTensorsClose, expectThrows, onBackend } from '@ml/core/testing';

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

  test('without biases: output and every gradient equal autodiff through a stepped GRUCell', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 4, bias: false, seed: 4 });
    const cell = new GRUCell({ inputSize: 2, hiddenSize: 4, bias: false, seed: 5 });
    const sd = gru.stateDict();
    cell.loadStateDict({
      weight_ih: sd['weight_ih_l0'] as tf.Tensor,
      weight_hh: sd['weight_hh_l0'] as tf.Tensor,
    });
    const x = tf.randomNormal([3, 5, 2], 0, 1, 'float32', 6);
    const h0 = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 7);
    const w = tf.randomNormal([3, 5, 4], 0, 1, 'float32', 8);
    const layerLoss = (xi: tf.Tensor, hi: tf.Tensor) => tf.sum(tf.mul(gru.forward(xi, { h0: hi }).output, w));
    const cellLoss = (xi: tf.Tensor, hi: tf.Tensor) => {
      let state = tf.reshape<tf.Rank.R2>(hi, [3, 4]);
      const outs: tf.Tensor[] = [];
      for (let t = 0; t < 5; t++)
        outs.push((state = cell.forward(tf.reshape(tf.slice(xi, [0, t, 0], [3, 1, 2]), [3, 2]), state)));
      return tf.sum(tf.mul(tf.stack(outs, 1), w));
    };
    const cellWeights = gru.cells[0]![0]!;
    const a = [
      ...tf.grads(layerLoss)([x, h0]),
      ...Object.values(
        tf.variableGrads(() => layerLoss(x, h0) as tf.Scalar, [cellWeights.wih, cellWeights.whh]).grads,
      ),
    ];
    const b = [
      ...tf.grads(cellLoss)([x, h0]),
      ...Object.values(
        tf.variableGrads(() => cellLoss(x, h0) as tf.Scalar, [cell.weightIh, cell.weightHh]).grads,
      ),
    ];
    expect(a).toHaveLength(4);
    a.forEach((g, i) => expectTensorsClose(g, b[i]!, { atol: 1e-5, label: ['x', 'h0', 'W_ih', 'W_hh'][i] }));
    tf.dispose([x, h0, w, ...a, ...b]);
    gru.dispose();
    cell.dispose();
  });

  test('numTensors stays flat over 200 training steps (bidirectional, with lengths)', async () => {
    const gru = new GRU({ inputSize: 1, hiddenSize: 2, bidirectional: true, seed: 8 });
    const opt = new Adam(gru, { lr: 1e-2 });
    const x = tf.randomNormal([2, 3, 1], 0, 1, 'float32', 9);
    const y = tf.zeros([2, 2, 2]);
    const step = () =>
      tf.dispose(
        opt.minimize(() =>
          tf.mean<tf.Scalar>(tf.squaredDifference(gru.forward(x, { lengths: [3, 2] }).h, y)),
        ),
      );
    step(); // the optimizer creates its moment buffers on the first step
    await expectNoTensorLeak(() => {
      for (let i = 0; i < 200; i++) step();
    });
    tf.dispose([x, y]);
    opt.dispose();
    gru.dispose();
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
