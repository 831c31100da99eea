import * as tf from '@tensorflow/tfjs-core';

import {
  BatchNorm2d,
  Conv2d,
  Flatten,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  ShapeError,
  checkPositiveInt,
  formatShape,
  resolveRng,
} from '@ml/core';
import type { Rng } from '@ml/core';

/** Options of {@link Conv4}. */
export interface Conv4Options {
  /** Image channels (default 1). */
  inChannels?: number;
  /** Channels of every block (default 64). */
  channels?: number;
  /** Square image size (default 28): fixes the feature size. */
  imageSize?: number;
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link Conv4Options}: the usual few-shot Conv-4 on 28×28 grey images. */
export const DEFAULT_CONV4_OPTIONS = { inChannels: 1, channels: 64, imageSize: 28 } as const;

/**
 * The Conv-4 few-shot backbone: four blocks of conv 3×3 (padding 1) → batch norm → ReLU →
 * max-pool 2, then flatten. Images [N, H, W, C] (NHWC) → features [N, featureSize]; on 28×28
 * inputs the map shrinks 28 → 14 → 7 → 3 → 1, so featureSize = channels = 64.
 */
export class Conv4 extends Module {
  readonly inChannels: number;
  readonly imageSize: number;
  /** Length of the feature vector: channels · side², side = imageSize halved (floored) four times. */
  readonly featureSize: number;
  readonly blocks: Sequential;

  constructor(options: Conv4Options = {}) {
    super();
    const o = { ...DEFAULT_CONV4_OPTIONS, ...options };
    checkPositiveInt('Conv4', 'inChannels', o.inChannels);
    checkPositiveInt('Conv4', 'channels', o.channels);
    checkPositiveInt('Conv4', 'imageSize', o.imageSize);
    let side = o.imageSize;
    for (let i = 0; i < 4; i++) side = Math.floor(side / 2);
    if (side < 1)
      throw new ShapeError(`Conv4: imageSize must be ≥ 16 (four 2× poolings), got ${o.imageSize}`);
    const rng = resolveRng(o.rng, o.seed);
    const layers = [];
    for (let i = 0; i < 4; i++) {
      layers.push(
        new Conv2d({
          inChannels: i === 0 ? o.inChannels : o.channels,
          outChannels: o.channels,
          kernelSize: 3,
          padding: 1,
          rng,
        }),
        new BatchNorm2d({ numFeatures: o.channels }),
        new ReLU(),
        new MaxPool2d({ kernelSize: 2 }),
      );
    }
    layers.push(new Flatten());
    this.blocks = this.registerModule('blocks', new Sequential(layers));
    this.inChannels = o.inChannels;
    this.imageSize = o.imageSize;
    this.featureSize = o.channels * side * side;
  }

  /** Images [N, H, W, C] → features [N, featureSize]. */
  forward(x: tf.Tensor): tf.Tensor2D {
    if (
      x.rank !== 4 ||
      x.shape[1] !== this.imageSize ||
      x.shape[2] !== this.imageSize ||
      x.shape[3] !== this.inChannels
    )
      throw new ShapeError(
        `Conv4: input must be [N, ${this.imageSize}, ${this.imageSize}, ${this.inChannels}], got ${formatShape(x.shape)}`,
      );
    return tf.tidy(() => this.blocks.forward(x) as tf.Tensor2D); // [N, featureSize]
  }
}
