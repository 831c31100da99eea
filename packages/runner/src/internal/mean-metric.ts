import type * as tf from '@tensorflow/tfjs-core';

import type { Metric } from '../metric.js';
import { checkState } from './metric-helpers.js';

/**
 * A metric whose value is a running `sum / count` over batches (accuracy: correct / seen; MSE: squared
 * errors / elements). Subclasses reduce each batch in `update` and pass the two figures to `accumulate`;
 * `result`, `reset`, `state` and `setState` are shared. State is `[sum, count]`.
 */
export abstract class MeanMetric implements Metric {
  abstract readonly name: string;
  abstract readonly higherIsBetter: boolean;
  /** Class name used in error messages. */
  protected readonly where: string;
  #sum = 0;
  #count = 0;

  protected constructor(where: string) {
    this.where = where;
  }

  abstract update(output: tf.Tensor, target: tf.Tensor): Promise<void>;

  /** Adds one batch's sum and count. */
  protected accumulate(sum: number, count: number): void {
    this.#sum += sum;
    this.#count += count;
  }

  result(): number {
    return this.#count === 0 ? NaN : this.#sum / this.#count;
  }

  reset(): void {
    this.#sum = 0;
    this.#count = 0;
  }

  state(): number[] {
    return [this.#sum, this.#count];
  }

  setState(state: readonly number[]): void {
    checkState(this.where, state, 2);
    [this.#sum, this.#count] = state as [number, number];
  }
}
