import { CheckpointError, ConfigError, DataError } from '@ml/core';
import { describe, expect, it } from 'vitest';

import { BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID, Vocab } from './vocab.js';

/** Asserts that `fn` throws an instance of `cls` whose message contains `message`. */
function expectError(fn: () => unknown, cls: new (message: string) => Error, message: string): void {
  expect(fn).toThrow(cls);
  expect(fn).toThrow(message);
}

describe('Vocab', () => {
  const data = [
    ['b', 'a', 'c'],
    ['a', 'd', 'c', 'a'],
  ];

  it('puts the specials at 0–3, then tokens by falling frequency, ties by first appearance', () => {
    const v = Vocab.build(data);
    expect([PAD_ID, BOS_ID, EOS_ID, UNK_ID]).toEqual([0, 1, 2, 3]);
    // a×3, c×2, then b and d once each: b came first.
    expect(v.tokens).toEqual([...SPECIAL_TOKENS, 'a', 'c', 'b', 'd']);
    expect(v.size).toBe(8);
    expect(v.id('a')).toBe(4);
    expect(v.token(6)).toBe('b');
  });

  it('honours minFreq and maxTokens and does not count specials in the data', () => {
    expect(Vocab.build(data, { minFreq: 2 }).tokens.slice(4)).toEqual(['a', 'c']);
    expect(Vocab.build(data, { maxTokens: 1 }).tokens.slice(4)).toEqual(['a']);
    expect(Vocab.build([['<pad>', 'x', '<eos>']]).tokens).toEqual([...SPECIAL_TOKENS, 'x']);
  });

  it('encodes with optional <bos>/<eos> and decodes back, stopping at <eos>', () => {
    const v = Vocab.build(data);
    const ids = v.encode(['b', 'a'], { bos: true, eos: true });
    expect(ids).toEqual([BOS_ID, 6, 4, EOS_ID]);
    expect(v.decode([...ids, 5, PAD_ID])).toEqual(['b', 'a']);
    expect(v.decode(ids, { skipSpecial: false, stopAtEos: false })).toEqual(['<bos>', 'b', 'a', '<eos>']);
  });

  it("maps unknown tokens to <unk> by default and rejects them with unknown: 'error'", () => {
    const v = Vocab.build(data);
    expect(v.encode(['a', 'zz'])).toEqual([4, UNK_ID]);
    expect(v.decode([4, UNK_ID])).toEqual(['a', '<unk>']);
    expect(() => v.encode(['a', 7 as unknown as string])).toThrow(
      new DataError('Vocab.encode: token at position 1 must be a string, got 7'),
    );
    expect(() => v.encode(['a', null as unknown as string])).toThrow(
      new DataError('Vocab.encode: token at position 1 must be a string, got null'),
    );
    expect(() => v.encode('a c' as unknown as string[])).toThrow(
      new DataError(
        "Vocab.encode: tokens must be an array of strings, got the string 'a c' (split it into tokens first)",
      ),
    );
    expect(() => v.encode(['a', 'zz'], { unknown: 'error' })).toThrow(DataError);
    expect(() => v.encode(['a', 'zz'], { unknown: 'error' })).toThrow(
      "Vocab.encode: token 'zz' at position 1 is not in the vocabulary (known: a c b d)",
    );
  });

  it('round-trips through JSON', () => {
    const v = Vocab.build(data);
    const back = Vocab.fromJSON(JSON.parse(JSON.stringify(v)));
    expect(back.tokens).toEqual(v.tokens);
  });

  it('rejects malformed vocabularies with named errors', () => {
    expect(() => new Vocab(['<pad>', '<bos>', 'x'])).toThrow(ConfigError);
    expect(() => new Vocab(['<pad>', '<bos>', 'x'])).toThrow(
      "Vocab: tokens[2] must be '<eos>' (specials come first: <pad> <bos> <eos> <unk>), got 'x'",
    );
    expect(() => new Vocab([...SPECIAL_TOKENS, 'a', 'a'])).toThrow(
      "Vocab: token 'a' appears twice (ids 4 and 5)",
    );
    expectError(
      () => Vocab.build([['a', '']]),
      DataError,
      'Vocab.build: sequence 0, position 1 must be a non-empty string, got ""',
    );
    expectError(
      () => Vocab.build(data, { minFreq: 0 }),
      ConfigError,
      'Vocab.build: minFreq must be a positive integer, got 0',
    );
    expectError(
      () => Vocab.build(data).token(99),
      DataError,
      'Vocab.token: id must be an integer in [0, 8), got 99',
    );
    expect(() => Vocab.fromJSON({ words: [] })).toThrow(CheckpointError);
    expect(() => Vocab.fromJSON({ tokens: ['a'] })).toThrow(CheckpointError);
    expect(() => Vocab.fromJSON({ tokens: ['a'] })).toThrow(
      "Vocab.fromJSON: Vocab: tokens[0] must be '<pad>'",
    );
  });
});
