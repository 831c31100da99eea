import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { collatePairs, padSequences } from './batch.js';

/** Asserts that `fn` throws an instance of `cls` whose message contains `message`. */
function expectError(fn: () => unknown, cls: new (message: string) => Error, message: string): void {
  expect(fn).toThrow(cls);
  expect(fn).toThrow(message);
}

describe('padSequences / collatePairs', () => {
  beforeAll(() => onBackend('cpu'));

  it('pads to the longest sequence or to a given length', async () => {
    const t = padSequences([[5, 6, 7], [8]]);
    expect(t.dtype).toBe('int32');
    expect(await t.array()).toEqual([
      [5, 6, 7],
      [8, 0, 0],
    ]);
    const u = padSequences([[5]], { length: 3, padId: 9 });
    expect(await u.array()).toEqual([[5, 9, 9]]);
    tf.dispose([t, u]);
  });

  it('frames targets with <bos>/<eos> and pads every part of a variable-length batch', async () => {
    const batch = await expectNoTensorLeak(
      () =>
        collatePairs([
          { src: [4, 5, 6], tgt: [7] },
          { src: [4], tgt: [8, 9, 10] },
        ]),
      3,
    );
    expect(await batch.src.array()).toEqual([
      [4, 5, 6],
      [4, 0, 0],
    ]);
    expect(await batch.tgtIn.array()).toEqual([
      [1, 7, 0, 0],
      [1, 8, 9, 10],
    ]);
    expect(await batch.tgtOut.array()).toEqual([
      [7, 2, 0, 0],
      [8, 9, 10, 2],
    ]);
    tf.dispose(Object.values(batch));
  });

  it('rejects empty input, empty sources, over-long sequences and bad ids', () => {
    expectError(() => padSequences([]), DataError, 'padSequences: needs at least one sequence, got none');
    expectError(
      () => padSequences([[1, 2, 3]], { length: 2 }),
      DataError,
      'padSequences: sequence 0 has 3 tokens, more than the padded length 2',
    );
    expectError(
      () => padSequences([[1, -2]]),
      DataError,
      'padSequences: sequence 0, position 1 must be a non-negative integer id, got -2',
    );
    expectError(
      () => padSequences([[1]], { length: 0 }),
      ConfigError,
      'padSequences: length must be a positive integer, got 0',
    );
    expectError(() => collatePairs([]), DataError, 'collatePairs: needs at least one pair, got none');
    const before = tf.memory().numTensors;
    expectError(
      () =>
        collatePairs([
          { src: [4], tgt: [5] },
          { src: [], tgt: [5] },
        ]),
      DataError,
      'collatePairs: source 1 is empty; every source needs at least one token',
    );
    expectError(
      () => collatePairs([{ src: [4, 5], tgt: [5] }], { srcLength: 1 }),
      DataError,
      'collatePairs (src): sequence 0 has 2 tokens, more than the padded length 1',
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
