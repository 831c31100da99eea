import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, DataError, ShapeError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { EpisodeSampler } from './episode-sampler.js';

describe('EpisodeSampler', () => {
  // 10 classes × 8 examples; row i of `data` is [i, 2i] so gathered rows can be traced back.
  const labels = Array.from({ length: 80 }, (_, i) => i % 10);
  let data: tf.Tensor2D;
  beforeAll(async () => {
    await onBackend('cpu');
    data = tf.tensor2d(Array.from({ length: 80 }, (_, i) => [i, 2 * i]));
  });

  it('draws N-way K-shot Q-query episodes with local labels and global class ids', async () => {
    const sampler = new EpisodeSampler({ data, labels, ways: 5, shots: 2, queries: 3, seed: 1 });
    const before = tf.memory().numTensors;
    const ep = sampler.next();
    expect(ep.support.shape).toEqual([10, 2]);
    expect(ep.query.shape).toEqual([15, 2]);
    expect(Array.from(await ep.supportLabels.data())).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(Array.from(await ep.queryLabels.data())).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    expect(new Set(ep.classIds).size).toBe(5);
    const rows = Array.from(await ep.support.data()).filter((_, k) => k % 2 === 0);
    expect(rows).toEqual(ep.supportIndices);
    ep.supportIndices.forEach((r, k) => expect(labels[r]).toBe(ep.classIds[Math.floor(k / 2)]));
    ep.queryIndices.forEach((r, k) => expect(labels[r]).toBe(ep.classIds[Math.floor(k / 3)]));
    expect(ep.supportIndices.filter((r) => ep.queryIndices.includes(r))).toEqual([]); // disjoint
    ep.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is seeded per episode index; episodes vary', () => {
    const a = new EpisodeSampler({ data, labels, ways: 3, shots: 1, queries: 2, seed: 4 });
    const b = new EpisodeSampler({ data, labels, ways: 3, shots: 1, queries: 2, seed: 4 });
    const seq = [a.indices(0), a.indices(1), a.indices(2)];
    expect(b.indices(1)).toEqual(seq[1]);
    expect(seq[0]).not.toEqual(seq[1]);
    const e0 = b.next();
    const e1 = b.next();
    expect([e0.classIds, e1.classIds]).toEqual([seq[0]!.classIds, seq[1]!.classIds]);
    b.reset(2);
    const e2 = b.next();
    expect(e2.supportIndices).toEqual(seq[2]!.supportIndices);
    [e0, e1, e2].forEach((e) => e.dispose());
    const counts = new Map<number, number>();
    for (let i = 0; i < 300; i++)
      for (const c of a.indices(i).classIds) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(10); // every class gets drawn
  });

  it('restricting the class pool', () => {
    const s = new EpisodeSampler({ data, labels, ways: 2, shots: 1, queries: 1, classes: [7, 3] });
    expect(s.classes).toEqual([3, 7]);
    for (let i = 0; i < 10; i++) expect([...s.indices(i).classIds].sort()).toEqual([3, 7]);
  });

  it('a K-shot request larger than a class has is a DataError', () => {
    const uneven = [...labels.slice(0, 79), 0]; // class 9 now has 7 examples
    expect(() => new EpisodeSampler({ data, labels: uneven, ways: 5, shots: 5, queries: 3 })).toThrow(
      DataError,
    );
    expect(() => new EpisodeSampler({ data, labels: uneven, ways: 5, shots: 5, queries: 3 })).toThrow(
      'EpisodeSampler: class 9 has 7 examples, fewer than shots + queries = 5 + 3 = 8',
    );
    expect(() => new EpisodeSampler({ data, labels, ways: 11, shots: 1, queries: 1 })).toThrow(
      'EpisodeSampler: ways (11) must be ≤ the number of classes to draw from (10)',
    );
    expect(
      () => new EpisodeSampler({ data, labels, ways: 2, shots: 1, queries: 1, classes: [3, 42] }),
    ).toThrow('EpisodeSampler: class 42 has 0 examples');
    expect(() => new EpisodeSampler({ data, labels: labels.slice(1), ways: 2, shots: 1 })).toThrow(
      ShapeError,
    );
    expect(() => new EpisodeSampler({ data, labels, ways: 0, shots: 1 })).toThrow(ConfigError);
    expect(() => new EpisodeSampler({ data, labels, ways: 2, shots: 0 })).toThrow(
      'EpisodeSampler: shots must be a positive integer, got 0',
    );
  });
});
