import { DataError } from '@ml/core';
import { describe, expect, it } from 'vitest';

import { encodePairs } from './encode-pairs.js';
import { SPECIAL_TOKENS, UNK_ID, Vocab } from './vocab.js';

describe('encodePairs', () => {
  const pairs = [
    { src: ['ei', 'bi:'], tgt: ['a', 'b'] },
    { src: ['bi:', 'bi:'], tgt: ['b', 'x'] },
  ];

  it('builds both vocabularies from the pairs (most frequent first) and encodes them', () => {
    const { pairs: ids, srcVocab, tgtVocab } = encodePairs(pairs);
    expect(srcVocab.tokens).toEqual([...SPECIAL_TOKENS, 'bi:', 'ei']);
    expect(tgtVocab.tokens).toEqual([...SPECIAL_TOKENS, 'b', 'a', 'x']);
    expect(ids).toEqual([
      { src: [5, 4], tgt: [5, 4] },
      { src: [4, 4], tgt: [4, 6] },
    ]);
  });

  it('uses the vocabularies it is given', () => {
    const srcVocab = Vocab.build([['ei']]);
    const { pairs: ids, tgtVocab } = encodePairs(pairs, { srcVocab });
    expect(ids[0]?.src).toEqual([4, UNK_ID]);
    expect(tgtVocab.size).toBe(7);
  });

  it('rejects what is not a list of token pairs with a DataError', () => {
    expect(() => encodePairs([{ src: ['ei'] } as never])).toThrow(
      new DataError(
        'encodePairs: pairs[0] must be { src: string[], tgt: string[] }, got an object with keys src',
      ),
    );
    expect(() =>
      encodePairs([{ src: ['ei'], tgt: [3] } as never], { tgtVocab: Vocab.build([['a']]) }),
    ).toThrow(new DataError('Vocab.encode: token at position 0 must be a string, got 3'));
  });
});
