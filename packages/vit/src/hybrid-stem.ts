import * as tf from '@tensorflow/tfjs-core';

import {
  ConfigError,
  Conv2d,
  Module,
  ModuleList,
  ShapeError,
  checkPositiveInt,
  formatShape,
  resolveRng,
} from '@ml/core';
import type { Rng } from '@ml/core';

/** Options of {@link HybridStem}. */
export interface HybridStemOptions {
  /** Input channels C. */
  inChannels: number;
  /** Output channels of each stage; every stage halves H and W (3×3 conv, stride 2, padding 1, ReLU). */
  widths: readonly number[];
  rng?: Rng;
  seed?: number;
}

/**
 * A small CNN in front of the patch embedding (the paper's "hybrid" ViT): each stage is a 3×3
 * convolution with stride 2 and padding 1 followed by ReLU, so k stages shrink the image by 2^k and
 * the patch embedding then cuts the feature map into patches of p / 2^k. Parameters:
 * `stages.<i>.weight` [w_i, w_{i−1}, 3, 3] and `stages.<i>.bias`. x [B, H, W, C] → [B, H/2^k, W/2^k, w_k].
 */
export class HybridStem extends Module {
  readonly inChannels: number;
  readonly widths: readonly number[];
  readonly stages: ModuleList<Conv2d>;

  constructor(options: HybridStemOptions) {
    super();
    checkPositiveInt('HybridStem', 'inChannels', options.inChannels);
    options.widths.forEach((w, i) => checkPositiveInt('HybridStem', `widths[${i}]`, w));
    if (options.widths.length === 0)
      throw new ConfigError('HybridStem: widths must name at least one stage, got []');
    const rng = resolveRng(options.rng, options.seed);
    this.inChannels = options.inChannels;
    this.widths = [...options.widths];
    let cin = options.inChannels;
    const convs = this.widths.map((w) => {
      const conv = new Conv2d({ inChannels: cin, outChannels: w, kernelSize: 3, stride: 2, padding: 1, rng });
      cin = w;
      return conv;
    });
    this.stages = this.registerModule('stages', new ModuleList(convs));
  }

  /** Total downsampling factor 2^k. */
  get stride(): number {
    return 2 ** this.widths.length;
  }

  /** Output channels (the last stage's width). */
  get outChannels(): number {
    return this.widths[this.widths.length - 1] as number;
  }

  /** x [B, H, W, C] → [B, H/2^k, W/2^k, w_k]. */
  forward(x: tf.Tensor): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels)
      throw new ShapeError(
        `HybridStem: images must be [B, H, W, ${this.inChannels}] (NHWC), got ${formatShape(x.shape)}`,
      );
    return tf.tidy(() => {
      let y: tf.Tensor = x;
      for (const conv of this.stages.items) y = tf.relu(conv.forward(y)); // [B, H/2^i, W/2^i, w_i]
      return y as tf.Tensor4D;
    });
  }
}
