import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, expectTensorsClose, onBackend } from '@ml/core/testing';

import { attentionRollout, clsAttentionMap } from './attention-rollout.js';
import { VisionTransformer } from './vision-transformer.js';

describe('attentionRollout', () => {
  beforeAll(() => onBackend('cpu'));

  test('one layer, one head, by hand', () => {
    const a = tf.tensor4d([0.2, 0.8, 0.6, 0.4], [1, 1, 2, 2]);
    const r = attentionRollout([a]);
    // 0.5·I + 0.5·A = [[0.6, 0.4], [0.3, 0.7]] (rows already sum to 1)
    expectTensorsClose(r, tf.tensor3d([0.6, 0.4, 0.3, 0.7], [1, 2, 2]), 1e-6);
    const two = attentionRollout([a, a], { residual: 0 });
    // A·A
    expectTensorsClose(two, tf.tensor3d([0.52, 0.48, 0.36, 0.64], [1, 2, 2]), 1e-6);
    tf.dispose([a, r, two]);
  });

  test("a model's attentions roll out to row-stochastic [B, T, T]; the cls map is [B, gh, gw] with max 1", async () => {
    const model = new VisionTransformer({
      imageSize: 8,
      patchSize: 4,
      channels: 1,
      numClasses: 3,
      dim: 8,
      depth: 2,
      heads: 2,
      seed: 0,
    });
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1);
    const { output, attentions } = model.forward(x, { returnAttention: true });
    expect(attentions.map((a) => a.shape)).toEqual([
      [2, 2, 5, 5],
      [2, 2, 5, 5],
    ]);
    const r = await expectNoTensorLeak(() => attentionRollout(attentions, { headFusion: 'max' }), 1);
    expectTensorsClose(tf.sum(r, -1), tf.ones([2, 5]), 1e-5);
    const map = clsAttentionMap(r, model.gridSize);
    expect(map.shape).toEqual([2, 2, 2]);
    expectTensorsClose(tf.max(map, [1, 2]), tf.ones([2]), 1e-6);
    tf.dispose([x, output, ...attentions, r, map]);
    model.dispose();
  });

  test('bad input → named errors', () => {
    const a = tf.zeros([1, 2, 3, 3]);
    const b = tf.zeros([1, 2, 4, 4]);
    expect(() => attentionRollout([])).toThrow(
      new ShapeError('attentionRollout: attentions must hold at least one layer, got none'),
    );
    expect(() => attentionRollout([a, b])).toThrow(
      'attentionRollout: attentions[1] must be [B, H, T, T] like attentions[0] [1, 2, 3, 3], got [1, 2, 4, 4]',
    );
    expect(() => attentionRollout([a], { headFusion: 'sum' as 'mean' })).toThrow(ConfigError);
    expect(() => attentionRollout([a], { residual: 2 })).toThrow(
      'attentionRollout: residual must be in [0, 1], got 2',
    );
    expect(() => clsAttentionMap(tf.zeros([1, 3, 3]), [2, 2])).toThrow(
      'clsAttentionMap: rollout must be [B, 5, 5] for a 2×2 grid, got [1, 3, 3]',
    );
    tf.dispose([a, b]);
  });
});
