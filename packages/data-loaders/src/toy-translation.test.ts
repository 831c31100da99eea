import { describe, expect, it } from 'vitest';

import { ConfigError } from '@ml/core';

import { LETTERS, LETTER_NAMES, toyTranslation } from './toy-translation.js';

describe('toyTranslation: the letter-name → letter set', () => {
  it('has the default sizes and returns raw string pairs', () => {
    const data = toyTranslation();
    expect(data.pairs).toHaveLength(1000);
    expect(data.pairs.every((p) => p.src.length === 6 && p.tgt.length === 6)).toBe(true);
    expect(data.srcTokens).toEqual(data.pairs.map((p) => p.src));
    expect(data.tgtTokens).toEqual(data.pairs.map((p) => p.tgt));
    expect(new Set(data.srcTokens.flat())).toEqual(new Set(LETTER_NAMES));
    expect(new Set(data.tgtTokens.flat())).toEqual(new Set(LETTERS));
    // The first pair of seed 0, pinned so that the data (and the demo's numbers) cannot drift silently.
    expect(data.pairs[0]).toEqual({
      src: ['eks', 'ei', 'pi:', 'es', 'kju:', 'eks'],
      tgt: ['x', 'a', 'l', 's', 'q', 'x'], // 'pi:' → 'l': one of the noisy letters
    });
  });

  it('target is correct with probability 1 − noise + noise/26, letters uniform', () => {
    const rate = (noise: number): number => {
      const d = toyTranslation({ n: 4000, noise, seed: 11 });
      let right = 0;
      d.pairs.forEach(({ src, tgt }) =>
        src.forEach((name, j) => (right += LETTERS[LETTER_NAMES.indexOf(name)] === tgt[j] ? 1 : 0)),
      );
      return right / (4000 * 6);
    };
    expect(rate(0)).toBe(1);
    expect(Math.abs(rate(0.1) - (0.9 + 0.1 / 26))).toBeLessThan(0.006); // ±3σ for 24,000 draws
    expect(Math.abs(rate(1) - 1 / 26)).toBeLessThan(0.004);
  });

  it('same seed same data; different seeds differ', () => {
    const a = toyTranslation({ n: 5, seed: 1 });
    const b = toyTranslation({ n: 5, seed: 1 });
    const c = toyTranslation({ n: 5, seed: 2 });
    expect(b.pairs).toEqual(a.pairs);
    expect(c.pairs).not.toEqual(a.pairs);
  });

  it('bad options are ConfigErrors', () => {
    expect(() => toyTranslation({ noise: 1.5 })).toThrow(ConfigError);
    expect(() => toyTranslation({ noise: 1.5 })).toThrow('toyTranslation: noise must be in [0, 1], got 1.5');
    expect(() => toyTranslation({ n: 0 })).toThrow('toyTranslation: n must be a positive integer, got 0');
    expect(() => toyTranslation({ seqLen: 2.5 })).toThrow(
      'toyTranslation: seqLen must be a positive integer, got 2.5',
    );
  });
});
