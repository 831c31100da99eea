import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { bayesTokenAccuracy, sequenceAccuracy, tokenAccuracy } from './accuracy.js';
import { contentTokenAccuracy } from './evaluate.js';
import { EOS_ID, PAD_ID } from './vocab.js';

/** Asserts that `fn` throws an instance of `cls` whose message contains `message`. */
function expectError(fn: () => unknown, cls: new (message: string) => Error, message: string): void {
  expect(fn).toThrow(cls);
  expect(fn).toThrow(message);
}

describe('accuracy metrics', () => {
  beforeAll(() => onBackend('cpu'));

  it('tokenAccuracy compares position by position and counts missing tokens as wrong', () => {
    const pred = [[4, 5, 6], [4], [7, 8, 9, 9]];
    const ref = [
      [4, 0, 6],
      [4, 5],
      [7, 8, 9],
    ];
    // 2/3 + 1/2 + 3/3 (the extra 4th token is not counted) = 6 of 8.
    expect(tokenAccuracy(pred, ref)).toEqual({ correct: 6, total: 8, accuracy: 0.75 });
    // Only the last pair would be exact without its extra token; none is.
    expect(sequenceAccuracy(pred, ref)).toEqual({ correct: 0, total: 3, accuracy: 0 });
    expect(sequenceAccuracy([[1, 2], [3]], [[1, 2], [4]]).accuracy).toBe(0.5);
    expect(tokenAccuracy([], []).accuracy).toBeNaN();
  });

  it('contentTokenAccuracy takes the argmax per position and skips <pad> and <eos> targets', async () => {
    const logits = tf.tensor3d([
      [
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 1, 0, 0],
      ],
      [
        [0, 0, 0, 1, 0],
        [0, 0, 0, 1, 0],
        [1, 0, 0, 0, 0],
      ],
    ]); // predictions [[3, 4, 2], [3, 3, 0]]
    const target = tf.tensor2d(
      [
        [3, 3, EOS_ID],
        [3, EOS_ID, PAD_ID],
      ],
      undefined,
      'int32',
    );
    const metric = contentTokenAccuracy();
    await expectNoTensorLeak(() => metric.update(logits, target));
    // 3 content tokens (the <eos>s and the <pad> are not counted), 2 right.
    expect(metric.state()).toEqual([2, 3]);
    expect(metric.name).toBe('accuracy');
    expect(contentTokenAccuracy({ name: 'token_acc', padId: 9 }).ignoreIndex).toEqual([9, EOS_ID]);
    tf.dispose([logits, target]);
  });

  it('bayesTokenAccuracy is r + (1 − r)/K', () => {
    expect(bayesTokenAccuracy()).toBeCloseTo(0.9 + 0.1 / 26, 12);
    expect(bayesTokenAccuracy({ correct: 0.5, classes: 2 })).toBe(0.75);
    expectError(
      () => bayesTokenAccuracy({ correct: 1.5 }),
      ConfigError,
      'bayesTokenAccuracy: correct must be a probability in [0, 1], got 1.5',
    );
  });

  it('rejects unpaired inputs', () => {
    expectError(
      () => tokenAccuracy([[1]], []),
      DataError,
      'tokenAccuracy: predicted and reference must hold the same number of sequences, got 1 and 0',
    );
    expectError(
      () => sequenceAccuracy([], [[1]]),
      DataError,
      'sequenceAccuracy: predicted and reference must hold the same number of sequences, got 0 and 1',
    );
  });
});
