import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ShapeError } from '@ml/core';
import { expectNoTensorLeak, expectThrows, onBackend } from '@ml/core/testing';

import { Conv4 } from './conv4.js';

describe('Conv4', () => {
  beforeAll(() => onBackend('wasm'));

  test('28×28 grey images → 64-d features through four conv-BN-ReLU-pool blocks', async () => {
    const net = new Conv4({ seed: 0 });
    expect(net.featureSize).toBe(64);
    expect(net.namedParameters().map(([n, v]) => [n, v.shape])).toEqual(
      [0, 4, 8, 12].flatMap((i) => [
        [`blocks.${i}.weight`, [64, i === 0 ? 1 : 64, 3, 3]],
        [`blocks.${i}.bias`, [64]],
        [`blocks.${i + 1}.weight`, [64]],
        [`blocks.${i + 1}.bias`, [64]],
      ]),
    );
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1);
    await expectNoTensorLeak(async () => {
      const f = net.forward(x);
      expect(f.shape).toEqual([2, 64]);
      expect(Math.min(...(await f.data()))).toBeGreaterThanOrEqual(0); // after ReLU and max-pool
      f.dispose();
    });
    x.dispose();
    net.dispose();
    expect(new Conv4({ channels: 8, imageSize: 32 }).featureSize).toBe(8 * 2 * 2);
  });

  test('wrong image shapes are ShapeErrors', () => {
    const net = new Conv4({ channels: 4 });
    expectThrows(
      () => net.forward(tf.zeros([1, 32, 32, 1])),
      ShapeError,
      'Conv4: input must be [N, 28, 28, 1], got [1, 32, 32, 1]',
    );
    expectThrows(
      () => new Conv4({ imageSize: 8 }),
      ShapeError,
      'Conv4: imageSize must be ≥ 16 (four 2× poolings), got 8',
    );
    net.dispose();
  });
});
