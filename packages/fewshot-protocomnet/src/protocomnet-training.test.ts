import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, Rng, ShapeError } from '@ml/core';
import { expectThrows, onBackend } from '@ml/core/testing';
import { DataLoader, TensorDataset } from '@ml/data-loaders';
import { Runner } from '@ml/runner';

import { collectFeatureStatistics } from './feature-statistics.js';
import { ProtoComNet } from './protocomnet.js';
import { protoComNetStep } from './protocomnet-training.js';
import { tinyGraph } from '../test/helpers.js';

describe('ProtoComNet training phase with the Runner', () => {
  beforeAll(() => onBackend('wasm'));

  test('the MSE to the class means falls ≥ 10× in 15 epochs; no tensor leak across steps', async () => {
    const rng = new Rng(0);
    const s = 8;
    // Two base classes around different centres, 32 noisy features each.
    const centres = [
      Array.from({ length: s }, () => rng.normal(2, 1)),
      Array.from({ length: s }, () => rng.normal(-1, 1)),
    ];
    const rows = Array.from({ length: 64 }, (_, i) =>
      (centres[i % 2] as number[]).map((c) => c + rng.normal(0, 0.3)),
    );
    const labels = rows.map((_, i) => i % 2);
    const graph = tinyGraph();
    const features = tf.tensor2d(rows);
    const y = tf.tensor1d(labels, 'int32');
    const stats = await collectFeatureStatistics(graph, features, labels);
    const model = new ProtoComNet({
      graph,
      featureSize: s,
      aggregatorHidden: 16,
      decoderHidden: 32,
      seed: 1,
    });
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 3e-3 }),
      step: protoComNetStep(stats),
      seed: 2,
    });
    const loader = new DataLoader<tf.Tensor[], tf.Tensor[]>(new TensorDataset([features, y]), {
      batchSize: 16,
      shuffle: true,
      seed: 3,
    });
    const before = tf.memory().numTensors;
    const { history } = await runner.fit(loader, { epochs: 15 });
    const losses = history.epochs.map((e) => e.loss as number);
    expect(losses[losses.length - 1]).toBeLessThan((losses[0] as number) / 10);
    const after = tf.memory().numTensors;
    // Adam's two moment slots per parameter are the only new tensors.
    expect(after - before).toBe(2 * model.parameters().length);
    const evalLoss = await runner.evaluate(loader);
    expect(evalLoss.loss).toBeLessThan(losses[0] as number);
    stats.dispose();
    model.dispose();
    tf.dispose([features, y]);
  });

  test('statistics from a backbone with another feature size are a ShapeError', async () => {
    const graph = tinyGraph();
    const features = tf.ones([4, 6]);
    const stats = await collectFeatureStatistics(graph, features, [0, 1, 0, 1]);
    const model = new ProtoComNet({ graph, featureSize: 8, aggregatorHidden: 4, decoderHidden: 4, seed: 1 });
    const step = protoComNetStep(stats);
    expectThrows(
      () => step([tf.ones([2, 8]), tf.tensor1d([0, 1], 'int32')], { model, rng: new Rng(0), training: true }),
      ShapeError,
      'protoComNetStep: statistics have 6-d features but ProtoComNet expects 8',
    );
    stats.dispose();
    model.dispose();
    features.dispose();
  });
});
