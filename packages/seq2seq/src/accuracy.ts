import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, DataError, ShapeError, formatShape } from '@ml/core';

import { PAD_ID } from './vocab.js';

/** A count-based accuracy; sum `correct` and `total` over batches to accumulate. */
export interface AccuracyCounts {
  correct: number;
  total: number;
  /** correct / total (NaN when total is 0). */
  accuracy: number;
}

function counts(correct: number, total: number): AccuracyCounts {
  return { correct, total, accuracy: total === 0 ? Number.NaN : correct / total };
}

function checkPaired(
  where: string,
  predicted: readonly (readonly number[])[],
  reference: readonly (readonly number[])[],
): void {
  if (predicted.length !== reference.length) {
    throw new DataError(
      `${where}: predicted and reference must hold the same number of sequences, got ${predicted.length} and ${reference.length}`,
    );
  }
}

/**
 * Position-wise token accuracy of decoded sequences: each reference token counts once and is right
 * when the prediction has the same id at the same position (a prediction that stops early gets the
 * missing positions wrong; extra predicted tokens are not counted). Compare content tokens, without
 * `<bos>`/`<eos>`, as {@link greedySearch} returns them.
 */
export function tokenAccuracy(
  predicted: readonly (readonly number[])[],
  reference: readonly (readonly number[])[],
): AccuracyCounts {
  checkPaired('tokenAccuracy', predicted, reference);
  let correct = 0;
  let total = 0;
  reference.forEach((ref, i) => {
    const pred = predicted[i] as readonly number[];
    ref.forEach((id, j) => {
      if (pred[j] === id) correct++;
    });
    total += ref.length;
  });
  return counts(correct, total);
}

/** Exact-match accuracy: a sequence is right when every token matches and the lengths agree. */
export function sequenceAccuracy(
  predicted: readonly (readonly number[])[],
  reference: readonly (readonly number[])[],
): AccuracyCounts {
  checkPaired('sequenceAccuracy', predicted, reference);
  let correct = 0;
  reference.forEach((ref, i) => {
    const pred = predicted[i] as readonly number[];
    if (pred.length === ref.length && ref.every((id, j) => pred[j] === id)) correct++;
  });
  return counts(correct, reference.length);
}

/** Options of {@link teacherForcedAccuracy}. */
export interface TeacherForcedAccuracyOptions {
  /** Target ids that are not counted (default `[PAD_ID]`; add `EOS_ID` to score content tokens only). */
  ignoreIds?: readonly number[];
}

/**
 * Teacher-forced token accuracy: argmax of `logits` [B, T, V] against `target` int32 [B, T], skipping
 * `ignoreIds`. Counts are computed on the device; only two numbers are read back.
 */
export async function teacherForcedAccuracy(
  logits: tf.Tensor,
  target: tf.Tensor,
  options: TeacherForcedAccuracyOptions = {},
): Promise<AccuracyCounts> {
  const ignoreIds = options.ignoreIds ?? [PAD_ID];
  if (logits.rank !== target.rank + 1 || target.shape.some((d, i) => d !== logits.shape[i])) {
    throw new ShapeError(
      `teacherForcedAccuracy: logits must be target's shape plus a class axis, got logits ${formatShape(logits.shape)} and target ${formatShape(target.shape)}`,
    );
  }
  if (ignoreIds.some((id) => !Number.isInteger(id)))
    throw new ConfigError(`teacherForcedAccuracy: ignoreIds must be integers, got [${ignoreIds.join(', ')}]`);
  const [hit, kept] = tf.tidy(() => {
    const ids = tf.cast(target, 'int32');
    let keep = tf.cast(tf.onesLike(ids), 'bool');
    for (const id of ignoreIds) keep = tf.logicalAnd(keep, tf.notEqual(ids, id));
    const right = tf.logicalAnd(keep, tf.equal(tf.argMax(logits, -1), ids)); // [B, T]
    return [tf.sum(tf.cast(right, 'int32')), tf.sum(tf.cast(keep, 'int32'))];
  });
  const [c, n] = await Promise.all([hit.data(), kept.data()]);
  tf.dispose([hit, kept]);
  return counts(c[0] as number, n[0] as number);
}

/** Options of {@link bayesTokenAccuracy}. */
export interface BayesAccuracyOptions {
  /** Probability that a target token is the clean one (seed 000's r, default 0.9). */
  correct?: number;
  /** Number of target classes a corrupted token is drawn from uniformly, the clean one included (default 26). */
  classes?: number;
}

/** Defaults of {@link BayesAccuracyOptions}: seed 000's noise over its 26 letters. */
export const DEFAULT_BAYES_ACCURACY_OPTIONS = { correct: 0.9, classes: 26 } as const;

/**
 * The best token accuracy any model can reach on seed 000's noisy data: predicting the clean token
 * is right with probability r + (1 − r)/K (0.9 + 0.1/26 ≈ 0.9038 for the defaults).
 */
export function bayesTokenAccuracy(options: BayesAccuracyOptions = {}): number {
  const r = options.correct ?? DEFAULT_BAYES_ACCURACY_OPTIONS.correct;
  const k = options.classes ?? DEFAULT_BAYES_ACCURACY_OPTIONS.classes;
  if (!(r >= 0 && r <= 1))
    throw new ConfigError(`bayesTokenAccuracy: correct must be a probability in [0, 1], got ${String(r)}`);
  if (!Number.isInteger(k) || k < 1)
    throw new ConfigError(`bayesTokenAccuracy: classes must be a positive integer, got ${String(k)}`);
  return r + (1 - r) / k;
}
