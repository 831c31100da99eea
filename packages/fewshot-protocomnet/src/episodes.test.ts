import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { DataError } from '@ml/core';
import { expectThrows, onBackend } from '@ml/core/testing';
import { EpisodeSampler } from '@ml/data-loaders';

import { classPrototypes } from './protonet-head.js';

// Episodes over precomputed features, as the demo draws them: @ml/data-loaders' EpisodeSampler over
// a feature matrix [N, s], its support/query rows feeding the prototype heads.
const CLASSES = [3, 4, 6, 7, 9];
const PER_CLASS = 20;
const labels = CLASSES.flatMap((c) => Array.from({ length: PER_CLASS }, () => c));
// Feature row i = [class id, i]: every row identifies its class and itself.
let features: tf.Tensor2D;
beforeAll(async () => {
  await onBackend('cpu');
  features = tf.tensor2d(
    labels.flatMap((c, i) => [c, i]),
    [labels.length, 2],
  );
});

describe('N-way K-shot episodes over features', () => {
  test('support and query never overlap; every one of the N classes has K support and Q query rows', async () => {
    const sampler = new EpisodeSampler({ data: features, labels, ways: 5, shots: 5, queries: 15, seed: 7 });
    for (let e = 0; e < 20; e++) {
      const ep = sampler.episode(e);
      expect(new Set(ep.classIds).size).toBe(5);
      const support = (await ep.support.array()) as number[][];
      const query = (await ep.query.array()) as number[][];
      const sl = Array.from(await ep.supportLabels.data());
      const ql = Array.from(await ep.queryLabels.data());
      const rows = new Set(support.map((r) => r[1]));
      expect(rows.size).toBe(25);
      for (const r of query) expect(rows.has(r[1])).toBe(false);
      expect(new Set(query.map((r) => r[1])).size).toBe(75);
      for (let k = 0; k < 5; k++) {
        expect(sl.filter((l) => l === k)).toHaveLength(5);
        expect(ql.filter((l) => l === k)).toHaveLength(15);
      }
      // Local label k is global class classIds[k], in support and query alike.
      support.forEach((r, i) => expect(r[0]).toBe(ep.classIds[sl[i] as number]));
      query.forEach((r, i) => expect(r[0]).toBe(ep.classIds[ql[i] as number]));
      const protos = classPrototypes(ep.support, ep.supportLabels, 5);
      expect(Array.from(await tf.slice(protos, [0, 0], [-1, 1]).data())).toEqual(ep.classIds);
      tf.dispose(protos);
      ep.dispose();
    }
  });

  test('seeded: the same seed gives the same episodes, another seed other ones', () => {
    const a = new EpisodeSampler({ data: features, labels, ways: 5, shots: 1, queries: 5, seed: 3 });
    const b = new EpisodeSampler({ data: features, labels, ways: 5, shots: 1, queries: 5, seed: 3 });
    const c = new EpisodeSampler({ data: features, labels, ways: 5, shots: 1, queries: 5, seed: 4 });
    for (let e = 0; e < 5; e++) expect(a.indices(e)).toEqual(b.indices(e));
    expect([0, 1, 2, 3, 4].map((e) => c.indices(e))).not.toEqual([0, 1, 2, 3, 4].map((e) => a.indices(e)));
  });

  test('K + Q larger than a class has, or N larger than the number of classes, is a DataError', () => {
    expectThrows(
      () => new EpisodeSampler({ data: features, labels, ways: 5, shots: 10, queries: 15, seed: 0 }),
      DataError,
      'EpisodeSampler: class 3 has 20 examples, fewer than shots + queries = 10 + 15 = 25',
    );
    expectThrows(
      () => new EpisodeSampler({ data: features, labels, ways: 6, shots: 1, queries: 15, seed: 0 }),
      DataError,
      'EpisodeSampler: ways (6) must be ≤ the number of classes to draw from (5)',
    );
  });
});
