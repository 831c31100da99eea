import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';
import { checkPositiveInt } from './checks.js';
import { batchNormGradKernel, batchNormKernel } from './internal/kernels/batch-norm.js';
import { jsKernelsActive, runJsKernel } from './internal/kernels/js-kernel.js';
import { Module } from './module.js';
import { noGrad } from './no-grad.js';

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d}. */
export interface BatchNormOptions {
  /** Number of channels C (the last axis of the input). */
  numFeatures: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /**
   * Weight of the current batch in the running statistics: running = (1 − m)·running + m·batch
   * (default 0.1). `null` keeps a cumulative average (m = 1 / numBatchesTracked), as PyTorch.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (ones) and shift `bias` (zeros) (default true). */
  affine?: boolean;
  /**
   * Keep `running_mean`, `running_var` and `num_batches_tracked` buffers and normalise with them in
   * eval mode (default true). Without them both modes use the batch statistics.
   */
  trackRunningStats?: boolean;
}

/** Defaults of {@link BatchNormOptions}: PyTorch's. */
export const DEFAULT_BATCH_NORM_OPTIONS: Required<Omit<BatchNormOptions, 'numFeatures'>> = {
  eps: 1e-5,
  momentum: 0.1,
  affine: true,
  trackRunningStats: true,
};

/**
 * Batch normalisation over every axis but the last (channels), with PyTorch's semantics: training
 * mode normalises with the batch mean and biased variance and updates the running statistics with
 * the unbiased variance; eval mode normalises with the running statistics. State-dict names match
 * PyTorch (`weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`).
 */
export abstract class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;
  readonly runningMean: tf.Variable | null;
  readonly runningVar: tf.Variable | null;
  /** int32 scalar count of training batches seen. */
  readonly numBatchesTracked: tf.Variable | null;

  constructor(where: string, options: BatchNormOptions) {
    super();
    const d = DEFAULT_BATCH_NORM_OPTIONS;
    checkPositiveInt(where, 'numFeatures', options.numFeatures);
    const eps = options.eps ?? d.eps;
    if (!(eps >= 0 && Number.isFinite(eps)))
      throw new ConfigError(`${where}: eps must be a finite number ≥ 0, got ${eps}`);
    const momentum = options.momentum === undefined ? d.momentum : options.momentum;
    if (momentum !== null && !(momentum >= 0 && momentum <= 1)) {
      throw new ConfigError(`${where}: momentum must be in [0, 1] or null, got ${momentum}`);
    }
    const c = options.numFeatures;
    this.numFeatures = c;
    this.eps = eps;
    this.momentum = momentum;
    const affine = options.affine ?? d.affine;
    this.weight = affine ? this.registerParameter('weight', tf.ones([c])) : null;
    this.bias = affine ? this.registerParameter('bias', tf.zeros([c])) : null;
    const track = options.trackRunningStats ?? d.trackRunningStats;
    this.runningMean = track ? this.registerBuffer('running_mean', tf.zeros([c])) : null;
    this.runningVar = track ? this.registerBuffer('running_var', tf.ones([c])) : null;
    this.numBatchesTracked = track ? this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32')) : null;
  }

  /** Throws a ShapeError unless `x` has an accepted rank and C channels last. */
  protected abstract checkInput(x: tf.Tensor): void;

  /** Normalises x [..., C] per channel; see the class docs for train/eval behaviour. */
  forward(x: tf.Tensor): tf.Tensor {
    this.checkInput(x);
    const useBatchStats = this.training || this.runningMean === null;
    const count = x.size / this.numFeatures; // values per channel
    if (useBatchStats && count < 2) {
      throw new ShapeError(
        `${this.constructor.name}: training needs more than 1 value per channel, got input ${formatShape(x.shape)}`,
      );
    }
    if (useBatchStats && x.dtype === 'float32' && jsKernelsActive()) {
      const { y, mean, variance } = fusedBatchNorm(x, this.weight, this.bias, this.eps);
      try {
        if (this.training) tf.tidy(() => this.#updateRunningStats(mean, variance, count));
      } finally {
        tf.dispose([mean, variance]);
      }
      return y;
    }
    return tf.tidy(() => {
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      let y: tf.Tensor;
      if (useBatchStats) {
        const mean = tf.mean(x, axes); // [C]
        const centered = tf.sub(x, mean); // [..., C]
        const variance = tf.mean(tf.square(centered), axes); // [C], biased, as PyTorch normalises
        let scale = tf.rsqrt(tf.add(variance, this.eps)); // [C]
        if (this.weight !== null) scale = tf.mul(scale, this.weight);
        y = tf.mul(centered, scale);
        if (this.training) this.#updateRunningStats(mean, variance, count);
      } else {
        // y = x·scale + shift with scale = w/√(running_var + eps), shift = b − running_mean·scale.
        let scale = tf.rsqrt(tf.add(this.runningVar as tf.Variable, this.eps)); // [C]
        if (this.weight !== null) scale = tf.mul(scale, this.weight);
        y = tf.sub(tf.mul(x, scale), tf.mul(this.runningMean, scale));
      }
      return this.bias === null ? y : tf.add(y, this.bias); // [..., C]
    });
  }

  // Bookkeeping, not part of the model's function: kept off the gradient tape.
  #updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    if (this.runningMean === null || this.runningVar === null || this.numBatchesTracked === null) return;
    const [rm, rv, nbt] = [this.runningMean, this.runningVar, this.numBatchesTracked];
    noGrad(() => {
      nbt.assign(tf.add(nbt, tf.scalar(1, 'int32')));
      const m = this.momentum ?? tf.div(1, tf.cast(nbt, 'float32'));
      const unbiased = tf.mul(variance, count / (count - 1)); // [C]
      rm.assign(tf.add(tf.mul(rm, tf.sub(1, m)), tf.mul(mean, m)));
      rv.assign(tf.add(tf.mul(rv, tf.sub(1, m)), tf.mul(unbiased, m)));
    });
  }
}

