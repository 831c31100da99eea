import * as tf from '@tensorflow/tfjs-core';

import { Linear, Module, Rng, Sigmoid, init } from '@ml/core';

/**
 * The Iris feed-forward network: 4 → 6 (sigmoid) → 3, weights N(0, 0.01²) and biases 1.0.
 * Input [N, 4] → logits [N, 3].
 */
export class IrisMlp extends Module {
  readonly fc1: Linear;
  readonly act: Sigmoid;
  readonly fc2: Linear;

  constructor(options: { seed?: number; hidden?: number } = {}) {
    super();
    const rng = new Rng(options.seed ?? 0);
    const hidden = options.hidden ?? 6;
    this.fc1 = this.registerModule('fc1', new Linear({ inFeatures: 4, outFeatures: hidden, rng }));
    this.act = this.registerModule('act', new Sigmoid());
    this.fc2 = this.registerModule('fc2', new Linear({ inFeatures: hidden, outFeatures: 3, rng }));
    for (const fc of [this.fc1, this.fc2]) {
      tf.tidy(() => {
        fc.weight.assign(init.normal(rng, fc.weight.shape, 0, 0.01));
        fc.bias?.assign(tf.onesLike(fc.bias));
      });
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(this.act.forward(this.fc1.forward(x)))); // [N, 3]
  }
}

/** Softmax regression, the baseline beside the network: one Linear 4 → 3; the softmax lives in the loss. */
export class SoftmaxRegression extends Module {
  readonly fc: Linear;

  constructor(options: { seed?: number } = {}) {
    super();
    this.fc = this.registerModule(
      'fc',
      new Linear({ inFeatures: 4, outFeatures: 3, seed: options.seed ?? 0 }),
    );
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.forward(x); // [N, 3]
  }
}
