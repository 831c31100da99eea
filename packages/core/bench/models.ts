// The three benchmark models, built from @ml/core layers (the PyTorch twins are in torch_train_step.py).
import * as tf from '@tensorflow/tfjs-core';

import { LayerNorm, LeakyReLU, Linear, Module, ReLU, Sequential } from '../src/index.js';
import { BatchNorm2d } from '../src/batch-norm.js';
import { Conv2d } from '../src/conv2d.js';
import { Flatten } from '../src/flatten.js';
import { MaxPool2d } from '../src/pooling.js';

export type Model = { module: Module; loss: () => tf.Scalar; dispose(): void };

/** Cross-entropy of logits [N, C] against class ids [N]. */
function crossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const onehot = tf.oneHot(labels as tf.Tensor1D, logits.shape[1]!);
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), -1)));
}

function labels(n: number, classes: number): tf.Tensor1D {
  return tf.tensor1d(
    Array.from({ length: n }, (_, i) => (i * 7) % classes),
    'int32',
  );
}

// (a) 784 → 256 → ReLU → 10, batch 128.
function mlp(): Model {
  const module = new Sequential([
    new Linear({ inFeatures: 784, outFeatures: 256, seed: 1 }),
    new ReLU(),
    new Linear({ inFeatures: 256, outFeatures: 10, seed: 2 }),
  ]);
  const x = tf.randomNormal([128, 784], 0, 1, 'float32', 1);
  const y = labels(128, 10);
  return { module, loss: () => crossEntropy(module.forward(x), y), dispose: () => tf.dispose([x, y]) };
}

// (b) Seed 002's CNN: conv 5×5 32 → BN → LeakyReLU → pool → conv 5×5 64 → BN → LeakyReLU → pool →
// FC 1024 → FC 10, batch 50 of 28×28×1 (NHWC).
function cnn(): Model {
  const module = new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 32, kernelSize: 5, padding: 2, seed: 1 }),
    new BatchNorm2d({ numFeatures: 32 }),
    new LeakyReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 32, outChannels: 64, kernelSize: 5, padding: 2, seed: 2 }),
    new BatchNorm2d({ numFeatures: 64 }),
    new LeakyReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: 7 * 7 * 64, outFeatures: 1024, seed: 3 }),
    new Linear({ inFeatures: 1024, outFeatures: 10, seed: 4 }),
  ]);
  const x = tf.randomNormal([50, 28, 28, 1], 0, 1, 'float32', 1);
  const y = labels(50, 10);
  return { module, loss: () => crossEntropy(module.forward(x), y), dispose: () => tf.dispose([x, y]) };
}

/** (c) A post-norm Transformer encoder layer from core layers, attention written inline. */
class EncoderLayer extends Module {
  readonly q = this.registerModule('q', new Linear({ inFeatures: 128, outFeatures: 128, seed: 1 }));
  readonly k = this.registerModule('k', new Linear({ inFeatures: 128, outFeatures: 128, seed: 2 }));
  readonly v = this.registerModule('v', new Linear({ inFeatures: 128, outFeatures: 128, seed: 3 }));
  readonly o = this.registerModule('o', new Linear({ inFeatures: 128, outFeatures: 128, seed: 4 }));
  readonly ln1 = this.registerModule('ln1', new LayerNorm({ normalizedShape: 128 }));
  readonly ln2 = this.registerModule('ln2', new LayerNorm({ normalizedShape: 128 }));
  readonly ff1 = this.registerModule('ff1', new Linear({ inFeatures: 128, outFeatures: 512, seed: 5 }));
  readonly ff2 = this.registerModule('ff2', new Linear({ inFeatures: 512, outFeatures: 128, seed: 6 }));

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [b, t, d] = x.shape as [number, number, number];
      const heads = 4;
      const dh = d / heads;
      const split = (z: tf.Tensor) => tf.transpose(tf.reshape(z, [b, t, heads, dh]), [0, 2, 1, 3]); // [B, H, T, Dh]
      const q = split(this.q.forward(x));
      const k = split(this.k.forward(x));
      const v = split(this.v.forward(x));
      const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh))); // [B, H, T, T]
      const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [b, t, d]); // [B, T, D]
      const h1 = this.ln1.forward(tf.add(x, this.o.forward(ctx)));
      return this.ln2.forward(tf.add(h1, this.ff2.forward(tf.relu(this.ff1.forward(h1)))));
    });
  }
}

function transformer(): Model {
  const module = new EncoderLayer();
  const x = tf.randomNormal([32, 64, 128], 0, 1, 'float32', 1);
  const target = tf.randomNormal([32, 64, 128], 0, 1, 'float32', 2);
  return {
    module,
    loss: () => tf.mean(tf.squaredDifference(module.forward(x), target)),
    dispose: () => tf.dispose([x, target]),
  };
}

export const BUILDERS: Record<string, () => Model> = { mlp, cnn, transformer };
