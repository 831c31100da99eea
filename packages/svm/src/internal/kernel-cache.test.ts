import { Rng } from '@ml/core';
import { describe, expect, it } from 'vitest';

import { KernelCache } from './kernel-cache.js';

describe('KernelCache', () => {
  it('keeps what it has, reports where filling starts, and evicts least recently used first', () => {
    // Budget: two full columns of 4 (the floor libsvm guarantees).
    const cache = new KernelCache(4, 1);
    let col = cache.get(0, 2);
    expect(cache.start).toBe(0);
    col.set([1, 2]);
    col = cache.get(0, 4);
    expect(cache.start).toBe(2);
    expect(Array.from(col.subarray(0, 2))).toEqual([1, 2]);
    col.set([3, 4], 2);
    cache.get(1, 4).fill(9);
    cache.get(0, 4); // column 0 is now the most recent
    cache.get(2, 4); // needs room: evicts column 1, not 0
    expect(cache.start).toBe(0);
    expect(Array.from(cache.get(0, 4))).toEqual([1, 2, 3, 4]);
    expect(cache.start).toBe(4);
    cache.get(1, 4);
    expect(cache.start).toBe(0);
  });

  it('after random swaps, every cached entry equals the swapped reference matrix (lazy replay = eager swaps)', () => {
    const n = 12;
    const rng = new Rng(3);
    const perm = Array.from({ length: n }, (_, i) => i);
    const value = (i: number, j: number): number => 100 * (perm[i] as number) + (perm[j] as number);
    // Room for about three full columns, so eviction and regrowth happen too.
    const cache = new KernelCache(n, 4 * (3 * n + 8 * n));
    for (let step = 0; step < 400; step++) {
      if (rng.random() < 0.3) {
        const i = rng.int(n);
        const j = rng.int(n);
        cache.swapIndex(i, j);
        [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
        continue;
      }
      const i = rng.int(n);
      const len = 1 + rng.int(n);
      const col = cache.get(i, len);
      for (let k = 0; k < cache.start; k++) expect(col[k]).toBe(value(i, k));
      for (let k = cache.start; k < len; k++) col[k] = value(i, k);
    }
  });
});
