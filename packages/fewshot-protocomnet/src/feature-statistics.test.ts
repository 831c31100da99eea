import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { DataError, ShapeError } from '@ml/core';
import { expectRejects, onBackend } from '@ml/core/testing';

import { collectFeatureStatistics } from './feature-statistics.js';
import { tinyGraph } from '../test/helpers.js';

describe('collectFeatureStatistics', () => {
  beforeAll(() => onBackend('cpu'));

  test('per base class and per attribute mean and std, by hand', async () => {
    // b0 has a0, a1; b1 has a1, a2 (tinyGraph). b0 rows: [0, 2], [2, 2]; b1 rows: [10, 0], [10, 4].
    const graph = tinyGraph();
    const features = tf.tensor2d([
      [0, 2],
      [10, 0],
      [2, 2],
      [10, 4],
    ]);
    const stats = await collectFeatureStatistics(graph, features, [0, 1, 0, 1]);
    expect(await stats.classMean.array()).toEqual([
      [1, 2],
      [10, 2],
    ]);
    expect(await stats.classStd.array()).toEqual([
      [1, 0],
      [0, 2],
    ]);
    // a0: b0 only; a1: b0 and b1 pooled; a2: b1 only.
    const mean = await stats.attributeMean.array();
    const std = await stats.attributeStd.array();
    expect(mean).toEqual([
      [1, 2],
      [5.5, 2],
      [10, 2],
    ]);
    expect(std[1]?.[0]).toBeCloseTo(Math.sqrt((5.5 ** 2 + 4.5 ** 2 + 4.5 ** 2 + 3.5 ** 2) / 4), 5);
    expect(std[1]?.[1]).toBeCloseTo(Math.sqrt(2), 5);
    expect(stats.attributeCounts).toEqual([2, 4, 2]);
    stats.dispose();
    features.dispose();
  });

  test('bad labels and shapes are named errors', async () => {
    const graph = tinyGraph();
    const f = tf.zeros([2, 3]);
    await expectRejects(
      collectFeatureStatistics(graph, f, [0, 2]),
      DataError,
      'collectFeatureStatistics: labels[1] must be a base class position in 0..1, got 2',
    );
    await expectRejects(
      collectFeatureStatistics(graph, f, [0, 0]),
      DataError,
      "collectFeatureStatistics: base class 'b1' has no image",
    );
    await expectRejects(
      collectFeatureStatistics(graph, f, [0]),
      ShapeError,
      'collectFeatureStatistics: labels must have 2 entries (one per feature row), got 1',
    );
    f.dispose();
  });
});
