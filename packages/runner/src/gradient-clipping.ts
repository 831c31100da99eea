import type * as tf from '@tensorflow/tfjs-core';

import { ConfigError, clipGradNormOnDevice } from '@ml/core';

import type { Callback, FitContext, GradientInfo } from './callback.js';
import { readScalar } from './internal/tensors.js';

/** Options of {@link GradientClipping}. */
export interface GradientClippingOptions {
  /** Largest global L2 norm of the gradients (over all parameters together). */
  maxNorm: number;
}

/**
 * Scales every step's gradients so that their global L2 norm is at most `maxNorm`, like
 * `torch.nn.utils.clip_grad_norm_` (factor min(1, maxNorm / (norm + 1e-6))). `lastNorm` holds the
 * norm before clipping of the latest step.
 */
export class GradientClipping implements Callback {
  readonly maxNorm: number;
  #lastNorm = NaN;

  constructor(options: GradientClippingOptions) {
    const maxNorm = options?.maxNorm;
    if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm <= 0)
      throw new ConfigError(`GradientClipping: maxNorm must be a finite number > 0, got ${String(maxNorm)}`);
    this.maxNorm = maxNorm;
  }

  /** Global gradient norm of the latest step, before clipping (NaN before the first). */
  get lastNorm(): number {
    return this.#lastNorm;
  }

  async onGradients(_ctx: FitContext, { grads }: GradientInfo): Promise<Record<string, tf.Tensor>> {
    const clipped = clipGradNormOnDevice(grads, this.maxNorm);
    try {
      this.#lastNorm = await readScalar(clipped.totalNorm);
    } finally {
      clipped.totalNorm.dispose();
    }
    return clipped.grads;
  }
}
