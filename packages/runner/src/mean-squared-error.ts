import * as tf from '@tensorflow/tfjs-core';

import { MeanMetric } from './internal/mean-metric.js';
import { alignTarget, readAndDispose } from './internal/metric-helpers.js';

/** Options of {@link MeanSquaredError} and {@link RootMeanSquaredError}. */
export interface SquaredErrorOptions {
  /** Key in logs (default 'mse' / 'rmse'). */
  name?: string;
}

// Sum of squared errors and element count over batches; MSE and RMSE differ only in the final step.
abstract class SquaredErrorSum extends MeanMetric {
  readonly higherIsBetter = false;

  async update(output: tf.Tensor, target: tf.Tensor): Promise<void> {
    const sse = tf.tidy(() => {
      const t = alignTarget(this.where, output, target); // output's shape, float32
      return tf.sum(tf.square(tf.sub(tf.cast(output, 'float32'), t)));
    });
    const [value] = await readAndDispose([sse]);
    this.accumulate(value?.[0] ?? 0, output.size);
  }
}

/** Mean squared error over every element of every batch: Σ(output − target)² / count. Same-size tensors. */
export class MeanSquaredError extends SquaredErrorSum {
  readonly name: string;

  constructor(options: SquaredErrorOptions = {}) {
    super('MeanSquaredError');
    this.name = options.name ?? 'mse';
  }
}

/** Root mean squared error over every element of every batch (the root of the pooled MSE, not a mean of roots). */
export class RootMeanSquaredError extends SquaredErrorSum {
  readonly name: string;

  constructor(options: SquaredErrorOptions = {}) {
    super('RootMeanSquaredError');
    this.name = options.name ?? 'rmse';
  }

  override result(): number {
    return Math.sqrt(super.result()); // NaN before the first batch
  }
}
