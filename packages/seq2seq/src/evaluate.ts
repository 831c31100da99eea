import * as tf from '@tensorflow/tfjs-core';

import { checkPositiveInt } from '@ml/core';

import { sequenceAccuracy, teacherForcedAccuracy, tokenAccuracy, type AccuracyCounts } from './accuracy.js';
import { collatePairs, type Seq2SeqPair } from './batch.js';
import type { Seq2SeqTransformer } from './seq2seq-transformer.js';
import { translate, type TranslateOptions } from './translate.js';
import { EOS_ID } from './vocab.js';

/** What {@link evaluateTranslation} measures on a set of pairs. */
export interface TranslationEvaluation {
  /** Decoded (greedy or beam) tokens right at their position, over all reference tokens. */
  tokenAccuracy: AccuracyCounts;
  /** Decoded sequences equal to their reference. */
  sequenceAccuracy: AccuracyCounts;
  /** Argmax under teacher forcing right at each reference token (`<eos>` and `<pad>` not counted). */
  teacherForcedAccuracy: AccuracyCounts;
  /** The decoded ids per source (without `<bos>`/`<eos>`). */
  predictions: number[][];
}

/**
 * Evaluates a model on held-out pairs, batch by batch, in eval mode: decodes every source (greedy by
 * default, beam with `beamWidth` > 1) for token and sequence accuracy, and runs the teacher-forced
 * forward pass for teacher-forced token accuracy. All three count content tokens only, so they
 * compare directly with each other and with {@link bayesTokenAccuracy}.
 */
export async function evaluateTranslation(
  model: Seq2SeqTransformer,
  pairs: readonly Seq2SeqPair[],
  options: TranslateOptions = {},
): Promise<TranslationEvaluation> {
  const batchSize = options.batchSize ?? 256;
  checkPositiveInt('evaluateTranslation', 'batchSize', batchSize);
  const decoded = await translate(
    model,
    pairs.map((p) => p.src),
    options,
  );
  const references = pairs.map((p) => [...p.tgt]);
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  let total = 0;
  try {
    for (let start = 0; start < pairs.length; start += batchSize) {
      const batch = collatePairs(pairs.slice(start, start + batchSize));
      try {
        const logits = model.forward(batch.src, batch.tgtIn);
        const counts = await teacherForcedAccuracy(logits, batch.tgtOut, {
          ignoreIds: [model.config.padId, EOS_ID],
        });
        logits.dispose();
        correct += counts.correct;
        total += counts.total;
      } finally {
        tf.dispose(Object.values(batch));
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return {
    tokenAccuracy: tokenAccuracy(decoded.tokens, references),
    sequenceAccuracy: sequenceAccuracy(decoded.tokens, references),
    teacherForcedAccuracy: { correct, total, accuracy: total === 0 ? Number.NaN : correct / total },
    predictions: decoded.tokens,
  };
}
