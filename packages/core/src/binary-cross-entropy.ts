import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, formatShape } from './errors.js';
import { checkReduction, checkSameShape, reduceLoss } from './reduction.js';
import type { ReducedLoss, Reduction } from './reduction.js';

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BinaryCrossEntropyOptions {
  /**
   * Weight of the positive term, one per class on the last axis ([C], or a number for all): >1 favours
   * recall (PyTorch's `pos_weight`). Default: none (1).
   */
  posWeight?: tf.Tensor | number;
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Defaults of {@link BinaryCrossEntropyOptions}. */
export const DEFAULT_BINARY_CROSS_ENTROPY_OPTIONS = { reduction: 'mean' } as const;

/**
 * Binary cross-entropy on logits, like `torch.nn.functional.binary_cross_entropy_with_logits`:
 * −[p·t·log σ(x) + (1 − t)·log(1 − σ(x))] with p = posWeight, computed stably as
 * (1 − t)·x + (1 + (p − 1)·t)·softplus(−x). logits and target (in [0, 1]) share one shape; a tf.Scalar
 * for 'mean'/'sum', that shape for 'none'.
 */
export function binaryCrossEntropyWithLogits<O extends BinaryCrossEntropyOptions | undefined = undefined>(
  logits: tf.Tensor,
  target: tf.Tensor,
  options?: O,
): ReducedLoss<O> {
  const where = 'binaryCrossEntropyWithLogits';
  const reduction = options?.reduction ?? DEFAULT_BINARY_CROSS_ENTROPY_OPTIONS.reduction;
  checkReduction(where, reduction);
  checkSameShape(where, logits, 'logits', target, 'target');
  const posWeight = options?.posWeight;
  const last = logits.shape[logits.rank - 1] ?? 1;
  if (
    posWeight instanceof tf.Tensor &&
    !(posWeight.rank === 1 && (posWeight.shape[0] === last || posWeight.shape[0] === 1))
  ) {
    throw new ShapeError(
      `${where}: posWeight must be [${last}] (one per class on the last axis), got ${formatShape(posWeight.shape)}`,
    );
  }
  return tf.tidy(() => {
    const negative = tf.mul(tf.sub(1, target), logits); // (1 − t)·x
    const logSigmoidNeg = tf.softplus(tf.neg(logits)); // −log σ(x)
    const scale = posWeight === undefined ? null : tf.add(1, tf.mul(tf.sub(posWeight, 1), target)); // 1 + (p − 1)·t
    const loss = tf.add(negative, scale === null ? logSigmoidNeg : tf.mul(scale, logSigmoidNeg));
    return reduceLoss(loss, reduction);
  }) as ReducedLoss<O>;
}
