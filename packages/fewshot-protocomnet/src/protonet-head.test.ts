import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, expectThrows, onBackend } from '@ml/core/testing';

import { classPrototypes, cosineSimilarity, protoNetLogits } from './protonet-head.js';
import type { PrototypeMetric } from './protonet-head.js';

describe('ProtoNet head', () => {
  beforeAll(() => onBackend('cpu'));

  test('prototypes are class means; euclidean and cosine logits by hand', async () => {
    const support = tf.tensor2d([
      [1, 0],
      [3, 0],
      [0, 2],
      [0, 4],
    ]);
    const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
    const query = tf.tensor2d([
      [2, 1],
      [0, 5],
    ]);
    await expectNoTensorLeak(async () => {
      const p = classPrototypes(support, labels, 2);
      expect(await p.array()).toEqual([
        [2, 0],
        [0, 3],
      ]);
      const euclid = protoNetLogits(p, query);
      expect(await euclid.array()).toEqual([
        [-1, -8],
        [-29, -4],
      ]);
      const cos = protoNetLogits(p, query, { metric: 'cosine', scale: 10 });
      const c = await cos.array();
      expect(c[0]?.[0]).toBeCloseTo(10 * (2 / Math.sqrt(5)), 4);
      expect(c[0]?.[1]).toBeCloseTo(10 * (1 / Math.sqrt(5)), 4);
      expect(c[1]?.[1]).toBeCloseTo(10, 4);
      tf.dispose([p, euclid, cos]);
    });
    tf.dispose([support, labels, query]);
  });

  test('cosine similarity of a zero row is 0, not NaN', async () => {
    const s = cosineSimilarity(tf.zeros([1, 3]), tf.ones([2, 3]));
    expect(await s.array()).toEqual([[0, 0]]);
    s.dispose();
  });

  test('bad inputs are named errors', () => {
    const p = tf.zeros([5, 64]);
    expectThrows(
      () => protoNetLogits(p, tf.zeros([3, 32])),
      ShapeError,
      'protoNetLogits: queries must be [n, 64], got [3, 32]',
    );
    expectThrows(
      () => protoNetLogits(p, tf.zeros([3, 64]), { metric: 'manhattan' as PrototypeMetric }),
      ConfigError,
      "protoNetLogits: metric must be 'euclidean' or 'cosine', got 'manhattan'",
    );
    expectThrows(
      () => classPrototypes(tf.zeros([4, 2]), tf.zeros([3], 'int32'), 2),
      ShapeError,
      'classPrototypes: labels must be [4], got [3]',
    );
    expectThrows(
      () => classPrototypes(tf.zeros([4, 2]), tf.zeros([4], 'int32'), 0),
      ConfigError,
      'classPrototypes: ways must be a positive integer, got 0',
    );
  });
});
