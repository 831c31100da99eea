import type * as tf from '@tensorflow/tfjs-core';

/**
 * A metric that accumulates over batches, without building tensors from
 * tensors: `update` reduces each batch on the backend to a few sums and reads them with `data()`;
 * `result` combines the sums of every batch since the last `reset`, so the value of an epoch is exact
 * whatever the batch sizes (not a mean of batch means).
 *
 * Metrics never dispose their inputs. `state`/`setState` expose the running sums so a checkpoint taken
 * in the middle of an epoch resumes them.
 */
export interface Metric {
  /** The key in logs, history and files: `accuracy`, `top5_accuracy`, `mse`, … (`val_` is prefixed for validation). */
  readonly name: string;
  /** True when larger is better (accuracy, R²); early stopping and best checkpoints use it for mode 'auto'. */
  readonly higherIsBetter: boolean;
  /** Adds one batch: `output` is what the model produced, `target` what it should have. */
  update(output: tf.Tensor, target: tf.Tensor): Promise<void>;
  /** The value over every batch since the last reset (NaN before the first batch). */
  result(): number;
  /** Forgets every batch. */
  reset(): void;
  /** The running sums, for checkpoints. */
  state(): number[];
  /** Restores sums from {@link Metric.state}. */
  setState(state: readonly number[]): void;
}
