import { ConfigError, DataError } from '@ml/core';

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

/** Options of {@link bayesTokenAccuracy}. */
export interface BayesAccuracyOptions {
  /** Probability r that a target token is the clean one (default 0.9). */
  correct?: number;
  /** Number of target classes a corrupted token is drawn from uniformly, the clean one included (default 26). */
  classes?: number;
}

/** Defaults of {@link BayesAccuracyOptions}: the toy translation task's noise over its 26 letters. */
export const DEFAULT_BAYES_ACCURACY_OPTIONS = { correct: 0.9, classes: 26 } as const;

/**
 * The best token accuracy any model can reach on noisy data (the toy translation task's): predicting the clean token
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
