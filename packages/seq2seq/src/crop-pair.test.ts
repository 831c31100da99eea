import { ConfigError, Rng } from '@ml/core';
import { describe, expect, it } from 'vitest';

import { cropPair } from './crop-pair.js';

describe('cropPair', () => {
  it('crops pairs to aligned random spans with the given probability', () => {
    const pair = { src: [4, 5, 6, 7, 8, 9], tgt: [10, 11, 12, 13, 14, 15] };
    const rng = new Rng(0);
    const crops = Array.from({ length: 400 }, () => cropPair(pair, rng, 0.5));
    const cut = crops.filter((c) => c !== pair);
    expect(cut.length).toBeGreaterThan(160);
    expect(cut.length).toBeLessThan(240);
    for (const c of cut) {
      expect(c.src.length).toBe(c.tgt.length);
      expect(c.src.length).toBeGreaterThanOrEqual(1);
      const start = pair.src.indexOf(c.src[0] as number);
      expect(c.src).toEqual(pair.src.slice(start, start + c.src.length));
      expect(c.tgt).toEqual(pair.tgt.slice(start, start + c.tgt.length));
    }
    expect(new Set(cut.map((c) => c.src.length)).size).toBe(6);
    expect(cropPair(pair, rng, 0)).toBe(pair);
  });

  it('rejects a probability outside [0, 1]', () => {
    expect(() => cropPair({ src: [4], tgt: [4] }, new Rng(0), 1.5)).toThrow(
      new ConfigError('cropPair: p must be in [0, 1], got 1.5'),
    );
  });
});
