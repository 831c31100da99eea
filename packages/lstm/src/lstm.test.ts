import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, ConfigError, DataError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, expectTensorsClose, expectThrows, onBackend } from '@ml/core/testing';

import { LSTM } from './lstm.js';

describe('LSTM', () => {
  beforeAll(() => onBackend('wasm'));

  test('shapes, PyTorch names and batch-first / time-major layouts agree', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 });
    expect(Object.keys(lstm.stateDict())).toEqual([
      'weight_ih_l0',
      'weight_hh_l0',
      'bias_ih_l0',
      'bias_hh_l0',
      'weight_ih_l0_reverse',
      'weight_hh_l0_reverse',
      'bias_ih_l0_reverse',
      'bias_hh_l0_reverse',
      'weight_ih_l1',
      'weight_hh_l1',
      'bias_ih_l1',
      'bias_hh_l1',
      'weight_ih_l1_reverse',
      'weight_hh_l1_reverse',
      'bias_ih_l1_reverse',
      'bias_hh_l1_reverse',
    ]);
    expect(lstm.stateDict()['weight_ih_l1']?.shape).toEqual([16, 8]);
    const timeMajor = new LSTM({
      inputSize: 3,
      hiddenSize: 4,
      numLayers: 2,
      bidirectional: true,
      batchFirst: false,
      seed: 2,
    });
    timeMajor.loadStateDict(lstm.stateDict());
    const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 3);
    const a = lstm.forward(x);
    const xt = tf.transpose(x, [1, 0, 2]);
    const b = timeMajor.forward(xt);
    expect(a.output.shape).toEqual([2, 5, 8]);
    expect(a.h.shape).toEqual([4, 2, 4]);
    expect(a.c.shape).toEqual([4, 2, 4]);
    const bt = tf.transpose(b.output, [1, 0, 2]);
    expectTensorsClose(bt, a.output, { atol: 1e-6 });
    expectTensorsClose(b.h, a.h, { atol: 1e-6 });
    tf.dispose([x, xt, bt, a.output, a.h, a.c, b.output, b.h, b.c]);
    lstm.dispose();
    timeMajor.dispose();
  });

  test('a padding mask gives the same result as the lengths it encodes; padded outputs are zero', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 4 });
    const x = tf.randomNormal([2, 4, 2], 0, 1, 'float32', 5);
    const mask = tf.tensor2d(
      [
        [0, 0, 1, 1],
        [0, 0, 0, 0],
      ],
      [2, 4],
      'bool',
    );
    const a = lstm.forward(x, { lengths: [2, 4] });
    const b = lstm.forward(x, { paddingMask: mask });
    expectTensorsClose(b.output, a.output, { atol: 0 });
    expectTensorsClose(b.h, a.h, { atol: 0 });
    const padded = tf.slice(a.output, [0, 2, 0], [1, 2, 6]);
    expect(Array.from(padded.dataSync()).every((v) => v === 0)).toBe(true);
    // The final state of the short sequence equals running it alone, unpadded.
    const alone = lstm.forward(tf.slice(x, [0, 0, 0], [1, 2, 2]));
    expectTensorsClose(tf.slice(a.h, [0, 0, 0], [2, 1, 3]), alone.h, { atol: 1e-6 });
    tf.dispose([x, mask, padded, a.output, a.h, a.c, b.output, b.h, b.c, alone.output, alone.h, alone.c]);
    lstm.dispose();
  });

  test('dropout between layers acts only in training mode and follows the seed', () => {
    const make = () => new LSTM({ inputSize: 2, hiddenSize: 8, numLayers: 2, dropout: 0.5, seed: 6 });
    const [m1, m2] = [make(), make()];
    const x = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 7);
    const r1 = m1.forward(x);
    const r2 = m2.forward(x);
    expectTensorsClose(r2.output, r1.output, { atol: 0 }); // same seed, same masks
    m1.eval();
    const e1 = m1.forward(x);
    const e2 = m1.forward(x);
    expectTensorsClose(e2.output, e1.output, { atol: 0 });
    const diff = tf.max(tf.abs(tf.sub(e1.output, r1.output))).dataSync()[0] as number;
    expect(diff).toBeGreaterThan(1e-3);
    tf.dispose([
      x,
      r1.output,
      r1.h,
      r1.c,
      r2.output,
      r2.h,
      r2.c,
      e1.output,
      e1.h,
      e1.c,
      e2.output,
      e2.h,
      e2.c,
    ]);
    m1.dispose();
    m2.dispose();
  });

  test('bad inputs are named errors that say what arrived', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 0 });
    const x = tf.zeros([2, 5, 3]);
    const wrongRank = tf.zeros([2, 3]);
    const wrongFeatures = tf.zeros([2, 5, 7]);
    const wrongState = tf.zeros([1, 2, 4]);
    expectThrows(
      () => lstm.forward(wrongRank),
      ShapeError,
      'LSTM: input must be [B, T, inputSize] = [B, T, 3], got [2, 3]',
    );
    expectThrows(
      () => lstm.forward(wrongFeatures),
      ShapeError,
      'LSTM: input must be [B, T, inputSize] = [B, T, 3], got [2, 5, 7]',
    );
    expectThrows(
      () => lstm.forward(x, { h0: wrongState }),
      ShapeError,
      'LSTM: h0 must be [numLayers·directions, B, H] = [2, 2, 4], got [1, 2, 4]',
    );
    expectThrows(
      () => lstm.forward(x, { c0: wrongState }),
      ShapeError,
      'LSTM: c0 must be [numLayers·directions, B, H] = [2, 2, 4], got [1, 2, 4]',
    );
    expectThrows(
      () => lstm.forward(x, { lengths: [5, 6] }),
      DataError,
      'LSTM: lengths[1] must be an integer in [1, T = 5] (the input has 5 steps), got 6',
    );
    expectThrows(
      () => lstm.forward(x, { lengths: [0, 5] }),
      DataError,
      'LSTM: lengths[0] must be an integer in [1, T = 5] (the input has 5 steps), got 0',
    );
    expectThrows(
      () => lstm.forward(x, { lengths: [5] }),
      ShapeError,
      'LSTM: lengths must have B = 2 entries, got 1',
    );
    expectThrows(
      () => new LSTM({ inputSize: 3, hiddenSize: 0 }),
      ConfigError,
      /LSTM: hiddenSize must be a positive integer/,
    );
    expectThrows(() => new LSTM({ inputSize: 3, hiddenSize: 2, dropout: 1.5 }), ConfigError, /LSTM: dropout/);
    tf.dispose([x, wrongRank, wrongFeatures, wrongState]);
    lstm.dispose();
  });

  test('numTensors stays flat over 1,000 training steps (with lengths)', async () => {
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 2, seed: 8 });
    const opt = new Adam(lstm, { lr: 1e-2 });
    const x = tf.randomNormal([2, 2, 1], 0, 1, 'float32', 9);
    const y = tf.zeros([1, 2, 2]);
    const step = () =>
      tf.dispose(
        opt.minimize(() =>
          tf.mean<tf.Scalar>(tf.squaredDifference(lstm.forward(x, { lengths: [2, 1] }).h, y)),
        ),
      );
    step(); // the optimizer creates its moment buffers on the first step
    await expectNoTensorLeak(() => {
      for (let i = 0; i < 1000; i++) step();
    });
    tf.dispose([x, y]);
    opt.dispose();
    lstm.dispose();
  });
});
