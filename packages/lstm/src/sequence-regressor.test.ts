import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, ConfigError, Rng, crossEntropy, mseLoss } from '@ml/core';
import { expectThrows, onBackend } from '@ml/core/testing';

import { SequenceClassifier } from './sequence-classifier.js';
import { SequenceRegressor } from './sequence-regressor.js';

// A synthetic sequence task: the sum of the last three values of a random sequence of 6.
function sumTask(n: number, seed: number): { x: tf.Tensor3D; y: tf.Tensor2D; labels: tf.Tensor1D } {
  const rng = new Rng(seed);
  const xs = rng.uniformArray(n * 6, -1, 1);
  const ys = new Float32Array(n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ys[i] = (xs[i * 6 + 3] as number) + (xs[i * 6 + 4] as number) + (xs[i * 6 + 5] as number);
    labels[i] = (ys[i] as number) > 0 ? 1 : 0;
  }
  return { x: tf.tensor3d(xs, [n, 6, 1]), y: tf.tensor2d(ys, [n, 1]), labels: tf.tensor1d(labels, 'int32') };
}

describe('SequenceRegressor / SequenceClassifier', () => {
  beforeAll(() => onBackend('wasm'));

  test('a tiny LSTM regressor learns the sum of the last three steps: MSE from > 0.5 to < 0.02 in 150 steps', () => {
    const model = new SequenceRegressor({ inputSize: 1, hiddenSize: 16, seed: 0 });
    const opt = new Adam(model, { lr: 3e-2 });
    const { x, y, labels } = sumTask(64, 1);
    const lossOf = () => tf.tidy(() => mseLoss(model.forward(x), y).dataSync()[0] as number);
    const before = lossOf();
    for (let i = 0; i < 150; i++) tf.dispose(opt.minimize(() => mseLoss(model.forward(x), y)));
    const after = lossOf();
    expect(before).toBeGreaterThan(0.5);
    expect(after).toBeLessThan(0.02);
    const features = model.features(x);
    expect(features.shape).toEqual([64, 16]);
    tf.dispose([x, y, labels, features]);
    opt.dispose();
    model.dispose();
  });

  test('a tiny GRU classifier learns the sign of that sum: cross-entropy falls 20× in 80 steps', () => {
    const model = new SequenceClassifier({
      inputSize: 1,
      hiddenSize: 8,
      numClasses: 2,
      cell: 'gru',
      seed: 0,
    });
    const opt = new Adam(model, { lr: 5e-2 });
    const { x, y, labels } = sumTask(64, 2);
    const lossOf = () => tf.tidy(() => crossEntropy(model.forward(x), labels).dataSync()[0] as number);
    const before = lossOf();
    for (let i = 0; i < 80; i++) tf.dispose(opt.minimize(() => crossEntropy(model.forward(x), labels)));
    const after = lossOf();
    expect(model.featureSize).toBe(8);
    expect(after).toBeLessThan(before / 20);
    tf.dispose([x, y, labels]);
    opt.dispose();
    model.dispose();
  });

  test('bad sizes are ConfigErrors', () => {
    expectThrows(
      () => new SequenceClassifier({ inputSize: 1, hiddenSize: 4, numClasses: 0 }),
      ConfigError,
      /SequenceClassifier: numClasses must be a positive integer/,
    );
    expectThrows(
      () => new SequenceRegressor({ inputSize: 1, hiddenSize: 4, outputSize: 1.5 }),
      ConfigError,
      /SequenceRegressor: outputSize must be a positive integer/,
    );
  });
});
