import type * as tf from '@tensorflow/tfjs-core';

import type { Callback, FitContext, GradientInfo } from './callback.js';

/**
 * Stops `fit` at the first batch whose loss is NaN or ±Infinity, before that batch's update touches
 * the weights; the stop reason names the step, epoch and batch. `fit` returns normally with the
 * reason in `stopReason` and the history up to the step before.
 */
export class TerminateOnNaN implements Callback {
  /** Runs before other gradient hooks (clipping a NaN gradient is pointless). */
  readonly order = -100;

  onGradients(ctx: FitContext, { loss, grads }: GradientInfo): Record<string, tf.Tensor> | null {
    if (Number.isFinite(loss)) return grads;
    ctx.stop(
      `TerminateOnNaN: loss is ${loss} at step ${ctx.step + 1} (epoch ${ctx.epoch + 1}, batch ${ctx.batch + 1}); that update was not applied`,
    );
    return null;
  }
}