/**
 * Batch normalisation with batch statistics as one kernel forward and one backward (wasm and cpu): the
 * op-level form runs ~50 tfjs kernels forward and backward together, and on wasm their dispatch and their
 * passes over x were most of BatchNorm's time. Returns y (x's shape) and the batch mean and biased variance [C],
 * which are off the gradient tape and kept out of every tidy scope: the caller disposes them.
 */
function fusedBatchNorm(
  x: tf.Tensor,
  weight: tf.Variable | null,
  bias: tf.Variable | null,
  eps: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const channels = x.shape[x.rank - 1] as number;
  let stats: tf.Tensor[] = [];
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xIn, w = null, b = null] = args as tf.Tensor[];
    const [y, mean, variance, rstd] = runJsKernel(
      batchNormKernel,
      { x: xIn as tf.Tensor, weight: w, bias: b },
      { channels, eps },
    ) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    stats = [tf.keep(mean), tf.keep(variance)];
    save(w === null ? [xIn as tf.Tensor, mean, rstd] : [xIn as tf.Tensor, mean, rstd, w]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, r, ws = null] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
        const [dx, dw, db] = runJsKernel(
          batchNormGradKernel,
          { dy, x: xs, mean: m, rstd: r, weight: ws },
          { channels },
        ) as [tf.Tensor, tf.Tensor, tf.Tensor];
        if (ws !== null) return [dx, dw, db];
        tf.dispose([dw, db]);
        return [dx];
      },
    };
  });
  const y = weight !== null && bias !== null ? run(x, weight, bias) : run(x);
  const [mean, variance] = stats as [tf.Tensor, tf.Tensor];
  return { y, mean, variance };
}

/**
 * Batch normalisation of [N, C] or [N, L, C] inputs, like `torch.nn.BatchNorm1d` — but channels-last:
 * PyTorch's [N, C, L] is @ml's [N, L, C]. Statistics are per channel over N (and L). Same shape out.
 * Defaults: {@link DEFAULT_BATCH_NORM_OPTIONS}.
 */
export class BatchNorm1d extends BatchNorm {
  constructor(options: BatchNormOptions) {
    super('BatchNorm1d', options);
  }

  protected checkInput(x: tf.Tensor): void {
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 1] !== this.numFeatures) {
      throw new ShapeError(
        `BatchNorm1d: input must be [N, ${this.numFeatures}] or [N, L, ${this.numFeatures}] (channels last), got ${formatShape(x.shape)}`,
      );
    }
  }
}

/**
 * Batch normalisation of NHWC images [N, H, W, C], like `torch.nn.BatchNorm2d` on NCHW (convert
 * PyTorch tensors with `toNHWC`). Statistics are per channel over N, H and W. Same shape out.
 * Defaults: {@link DEFAULT_BATCH_NORM_OPTIONS}.
 */
export class BatchNorm2d extends BatchNorm {
  constructor(options: BatchNormOptions) {
    super('BatchNorm2d', options);
  }

  protected checkInput(x: tf.Tensor): void {
    if (x.rank !== 4 || x.shape[3] !== this.numFeatures) {
      throw new ShapeError(
        `BatchNorm2d: input must be [N, H, W, ${this.numFeatures}] (NHWC), got ${formatShape(x.shape)}`,
      );
    }
  }
}
