import * as tf from '@tensorflow/tfjs-core';

import { BatchNorm, ConfigError, checkPositiveInt, disposeAll } from '@ml/core';
import type { Module } from '@ml/core';

import type { Callback, FitContext } from './callback.js';
import { epochOf, isIterable } from './internal/loaders.js';
import { defaultSplitBatch } from './split-batch.js';
import type { Loader, SplitBatch } from './runner-types.js';

/** Options of {@link BatchNormRecalibration}. */
export interface BatchNormRecalibrationOptions {
  /** Training data without augmentation; its first `batches` batches (epoch 0) are used. */
  loader: Loader<unknown>;
  /** How many batches to average over (default 40). */
  batches?: number;
  /** How to run the model (default `model.forward(input)`). */
  forward?: (model: Module, input: tf.Tensor) => tf.Tensor;
  /** How to take the input out of a batch (default: as the Runner's default). */
  splitBatch?: (batch: unknown) => SplitBatch;
}

/** Defaults of {@link BatchNormRecalibrationOptions}. */
export const DEFAULT_BATCH_NORM_RECALIBRATION_OPTIONS = { batches: 40 } as const;

/**
 * Re-estimates the running mean and variance of every BatchNorm in the model before each validation,
 * as the plain average of the batch statistics over `batches` training batches with the weights held
 * fixed ("precise BN", like `torch.optim.swa_utils.update_bn`). The moving averages BatchNorm keeps
 * during training lag behind weights that move fast (Adam, small weights), so evaluation with them
 * can be far worse than the network is; recalibrated statistics describe the current weights.
 * Only the BatchNorm layers run in training mode during the passes (dropout stays off, nothing is
 * learned, no random numbers are drawn), and `num_batches_tracked` is left as it was.
 */
export class BatchNormRecalibration implements Callback {
  readonly loader: Loader<unknown>;
  readonly batches: number;
  readonly #forward: (model: Module, input: tf.Tensor) => tf.Tensor;
  readonly #split: (batch: unknown) => SplitBatch;

  constructor(options: BatchNormRecalibrationOptions) {
    const where = 'BatchNormRecalibration';
    if (!isIterable(options?.loader))
      throw new ConfigError(
        `${where}: loader must be an iterable or async iterable of batches, got ${String(options?.loader)}`,
      );
    this.loader = options.loader;
    this.batches = options.batches ?? DEFAULT_BATCH_NORM_RECALIBRATION_OPTIONS.batches;
    checkPositiveInt(where, 'batches', this.batches);
    this.#forward =
      options.forward ??
      ((model, x) => (model as unknown as { forward(x: tf.Tensor): tf.Tensor }).forward(x));
    this.#split = options.splitBatch ?? defaultSplitBatch;
  }

  async onValidationStart(ctx: FitContext): Promise<void> {
    await this.recalibrate(ctx.model);
  }

  /** Recalibrates `model`'s BatchNorm statistics now; returns the number of batches used. */
  async recalibrate(model: Module): Promise<number> {
    // momentum 0 freezes the statistics on purpose; those layers are left alone.
    const layers = model
      .namedModules()
      .map(([, m]) => m)
      .filter((m): m is BatchNorm => m instanceof BatchNorm && m.runningMean !== null && m.momentum !== 0);
    if (layers.length === 0) return 0;
    const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
    const counts = layers.map((bn) => tf.clone(bn.numBatchesTracked as tf.Variable));
    const before = layers.map((bn) => [
      tf.clone(bn.runningMean as tf.Variable),
      tf.clone(bn.runningVar as tf.Variable),
    ]);
    let done = false;
    let sums = layers.map(
      (bn) =>
        [tf.zerosLike(bn.runningMean as tf.Variable), tf.zerosLike(bn.runningVar as tf.Variable)] as [
          tf.Tensor,
          tf.Tensor,
        ],
    );
    let used = 0;
    try {
      model.eval();
      for (const bn of layers) bn.training = true;
      for await (const batch of epochOf(this.loader, 0)) {
        try {
          // Zeroed buffers make one update leave momentum·(batch statistic) behind (with momentum
          // null, a count of 0 makes the update a plain copy), which is divided back out below.
          for (const bn of layers) {
            if (bn.momentum === null) (bn.numBatchesTracked as tf.Variable).assign(tf.scalar(0, 'int32'));
            else tf.tidy(() => [bn.runningMean, bn.runningVar].forEach((v) => v?.assign(tf.zerosLike(v))));
          }
          const input = this.#split(batch).input;
          tf.dispose(tf.tidy(() => this.#forward(model, input)));
          const next = tf.tidy(() =>
            layers.map((bn, i) => {
              const m = bn.momentum ?? 1;
              const [mean, variance] = sums[i] as [tf.Tensor, tf.Tensor];
              return [
                tf.add(mean, tf.div(bn.runningMean as tf.Variable, m)),
                tf.add(variance, tf.div(bn.runningVar as tf.Variable, m)),
              ] as [tf.Tensor, tf.Tensor];
            }),
          );
          tf.dispose(sums.flat());
          sums = next;
        } finally {
          disposeAll(batch);
        }
        used += 1;
        if (used >= this.batches) break;
      }
      if (used === 0) throw new ConfigError('BatchNormRecalibration: the loader yielded no batches');
      tf.tidy(() =>
        layers.forEach((bn, i) => {
          const [mean, variance] = sums[i] as [tf.Tensor, tf.Tensor];
          bn.runningMean?.assign(tf.div(mean, used));
          bn.runningVar?.assign(tf.div(variance, used));
        }),
      );
      done = true;
    } finally {
      // On failure the half-updated buffers go back to what they were.
      if (!done)
        layers.forEach((bn, i) =>
          [bn.runningMean, bn.runningVar].forEach((v, k) => v?.assign(before[i]?.[k] as tf.Tensor)),
        );
      tf.dispose(before.flat());
      layers.forEach((bn, i) => bn.numBatchesTracked?.assign(counts[i] as tf.Tensor));
      tf.dispose([...counts, ...sums.flat()]);
      for (const [m, training] of modes) m.training = training;
    }
    return used;
  }
}
