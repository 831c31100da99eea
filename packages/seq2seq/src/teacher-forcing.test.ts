import * as tf from '@tensorflow/tfjs-core';
import { Adam, ConfigError, Rng, disposeAll } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { collatePairs, type Seq2SeqPair } from './batch.js';
import { evaluateTranslation } from './evaluate.js';
import { Seq2SeqTransformer } from './seq2seq-transformer.js';
import { teacherForcedLoss, teacherForcedStep } from './teacher-forcing.js';

/** Random sequences over ids 4…11 of length 3–5, whose target is the source itself. */
function copyPairs(n: number, rng: Rng): Seq2SeqPair[] {
  return Array.from({ length: n }, () => {
    const seq = Array.from({ length: 3 + rng.int(3) }, () => 4 + rng.int(8));
    return { src: seq, tgt: seq };
  });
}

describe('teacher-forced training', () => {
  beforeAll(() => onBackend('wasm'));

  it('learns a copy task to ≥ 0.95 greedy token accuracy in a few hundred steps', async () => {
    const rng = new Rng(7);
    const train = copyPairs(512, rng);
    const test = copyPairs(64, rng);
    const model = new Seq2SeqTransformer({
      srcVocabSize: 12,
      tgtVocabSize: 12,
      dModel: 32,
      heads: 2,
      encoderLayers: 1,
      decoderLayers: 1,
      dimFeedforward: 64,
      dropout: 0,
      maxLength: 8,
      seed: 1,
    });
    const optimizer = new Adam(model, { lr: 3e-3, betas: [0.9, 0.98] });
    const losses: number[] = [];
    const before = tf.memory().numTensors;
    for (let step = 0; step < 300; step++) {
      const batch = collatePairs(
        rng
          .permutation(train.length)
          .slice(0, 32)
          .map((i) => train[i] as Seq2SeqPair),
      );
      const loss = optimizer.minimize(() => teacherForcedLoss(model, batch, { labelSmoothing: 0 }));
      losses.push((await loss.data())[0] as number);
      disposeAll([loss, batch]);
    }
    // Adam's moment buffers are the only tensors a training run may add.
    expect(tf.memory().numTensors - before).toBe(2 * model.parameters().length);
    const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(first / last).toBeGreaterThan(10);
    const result = await evaluateTranslation(model, test);
    expect(result.tokenAccuracy.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.teacherForcedAccuracy).toBeGreaterThanOrEqual(0.95);
    optimizer.dispose();
    model.dispose();
  });

  it('teacherForcedStep returns the loss with the logits and targets it was computed from, and leaks nothing', async () => {
    const model = new Seq2SeqTransformer({
      srcVocabSize: 12,
      tgtVocabSize: 10,
      dModel: 16,
      heads: 2,
      encoderLayers: 1,
      decoderLayers: 1,
      dimFeedforward: 16,
      maxLength: 8,
    }).eval();
    const batch = collatePairs([
      { src: [4, 5], tgt: [6] },
      { src: [7, 8, 9], tgt: [6, 7, 8] },
    ]);
    const out = teacherForcedStep(model, batch, { labelSmoothing: 0.2 });
    expect(out.output.shape).toEqual([2, 4, 10]);
    expect(out.target).toBe(batch.tgtOut);
    const loss = teacherForcedLoss(model, batch, { labelSmoothing: 0.2 });
    expect(await out.loss.data()).toEqual(await loss.data());
    tf.dispose([out.loss, out.output, loss]);
    await expectNoTensorLeak(() => {
      const o = teacherForcedStep(model, batch);
      tf.dispose([o.loss, o.output]);
    });
    expect(() => teacherForcedLoss(model, batch, { labelSmoothing: 1.5 })).toThrow(ConfigError);
    expect(() => teacherForcedLoss(model, batch, { labelSmoothing: 1.5 })).toThrow(
      'teacherForcedLoss: labelSmoothing',
    );
    tf.dispose(Object.values(batch));
    model.dispose();
  });
});
