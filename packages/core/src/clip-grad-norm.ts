import * as tf from '@tensorflow/tfjs-core';

import { ConfigError } from './errors.js';

/** What {@link clipGradNorm} returns. */
export interface ClipGradNormResult {
  /** The gradients scaled by min(1, maxNorm / (totalNorm + 1e-6)): new tensors, the caller disposes them. */
  grads: Record<string, tf.Tensor>;
  /** The global L2 norm of the gradients before clipping. */
  totalNorm: number;
}

function checkMaxNorm(where: string, maxNorm: unknown): void {
  if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm <= 0) {
    throw new ConfigError(`${where}: maxNorm must be a finite number > 0, got ${String(maxNorm)}`);
  }
}

/**
 * The clipping of {@link clipGradNorm} without reading the norm back: returns the clipped gradients
 * and the norm as a scalar tensor (both owned by the caller). Used by `Optimizer.minimize` so a step
 * never waits on the device.
 */
export function clipGradNormOnDevice(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; totalNorm: tf.Scalar } {
  checkMaxNorm('clipGradNorm', maxNorm);
  const names = Object.keys(grads);
  const [totalNorm, ...clipped] = tf.tidy<tf.Tensor[]>(() => {
    const list = names.map((n) => grads[n] as tf.Tensor);
    if (list.length === 0) return [tf.scalar(0)];
    const sumSq = tf.addN(list.map((g) => tf.sum(tf.square(g)))); // []
    const norm = tf.sqrt(sumSq); // []
    // torch.nn.utils.clip_grad_norm_: coef = maxNorm / (norm + 1e-6), clamped to at most 1.
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1); // []
    return [norm, ...list.map((g) => tf.mul(g, coef))];
  });
  return {
    grads: Object.fromEntries(names.map((n, i) => [n, clipped[i] as tf.Tensor])),
    totalNorm: totalNorm as tf.Scalar,
  };
}

/**
 * Scales gradients so that their global L2 norm (over all tensors together) is at most `maxNorm`, like
 * `torch.nn.utils.clip_grad_norm_`: every gradient is multiplied by min(1, maxNorm / (norm + 1e-6)),
 * so gradients already within the bound come back unchanged. Returns new gradient tensors (the caller
 * disposes them and still owns the inputs) and the norm before clipping.
 *
 * The norm is read back as a number (asynchronously, so GPU backends are not stalled); inside a
 * training step `optimizer.minimize(lossFn, { clipNorm })` clips without reading anything back.
 * Invalid `maxNorm` throws synchronously.
 */
export function clipGradNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Promise<ClipGradNormResult> {
  const out = clipGradNormOnDevice(grads, maxNorm);
  return out.totalNorm.data().then((d) => {
    out.totalNorm.dispose();
    return { grads: out.grads, totalNorm: d[0] as number };
  });
}
