import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { LETTERS, LETTER_NAMES, TOY_SPECIAL_IDS, toyTranslation } from './toy-translation.js';

describe('toyTranslation (seed 000)', () => {
  beforeAll(() => onBackend('cpu'));

  it("has the seed's defaults, tensor layout and special ids", async () => {
    const data = toyTranslation();
    expect(data.srcTokens).toHaveLength(1000);
    expect(data.srcTokens.every((s) => s.length === 6)).toBe(true);
    for (const t of [data.encoderInput, data.decoderInput, data.decoderOutput]) {
      expect(t.shape).toEqual([1000, 7]);
      expect(t.dtype).toBe('int32');
    }
    expect(TOY_SPECIAL_IDS).toEqual({ pad: 0, bos: 1, eos: 2, unk: 3 });
    expect(data.srcVocab.slice(0, 4)).toEqual(['<pad>', '<bos>', '<eos>', '<unk>']);
    expect(data.srcVocab).toHaveLength(30);
    expect(data.tgtVocab).toHaveLength(30);
    const enc = (await data.encoderInput.array()) as number[][];
    const decIn = (await data.decoderInput.array()) as number[][];
    const decOut = (await data.decoderOutput.array()) as number[][];
    for (let i = 0; i < 1000; i++) {
      expect(enc[i]!.map((id) => data.srcVocab[id])).toEqual([...data.srcTokens[i]!, '<pad>']);
      expect(decIn[i]!.map((id) => data.tgtVocab[id])).toEqual(['<bos>', ...data.tgtTokens[i]!]);
      expect(decOut[i]!.map((id) => data.tgtVocab[id])).toEqual([...data.tgtTokens[i]!, '<eos>']);
    }
    data.dispose();
  });

  it('ids are ordered by frequency, ties by first appearance (the seed Vocab)', () => {
    const data = toyTranslation({ n: 300, seed: 4 });
    const counts = new Map<string, number>();
    data.tgtTokens.flat().forEach((t) => counts.set(t, (counts.get(t) ?? 0) + 1));
    const order = data.tgtVocab.slice(4).map((t) => counts.get(t) as number);
    expect(order).toEqual([...order].sort((a, b) => b - a));
    data.dispose();
    const fixed = toyTranslation({ n: 2, vocabOrder: 'alphabet' });
    expect(fixed.srcVocab.slice(4)).toEqual(LETTER_NAMES);
    expect(fixed.tgtVocab.slice(4)).toEqual(LETTERS);
    fixed.dispose();
  });

  it('target is correct with probability 1 − noise + noise/26, letters uniform', () => {
    const rate = (noise: number): number => {
      const d = toyTranslation({ n: 4000, noise, seed: 11 });
      let right = 0;
      d.srcTokens.forEach((s, i) =>
        s.forEach((name, j) => (right += LETTERS[LETTER_NAMES.indexOf(name)] === d.tgtTokens[i]![j] ? 1 : 0)),
      );
      d.dispose();
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
    expect(b.srcTokens).toEqual(a.srcTokens);
    expect(b.tgtTokens).toEqual(a.tgtTokens);
    expect(c.srcTokens).not.toEqual(a.srcTokens);
    [a, b, c].forEach((d) => d.dispose());
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
