import * as tf from '@tensorflow/tfjs-core';

import { ConfigError } from './errors.js';
import { checkReduction, checkSameShape, reduceLoss } from './reduction.js';
import type { ReducedLoss, Reduction } from './reduction.js';

/** Options of {@link mseLoss} and {@link l1Loss}. */
export interface RegressionLossOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Options of {@link huberLoss}. */
export interface HuberLossOptions extends RegressionLossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

/** Defaults of the regression losses. */
export const DEFAULT_REGRESSION_LOSS_OPTIONS = { reduction: 'mean', delta: 1 } as const;

function elementwise(
  where: string,
  pred: tf.Tensor,
  target: tf.Tensor,
  reduction: Reduction | undefined,
  f: () => tf.Tensor,
): tf.Tensor {
  const r = reduction ?? DEFAULT_REGRESSION_LOSS_OPTIONS.reduction;
  checkReduction(where, r);
  checkSameShape(where, pred, 'pred', target, 'target');
  return tf.tidy(() => reduceLoss(f(), r));
}

/**
 * Mean squared error, like `torch.nn.functional.mse_loss`: (pred − target)², reduced.
 * pred and target share one shape (no broadcasting); a tf.Scalar for 'mean'/'sum', that shape for 'none'.
 */
export function mseLoss<O extends RegressionLossOptions | undefined = undefined>(
  pred: tf.Tensor,
  target: tf.Tensor,
  options?: O,
): ReducedLoss<O> {
  return elementwise('mseLoss', pred, target, options?.reduction, () =>
    tf.squaredDifference(pred, target),
  ) as ReducedLoss<O>;
}

/**
 * Mean absolute error (L1), like `torch.nn.functional.l1_loss`: |pred − target|, reduced.
 * Shapes as {@link mseLoss}.
 */
export function l1Loss<O extends RegressionLossOptions | undefined = undefined>(
  pred: tf.Tensor,
  target: tf.Tensor,
  options?: O,
): ReducedLoss<O> {
  return elementwise('l1Loss', pred, target, options?.reduction, () =>
    tf.abs(tf.sub(pred, target)),
  ) as ReducedLoss<O>;
}

/**
 * Huber loss, like `torch.nn.functional.huber_loss`: ½d² where |d| < delta, delta·(|d| − ½delta)
 * elsewhere, with d = pred − target (default delta 1). Shapes as {@link mseLoss}.
 */
export function huberLoss<O extends HuberLossOptions | undefined = undefined>(
  pred: tf.Tensor,
  target: tf.Tensor,
  options?: O,
): ReducedLoss<O> {
  const delta = options?.delta ?? DEFAULT_REGRESSION_LOSS_OPTIONS.delta;
  if (!(delta > 0 && Number.isFinite(delta)))
    throw new ConfigError(`huberLoss: delta must be a positive number, got ${delta}`);
  return elementwise('huberLoss', pred, target, options?.reduction, () => {
    const a = tf.abs(tf.sub(pred, target));
    // Split |d| into its quadratic part min(|d|, δ) and linear rest: smooth, and exact at |d| = δ.
    const quadratic = tf.minimum(a, delta);
    const linear = tf.sub(a, quadratic);
    return tf.add(tf.mul(0.5, tf.square(quadratic)), tf.mul(delta, linear));
  }) as ReducedLoss<O>;
}
