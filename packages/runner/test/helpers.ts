// Shared pieces of the runner tests: a tiny MLP with dropout, separable 3-class blobs, a loader.
import * as tf from '@tensorflow/tfjs-core';

import { Dropout, Linear, Module, Rng, Tanh } from '@ml/core';
import { DataLoader, TensorDataset } from '@ml/data-loaders';

/** 4 → hidden → 3 with tanh and (optional) dropout: small enough for many fits per test file. */
export class TinyMlp extends Module {
  readonly fc1: Linear;
  readonly act: Tanh;
  readonly drop: Dropout;
  readonly fc2: Linear;

  constructor(options: { seed?: number; hidden?: number; dropout?: number } = {}) {
    super();
    const rng = new Rng(options.seed ?? 0);
    const hidden = options.hidden ?? 16;
    this.fc1 = this.registerModule('fc1', new Linear({ inFeatures: 4, outFeatures: hidden, rng }));
    this.act = this.registerModule('act', new Tanh());
    this.drop = this.registerModule('drop', new Dropout({ p: options.dropout ?? 0, seed: 7 }));
    this.fc2 = this.registerModule('fc2', new Linear({ inFeatures: hidden, outFeatures: 3, rng }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(this.drop.forward(this.act.forward(this.fc1.forward(x))))); // [N, 3]
  }
}

/** Three Gaussian blobs in 4-d (centres far apart): x float32 [n, 4], y int32 [n] in {0, 1, 2}. */
export function blobs(n: number, seed = 1): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const rng = new Rng(seed);
  const centres = [
    [2, 0, -1, 1],
    [-2, 1, 1, -1],
    [0, -2, 2, 0],
  ];
  const xs = new Float32Array(n * 4);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    ys[i] = c;
    for (let j = 0; j < 4; j++) xs[i * 4 + j] = (centres[c]?.[j] ?? 0) + rng.normal(0, 0.5);
  }
  return { x: tf.tensor2d(xs, [n, 4]), y: tf.tensor1d(ys, 'int32') };
}

/** Mean softmax cross-entropy of logits [N, C] against class ids [N]. */
export function ceLoss(logits: tf.Tensor, ids: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const c = logits.shape[logits.rank - 1] as number;
    const logp = tf.logSoftmax(logits); // [N, C]
    return tf.neg<tf.Scalar>(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.cast(ids, 'int32'), c), logp), -1)));
  });
}

/** A DataLoader over [x, y]; the tensors stay owned by the caller. */
export function loaderOf(
  x: tf.Tensor,
  y: tf.Tensor,
  options: { batchSize?: number; shuffle?: boolean; seed?: number } = {},
): DataLoader<tf.Tensor[], tf.Tensor[]> {
  return new DataLoader<tf.Tensor[], tf.Tensor[]>(new TensorDataset([x, y]), {
    batchSize: options.batchSize ?? 8,
    shuffle: options.shuffle ?? true,
    seed: options.seed ?? 3,
  });
}

/** Every parameter and buffer's values, by name (for comparing two models). */
export async function weightsOf(model: Module): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(model.stateDict())) out[k] = Array.from(await v.data());
  return out;
}
