import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';

/** How a loss combines its per-element values: their mean, their sum, or none (per-element out). */
export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** Throws a ConfigError unless `reduction` is 'mean', 'sum' or 'none'. */
export function checkReduction(where: string, reduction: unknown): asserts reduction is Reduction {
  if (!REDUCTIONS.includes(reduction as Reduction)) {
    throw new ConfigError(`${where}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  }
}

/** Applies `reduction` to per-element losses: a tf.Scalar for 'mean'/'sum', `loss` itself for 'none'. */
export function reduceLoss(loss: tf.Tensor, reduction: Reduction): tf.Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? tf.sum(loss) : tf.mean(loss);
}

/** Throws a ShapeError unless `a` and `b` have the same shape (the element-wise losses do not broadcast). */
export function checkSameShape(
  where: string,
  a: tf.Tensor,
  aName: string,
  b: tf.Tensor,
  bName: string,
): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(
      `${where}: ${bName} must have the shape of ${aName} ${formatShape(a.shape)}, got ${formatShape(b.shape)}`,
    );
  }
}

/**
 * What a loss returns for options of type `O`: a tf.Scalar when the reduction is known to be 'mean'
 * or 'sum' (or left at its default), a tf.Tensor when it is, or may be, 'none'.
 */
export type ReducedLoss<O> = O extends undefined
  ? tf.Scalar
  : 'reduction' extends keyof O
    ? 'none' extends NonNullable<O['reduction' & keyof O]>
      ? tf.Tensor
      : tf.Scalar
    : tf.Scalar;
