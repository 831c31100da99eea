import * as tf from '@tensorflow/tfjs-core';

import { alignTarget, checkState, readAndDispose } from './internal/metric-helpers.js';
import type { Metric } from './metric.js';

/** Options of {@link MeanSquaredError} and {@link RootMeanSquaredError}. */
export interface SquaredErrorOptions {
  /** Key in logs (default 'mse' / 'rmse'). */
  name?: string;
}

// Sum of squared errors and element count over batches; MSE and RMSE differ only in the final step.
abstract class SquaredErrorSum implements Metric {
  abstract readonly name: string;
  readonly higherIsBetter = false;
  protected sse = 0;
  protected count = 0;

  async update(output: tf.Tensor, target: tf.Tensor): Promise<void> {
    const sse = tf.tidy(() => {
      const t = alignTarget(this.constructor.name, output, target); // output's shape, float32
      return tf.sum(tf.square(tf.sub(tf.cast(output, 'float32'), t)));
    });
    const [value] = await readAndDispose([sse]);
    this.sse += value?.[0] ?? 0;
    this.count += output.size;
  }

  abstract result(): number;

  reset(): void {
    this.sse = 0;
    this.count = 0;
  }

  state(): number[] {
    return [this.sse, this.count];
  }

  setState(state: readonly number[]): void {
    checkState(this.constructor.name, state, 2);
    [this.sse, this.count] = state as [number, number];
  }
}

/** Mean squared error over every element of every batch: Σ(output − target)² / count. Same-size tensors. */
export class MeanSquaredError extends SquaredErrorSum {
  readonly name: string;

  constructor(options: SquaredErrorOptions = {}) {
    super();
    this.name = options.name ?? 'mse';
  }

  result(): number {
    return this.count === 0 ? NaN : this.sse / this.count;
  }
}

/** Root mean squared error over every element of every batch (the root of the pooled MSE, not a mean of roots). */
export class RootMeanSquaredError extends SquaredErrorSum {
  readonly name: string;

  constructor(options: SquaredErrorOptions = {}) {
    super();
    this.name = options.name ?? 'rmse';
  }

  result(): number {
    return this.count === 0 ? NaN : Math.sqrt(this.sse / this.count);
  }
}
