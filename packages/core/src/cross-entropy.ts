import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, DataError, ShapeError, formatShape } from './errors.js';
import { checkIndexValues, plainIndicesToTensor } from './index-checks.js';
import type { PlainIndices } from './index-checks.js';
import { checkReduction } from './reduction.js';
import type { ReducedLoss, Reduction } from './reduction.js';
import { sameShape } from './tensor-utils.js';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Class-id targets equal to this are skipped: no loss, no gradient, not counted by 'mean' (default −100). */
  ignoreIndex?: number;
  /** Mix the target with the uniform distribution: q = (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /** Per-class rescaling weights [C]. */
  weight?: tf.Tensor;
}

/** Defaults of {@link CrossEntropyOptions}: PyTorch's. */
export const DEFAULT_CROSS_ENTROPY_OPTIONS = {
  ignoreIndex: -100,
  labelSmoothing: 0,
  reduction: 'mean',
} as const;

/**
 * Checks class-id targets against the number of classes by reading them (asynchronously): throws
 * the DataError {@link crossEntropy} would throw for the same labels given as a plain array.
 */
export async function checkLabels(
  target: tf.Tensor,
  numClasses: number,
  options: { ignoreIndex?: number } = {},
): Promise<void> {
  const ignoreIndex = options.ignoreIndex ?? DEFAULT_CROSS_ENTROPY_OPTIONS.ignoreIndex;
  checkIndexValues(
    'crossEntropy',
    'label',
    await target.data(),
    numClasses,
    labelCheck(numClasses, ignoreIndex),
  );
}

function labelCheck(numClasses: number, ignoreIndex: number): { skip: number; context: string } {
  return { skip: ignoreIndex, context: `(numClasses ${numClasses}, ignoreIndex ${ignoreIndex})` };
}

/**
 * Cross-entropy of logits against class ids or class probabilities, with PyTorch's semantics
 * (`torch.nn.functional.cross_entropy`), computed stably through logSoftmax. Classes are on the last
 * axis (PyTorch puts them on axis 1):
 *
 * - logits [N, C] or [N, T, C];
 * - target int32 class ids [N] / [N, T] (a tensor or a plain array), or float probabilities of the
 *   logits' shape.
 *
 * With class ids, each position's loss is −Σ_c w_c·q_c·log p_c with q = (1 − ε)·onehot + ε/C, ignored
 * positions count 0, and 'mean' divides by the summed weight w[target] of the positions not ignored
 * (their count without `weight`). With probabilities, q = (1 − ε)·target + ε/C and 'mean' divides by
 * the number of positions. Returns a tf.Scalar for 'mean'/'sum', [N] / [N, T] for 'none'.
 *
 * Label values: plain-array targets are checked on every call and a label outside [0, C) that is not
 * `ignoreIndex` throws a DataError naming it and C. Tensor targets are not read on this hot path;
 * an out-of-range label there makes the loss NaN (so it cannot train silently), and
 * `await checkLabels(target, C)` gives the DataError.
 */
export function crossEntropy<O extends CrossEntropyOptions | undefined = undefined>(
  logits: tf.Tensor,
  target: tf.Tensor | PlainIndices,
  options?: O,
): ReducedLoss<O> {
  const d = DEFAULT_CROSS_ENTROPY_OPTIONS;
  const ignoreIndex = options?.ignoreIndex ?? d.ignoreIndex;
  const eps = options?.labelSmoothing ?? d.labelSmoothing;
  const reduction = options?.reduction ?? d.reduction;
  const weight = options?.weight;
  checkReduction('crossEntropy', reduction);
  if (!Number.isInteger(ignoreIndex))
    throw new ConfigError(`crossEntropy: ignoreIndex must be an integer, got ${ignoreIndex}`);
  if (!(eps >= 0 && eps <= 1))
    throw new ConfigError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (logits.rank !== 2 && logits.rank !== 3) {
    throw new ShapeError(
      `crossEntropy: logits must be [N, C] or [N, T, C], got ${formatShape(logits.shape)}`,
    );
  }
  const c = logits.shape[logits.rank - 1] as number;
  const lead = logits.shape.slice(0, -1);
  if (weight !== undefined && (weight.rank !== 1 || weight.shape[0] !== c)) {
    throw new ShapeError(
      `crossEntropy: weight must be [${c}] (one per class), got ${formatShape(weight.shape)}`,
    );
  }

  let plain: tf.Tensor | null = null;
  let t: tf.Tensor;
  if (target instanceof tf.Tensor) {
    t = target;
  } else {
    plain = plainIndicesToTensor('crossEntropy', 'label', target, c, labelCheck(c, ignoreIndex));
    t = plain;
  }
  const probabilities = sameShape(t.shape, logits.shape);
  if (!probabilities && !sameShape(t.shape, lead)) {
    plain?.dispose();
    throw new ShapeError(
      `crossEntropy: target must be class ids of shape ${formatShape(lead)} or probabilities of shape ${formatShape(logits.shape)}, got ${formatShape(t.shape)}`,
    );
  }
  if (probabilities ? t.dtype !== 'float32' : t.dtype !== 'int32') {
    plain?.dispose();
    throw new DataError(
      `crossEntropy: ${probabilities ? 'probability targets must be float32' : 'class-id targets must be int32'}, got ${t.dtype}`,
    );
  }

  const out = tf.tidy(() => {
    const m = logits.size / c;
    const logp = tf.logSoftmax(tf.reshape(logits, [m, c])); // [M, C]
    const wlogp = weight === undefined ? logp : tf.mul(logp, weight); // [M, C]: w_c·log p_c
    let perRow: tf.Tensor; // [M]
    let denominator: tf.Tensor | number;
    if (probabilities) {
      let q = tf.reshape(t, [m, c]); // [M, C]
      if (eps > 0) q = tf.add(tf.mul(q, 1 - eps), eps / c);
      perRow = tf.neg(tf.sum(tf.mul(q, wlogp), 1));
      denominator = m;
    } else {
      const ids = tf.reshape(t, [m]); // [M] int32
      const kept = tf.notEqual(ids, tf.scalar(ignoreIndex, 'int32')); // [M] bool
      const onehot = tf.oneHot(tf.where(kept, ids, tf.zerosLike(ids)), c); // [M, C]; ignored rows point at class 0, masked below
      const keptF = tf.cast(kept, 'float32'); // [M]
      // −Σ_c w_c·((1 − ε)·onehot + ε/C)·log p_c, split so the smoothing term needs no [M, C] target.
      let nll = tf.neg(tf.sum(tf.mul(onehot, wlogp), 1)); // [M]: −w_y·log p_y
      if (eps > 0) nll = tf.add(tf.mul(nll, 1 - eps), tf.mul(tf.neg(tf.sum(wlogp, 1)), eps / c));
      perRow = tf.mul(nll, keptF);
      // Tensor labels are never read here: an out-of-range one poisons the loss with NaN instead.
      const bad = tf.logicalAnd(kept, tf.logicalOr(tf.less(ids, 0), tf.greaterEqual(ids, c))); // [M]
      perRow = tf.where(bad, tf.fill([m], Number.NaN), perRow);
      const rowWeight = weight === undefined ? keptF : tf.mul(tf.sum(tf.mul(onehot, weight), 1), keptF); // [M]: w_y
      denominator = tf.sum(rowWeight);
    }
    if (reduction === 'none') return tf.reshape(perRow, lead);
    const total = tf.sum(perRow);
    return reduction === 'sum' ? total : tf.div(total, denominator);
  });
  plain?.dispose();
  return out as ReducedLoss<O>;
}
