import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Rng, ShapeError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { beamSearch } from './beam-search.js';
import { greedySearch } from './greedy-search.js';
import type { StepDecoder } from './step-decoder.js';

/** Asserts that `fn` rejects with an instance of `cls` whose message contains `message`. */
async function expectRejects(
  fn: () => Promise<unknown>,
  cls: new (message: string) => Error,
  message: string,
): Promise<void> {
  await expect(fn()).rejects.toThrow(cls);
  await expect(fn()).rejects.toThrow(message);
}

const V = 5; // <pad> <bos> <eos> a=3 b=4
const [A, B] = [3, 4];

/**
 * A decoder defined by a table: next-token probabilities for each (source, prefix) pair, with
 * unlisted prefixes ending at once. Reading the prefix back synchronously is fine in a test.
 */
function tableDecoder(tables: Record<string, number[]>[]): StepDecoder {
  return {
    batchSize: tables.length,
    step(prefix) {
      const rows = prefix.arraySync();
      const logits = rows.map((row, n) => {
        const source = Math.floor((n * tables.length) / rows.length);
        const probs = tables[source]?.[row.slice(1).join(',')] ?? [0, 0, 1, 0, 0];
        return probs.map((p) => Math.log(Math.max(p, 1e-9)));
      });
      return tf.tensor2d(logits, [rows.length, V]);
    },
  };
}

/** Pseudo-random next-token logits as a function of (source, prefix): a stand-in for a model. */
function hashedDecoder(batchSize: number, vocab: number): StepDecoder {
  return {
    batchSize,
    step(prefix) {
      const rows = prefix.arraySync();
      const logits = rows.map((row, n) => {
        const source = Math.floor((n * batchSize) / rows.length);
        const seed = row.reduce((h, id) => (h * 31 + id) % 1_000_003, source + 7);
        const rng = new Rng(seed);
        return Array.from({ length: vocab }, () => rng.normal(0, 2));
      });
      return tf.tensor2d(logits, [rows.length, vocab]);
    },
  };
}

// Source 0: greedy takes 'a' (0.6) then 'a' (0.34) then <eos>: p = 0.204; the beam finds
// 'b' (0.4) then <eos> (0.9): p = 0.36. Source 1 is unambiguous: 'b b <eos>'.
const TRAP: Record<string, number[]>[] = [
  {
    '': [0, 0, 0, 0.6, 0.4],
    '3': [0, 0, 0.33, 0.34, 0.33],
    '3,3': [0, 0, 1, 0, 0],
    '4': [0, 0, 0.9, 0.05, 0.05],
  },
  { '': [0, 0, 0, 0.1, 0.9], '4': [0, 0, 0.1, 0, 0.9], '4,4': [0, 0, 0.99, 0.01, 0] },
];

describe('greedySearch and beamSearch', () => {
  beforeAll(() => onBackend('cpu'));

  it('greedy follows the most probable token per step, batched, and stops at <eos>', async () => {
    const r = await greedySearch(tableDecoder(TRAP));
    expect(r.tokens).toEqual([
      [A, A],
      [B, B],
    ]);
    expect(r.finished).toEqual([true, true]);
    expect(r.scores[0]).toBeCloseTo(Math.log(0.6 * 0.34 * 1), 5);
    expect(r.scores[1]).toBeCloseTo(Math.log(0.9 * 0.9 * 0.99), 5);
  });

  it('beam search beats greedy on a hand-built trap and agrees where greedy is optimal', async () => {
    for (const lengthPenalty of [0, 1]) {
      const r = await beamSearch(tableDecoder(TRAP), { beamWidth: 2, lengthPenalty });
      expect(r.tokens).toEqual([[B], [B, B]]);
      expect(r.scores[0]).toBeCloseTo(Math.log(0.4 * 0.9), 5);
      expect(r.scores[0]).toBeGreaterThan(Math.log(0.204));
      expect(r.finished).toEqual([true, true]);
    }
  });

  it('beam width 1 gives exactly the greedy result', async () => {
    const decoder = hashedDecoder(6, 9);
    const greedy = await greedySearch(decoder, { maxLength: 7 });
    for (const lengthPenalty of [0, 0.6, 1]) {
      const beam = await beamSearch(decoder, { beamWidth: 1, lengthPenalty, maxLength: 7 });
      expect(beam.tokens).toEqual(greedy.tokens);
      expect(beam.finished).toEqual(greedy.finished);
      beam.scores.forEach((s, i) => expect(s).toBeCloseTo(greedy.scores[i] as number, 4));
    }
    // The hashed decoder is not degenerate: some sequences end early, some run to maxLength.
    expect(greedy.finished).toContain(true);
    expect(new Set(greedy.tokens.map((t) => t.length)).size).toBeGreaterThan(1);
  });

  it('wider beams never score worse than greedy (raw log-probability)', async () => {
    const decoder = hashedDecoder(8, 7);
    const greedy = await greedySearch(decoder, { maxLength: 6 });
    const beam = await beamSearch(decoder, { beamWidth: 4, lengthPenalty: 0, maxLength: 6 });
    beam.scores.forEach((s, i) => expect(s).toBeGreaterThanOrEqual((greedy.scores[i] as number) - 1e-6));
    expect(beam.scores.some((s, i) => s > (greedy.scores[i] as number) + 1e-3)).toBe(true);
  });

  it('stops at maxLength and reports unfinished sequences', async () => {
    const loop = [{ '': [0, 0, 0, 1, 0], '3': [0, 0, 0, 1, 0], '3,3': [0, 0, 0, 1, 0] }];
    expect(await greedySearch(tableDecoder(loop), { maxLength: 3 })).toMatchObject({
      tokens: [[A, A, A]],
      finished: [false],
    });
    expect(await beamSearch(tableDecoder(loop), { maxLength: 3, beamWidth: 3 })).toMatchObject({
      tokens: [[A, A, A]],
      finished: [false],
    });
  });

  it('leaks no tensors', async () => {
    const decoder = hashedDecoder(3, 6);
    await expectNoTensorLeak(() => greedySearch(decoder, { maxLength: 5 }));
    await expectNoTensorLeak(() => beamSearch(decoder, { maxLength: 5, beamWidth: 3 }));
  });

  it('rejects bad options and a decoder that returns the wrong shape', async () => {
    const decoder = hashedDecoder(2, 6);
    await expectRejects(
      () => beamSearch(decoder, { beamWidth: 0 }),
      ConfigError,
      'beamSearch: beamWidth must be a positive integer, got 0',
    );
    await expectRejects(
      () => greedySearch(decoder, { maxLength: 0 }),
      ConfigError,
      'greedySearch: maxLength must be a positive integer, got 0',
    );
    await expectRejects(
      () => beamSearch(decoder, { lengthPenalty: Number.NaN }),
      ConfigError,
      'beamSearch: lengthPenalty must be a finite number, got NaN',
    );
    const broken: StepDecoder = { batchSize: 2, step: () => tf.zeros<tf.Rank.R2>([3, 6]) };
    const before = tf.memory().numTensors;
    await expectRejects(
      () => greedySearch(broken),
      ShapeError,
      'greedySearch: decoder.step must return logits [2, V], got [3, 6]',
    );
    await expectRejects(
      () => beamSearch(broken, { beamWidth: 2 }),
      ShapeError,
      'beamSearch: decoder.step must return logits [4, V] for 4 prefixes, got [3, 6]',
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
