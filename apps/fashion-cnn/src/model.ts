import * as tf from '@tensorflow/tfjs-core';

import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  LeakyReLU,
  Linear,
  MaxPool2d,
  Module,
  Rng,
  init,
} from '@ml/core';

/** Options of {@link FashionCnn}. */
export interface FashionCnnOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** Channels of the two 5×5 conv blocks (default [32, 64]). */
  channels?: readonly [number, number];
  /** Width of the hidden fully connected layer (default 1024). */
  hidden?: number;
  /** Dropout probability before the classifier (default 0.3, i.e. keep 0.7). */
  dropout?: number;
  /** Slope of LeakyReLU for negative inputs (default 0.2). */
  leak?: number;
  /** Initial conv/fc weights: 'default' (PyTorch's kaiming-uniform) or 'small-normal' (N(0, 0.01²)). */
  init?: 'default' | 'small-normal';
}

/** The settings the demo trains with. */
export const DEFAULT_FASHION_CNN_OPTIONS = {
  seed: 0,
  channels: [32, 64],
  hidden: 1024,
  dropout: 0.3,
  leak: 0.2,
  init: 'default',
} as const;

/**
 * A two-block CNN for 28×28 grey images, its second conv reading the pooled first block:
 *
 *   conv 5×5 (32) → BN → LeakyReLU(0.2) → maxpool 2 → conv 5×5 (64) → BN → LeakyReLU → maxpool 2
 *   → flatten → fc 1024 → BN → LeakyReLU → dropout (keep 0.7) → fc 10
 *
 * Convs and the hidden fc have no bias (batch norm's shift replaces it, as slim does with a
 * normalizer_fn). Weights start from PyTorch's default init; `init: 'small-normal'` draws them from
 * N(0, 0.01²) instead. Images [N, 28, 28, 1] (NHWC, values in [0, 1]) → logits [N, 10].
 */
export class FashionCnn extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly pool: MaxPool2d;
  readonly act: LeakyReLU;
  readonly flatten: Flatten;
  readonly fc: Linear;
  readonly bn3: BatchNorm1d;
  readonly drop: Dropout;
  readonly head: Linear;

  constructor(options: FashionCnnOptions = {}) {
    super();
    const o = { ...DEFAULT_FASHION_CNN_OPTIONS, ...options };
    const rng = new Rng(o.seed);
    const [c1, c2] = o.channels;
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2d({ inChannels: 1, outChannels: c1, kernelSize: 5, padding: 'same', bias: false, rng }),
    );
    this.bn1 = this.registerModule('bn1', new BatchNorm2d({ numFeatures: c1 }));
    this.conv2 = this.registerModule(
      'conv2',
      new Conv2d({ inChannels: c1, outChannels: c2, kernelSize: 5, padding: 'same', bias: false, rng }),
    );
    this.bn2 = this.registerModule('bn2', new BatchNorm2d({ numFeatures: c2 }));
    this.pool = this.registerModule('pool', new MaxPool2d({ kernelSize: 2 }));
    this.act = this.registerModule('act', new LeakyReLU({ negativeSlope: o.leak }));
    this.flatten = this.registerModule('flatten', new Flatten());
    this.fc = this.registerModule(
      'fc',
      new Linear({ inFeatures: 7 * 7 * c2, outFeatures: o.hidden, bias: false, rng }),
    );
    this.bn3 = this.registerModule('bn3', new BatchNorm1d({ numFeatures: o.hidden }));
    this.drop = this.registerModule('drop', new Dropout({ p: o.dropout, rng: rng.fork() }));
    this.head = this.registerModule('head', new Linear({ inFeatures: o.hidden, outFeatures: 10, rng }));
    if (o.init === 'small-normal') {
      tf.tidy(() => {
        for (const w of [this.conv1.weight, this.conv2.weight, this.fc.weight])
          w.assign(init.truncatedNormal(rng, w.shape, 0, 0.01));
      });
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const block = (conv: Conv2d, bn: BatchNorm2d, input: tf.Tensor4D): tf.Tensor4D =>
        this.pool.forward(this.act.forward(bn.forward(conv.forward(input))));
      const h1 = block(this.conv1, this.bn1, x as tf.Tensor4D); // [N, 14, 14, 32]
      const h2 = block(this.conv2, this.bn2, h1); // [N, 7, 7, 64], from the pooled first block
      const flat = this.flatten.forward(h2); // [N, 3136]
      const hidden = this.drop.forward(this.act.forward(this.bn3.forward(this.fc.forward(flat)))); // [N, 1024]
      return this.head.forward(hidden); // [N, 10]
    });
  }
}
