import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';
import { Module } from './module.js';

/** Options of {@link Flatten}. */
export interface FlattenOptions {
  /** First axis to merge (default 1: keep the batch axis); negative counts from the end. */
  startDim?: number;
  /** Last axis to merge (default −1: the last axis); negative counts from the end. */
  endDim?: number;
}

/** Defaults of {@link FlattenOptions}. */
export const DEFAULT_FLATTEN_OPTIONS = { startDim: 1, endDim: -1 } as const;

/**
 * Merges axes startDim..endDim into one, like `torch.nn.Flatten`: [N, H, W, C] → [N, H·W·C] by default.
 * Note that on NHWC activations the merged features are ordered (h, w, c), while PyTorch's flatten of
 * NCHW orders them (c, h, w): a PyTorch Linear that follows a flatten needs its weight columns
 * permuted before it can be loaded.
 */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(options: FlattenOptions = {}) {
    super();
    this.startDim = options.startDim ?? DEFAULT_FLATTEN_OPTIONS.startDim;
    this.endDim = options.endDim ?? DEFAULT_FLATTEN_OPTIONS.endDim;
    for (const [name, v] of [
      ['startDim', this.startDim],
      ['endDim', this.endDim],
    ] as const) {
      if (!Number.isInteger(v)) throw new ConfigError(`Flatten: ${name} must be an integer, got ${v}`);
    }
    if (Math.sign(this.startDim) === Math.sign(this.endDim) && this.startDim > this.endDim) {
      throw new ConfigError(
        `Flatten: startDim (${this.startDim}) must not come after endDim (${this.endDim})`,
      );
    }
  }

  /** [..., d_start, …, d_end, ...] → [..., d_start·…·d_end, ...]. */
  forward(x: tf.Tensor): tf.Tensor {
    const rank = Math.max(x.rank, 1);
    const start = this.startDim < 0 ? this.startDim + rank : this.startDim;
    const end = this.endDim < 0 ? this.endDim + rank : this.endDim;
    if (start < 0 || start >= rank || end < 0 || end >= rank || start > end) {
      throw new ShapeError(
        `Flatten: axes ${this.startDim}..${this.endDim} do not fit an input of shape ${formatShape(x.shape)}`,
      );
    }
    const shape = x.rank === 0 ? [1] : x.shape;
    const merged = shape.slice(start, end + 1).reduce((a, b) => a * b, 1);
    return tf.reshape(x, [...shape.slice(0, start), merged, ...shape.slice(end + 1)]);
  }
}
