import { checkPositiveInt } from '@ml/core';
import { Accuracy, Runner } from '@ml/runner';

import { sequenceAccuracy, tokenAccuracy, type AccuracyCounts } from './accuracy.js';
import { collatePairs, type Seq2SeqBatch, type Seq2SeqPair } from './batch.js';
import type { Seq2SeqTransformer } from './seq2seq-transformer.js';
import { teacherForcedStep } from './teacher-forcing.js';
import { translate, type TranslateOptions } from './translate.js';
import { EOS_ID, PAD_ID } from './vocab.js';

/** What {@link evaluateTranslation} measures on a set of pairs. */
export interface TranslationEvaluation {
  /** Decoded (greedy or beam) tokens right at their position, over all reference tokens. */
  tokenAccuracy: AccuracyCounts;
  /** Decoded sequences equal to their reference. */
  sequenceAccuracy: AccuracyCounts;
  /** Argmax under teacher forcing right at each reference token (`<eos>` and `<pad>` not counted). */
  teacherForcedAccuracy: number;
  /** The decoded ids per source (without `<bos>`/`<eos>`). */
  predictions: number[][];
}

/**
 * The metric that scores seq2seq outputs during training and evaluation: @ml/runner's `Accuracy`
 * over target tokens with `<pad>` and `<eos>` not counted, so that it counts content tokens only
 * (the always-right `<eos>` would lift it above the best any model can do on noisy data). Pass the
 * model's `config.padId` when it is not {@link PAD_ID}.
 */
export function contentTokenAccuracy(options: { name?: string; padId?: number } = {}): Accuracy {
  return new Accuracy({ name: options.name ?? 'accuracy', ignoreIndex: [options.padId ?? PAD_ID, EOS_ID] });
}

/**
 * Evaluates a model on held-out pairs, batch by batch, in eval mode: decodes every source (greedy by
 * default, beam with `beamWidth` > 1) for token and sequence accuracy, and runs the teacher-forced
 * forward pass through `Runner.evaluate` for teacher-forced token accuracy
 * ({@link contentTokenAccuracy}). All three count content tokens only, so they compare directly with
 * each other and with {@link bayesTokenAccuracy}.
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
  const runner = new Runner<Seq2SeqTransformer, Seq2SeqBatch>({
    model,
    step: (batch, { model: m }) => teacherForcedStep(m, batch, { labelSmoothing: 0 }),
    metrics: [contentTokenAccuracy({ padId: model.config.padId })],
  });
  const batches = function* (): Generator<Seq2SeqBatch> {
    for (let start = 0; start < pairs.length; start += batchSize)
      yield collatePairs(pairs.slice(start, start + batchSize)); // freed by the runner
  };
  const logs = await runner.evaluate(batches());
  return {
    tokenAccuracy: tokenAccuracy(decoded.tokens, references),
    sequenceAccuracy: sequenceAccuracy(decoded.tokens, references),
    teacherForcedAccuracy: logs.accuracy as number,
    predictions: decoded.tokens,
  };
}
