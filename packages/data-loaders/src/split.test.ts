import { describe, expect, it } from 'vitest';

import { ConfigError } from '@ml/core';

import { ArrayDataset } from './dataset.js';
import { randomSplit, splitCounts, splitIndices } from './split.js';

describe('splits', () => {
  it('fractions become counts like torch.random_split (remainder round-robin from the first)', () => {
    expect(splitCounts(150, [0.8, 0.1, 0.1])).toEqual([120, 15, 15]);
    expect(splitCounts(10, [0.33, 0.33, 0.34])).toEqual([4, 3, 3]);
    expect(splitCounts(10, [3, 7])).toEqual([3, 7]);
  });

  it('random split: disjoint, complete, seeded', () => {
    const [a, b, c] = splitIndices(100, [0.7, 0.2, 0.1], { seed: 1 }) as [number[], number[], number[]];
    expect([a.length, b.length, c.length]).toEqual([70, 20, 10]);
    expect([...a, ...b, ...c].sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(splitIndices(100, [0.7, 0.2, 0.1], { seed: 1 })).toEqual([a, b, c]);
    expect(splitIndices(100, [0.7, 0.2, 0.1], { seed: 2 })[0]).not.toEqual(a);
    expect(splitIndices(5, [2, 3], { shuffle: false })).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
  });

  it('stratified split keeps class proportions within one item per class', () => {
    // 3 classes of sizes 50, 30, 20 (imbalanced), stored in class order.
    const labels = [
      ...new Array<number>(50).fill(0),
      ...new Array<number>(30).fill(1),
      ...new Array<number>(20).fill(2),
    ];
    const groups = splitIndices(100, [0.6, 0.2, 0.2], { seed: 7, stratify: labels });
    const expected = [
      [30, 18, 12],
      [10, 6, 4],
      [10, 6, 4],
    ];
    groups.forEach((g, k) => {
      const counts = [0, 1, 2].map((c) => g.filter((i) => labels[i] === c).length);
      counts.forEach((n, c) => expect(Math.abs(n - (expected[k]![c] as number))).toBeLessThanOrEqual(1));
    });
    expect(groups.flat().sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // Same seed, same groups.
    expect(splitIndices(100, [0.6, 0.2, 0.2], { seed: 7, stratify: labels })).toEqual(groups);
  });

  it('randomSplit returns lazy subsets of the dataset', () => {
    const ds = new ArrayDataset(Array.from({ length: 10 }, (_, i) => i * 10));
    const [train, test] = randomSplit(ds, [0.8, 0.2], { seed: 3 });
    expect(train!.length + test!.length).toBe(10);
    expect([...train!, ...test!].sort((p, q) => p - q)).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
  });

  it('bad sizes and labels are ConfigErrors', () => {
    expect(() => splitCounts(10, [0.5, 0.6])).toThrow(ConfigError);
    expect(() => splitCounts(10, [4, 5])).toThrow(
      'splitCounts: sizes must be fractions summing to 1 or integer counts summing to the dataset length (10), got [4, 5] (sum 9)',
    );
    expect(() => splitCounts(10, [-1, 11])).toThrow(
      'splitCounts: sizes[0] must be a finite number ≥ 0, got -1',
    );
    expect(() => splitIndices(4, [2, 2], { stratify: [0, 1] })).toThrow(
      'splitIndices: stratify must have one label per item (4), got 2',
    );
  });
});
