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
  const onehot = tf.oneHot(labels, logits.shape[1]!);
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

// (b) An MNIST-style CNN: conv 5×5 32 → BN → LeakyReLU → pool → conv 5×5 64 → BN → LeakyReLU → pool →
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

// (d) and (e): the LSTM and ViT packages' models, when those packages are present. They are imported by
// path at run time (not as dependencies: they depend on @ml/core), so the bench still runs without them.

/** A module holding others (their parameters), for models whose forward is written in the loss. */
class Holder extends Module {
  constructor(children: Record<string, Module>) {
    super();
    for (const [name, child] of Object.entries(children)) this.registerModule(name, child);
  }
}

/** An LSTM regressor: LSTM(8 → 128) over 50 steps, Linear(128 → 1) on the last step, batch 64, MSE. */
function lstm(pkg: Record<string, unknown>): Model {
  const LSTM = pkg.LSTM as new (o: object) => Module & { forward(x: tf.Tensor): { output: tf.Tensor } };
  const rnn = new LSTM({ inputSize: 8, hiddenSize: 128, seed: 1 });
  const head = new Linear({ inFeatures: 128, outFeatures: 1, seed: 2 });
  const module = new Holder({ rnn, head });
  const x = tf.randomNormal([64, 50, 8], 0, 1, 'float32', 1);
  const y = tf.randomNormal([64, 1], 0, 1, 'float32', 2);
  const loss = () =>
    tf.tidy(() => {
      const out = rnn.forward(x).output; // [64, 50, 128]
      const last = tf.reshape(tf.slice(out, [0, 49, 0], [64, 1, 128]), [64, 128]);
      return tf.mean<tf.Scalar>(tf.squaredDifference(head.forward(last), y));
    });
  return { module, loss, dispose: () => tf.dispose([x, y]) };
}

/** A small ViT: 32×32×3 images, patch 4, width 128, 4 blocks of 4 heads, MLP 256, 10 classes, batch 32. */
function vit(pkg: Record<string, unknown>): Model {
  const Vit = pkg.VisionTransformer as new (o: object) => Module & { forward(x: tf.Tensor): tf.Tensor };
  const module = new Vit({
    imageSize: 32,
    patchSize: 4,
    channels: 3,
    numClasses: 10,
    dim: 128,
    depth: 4,
    heads: 4,
    mlpRatio: 2,
    seed: 1,
  });
  const x = tf.randomNormal([32, 32, 32, 3], 0, 1, 'float32', 1);
  const y = labels(32, 10);
  return { module, loss: () => crossEntropy(module.forward(x), y), dispose: () => tf.dispose([x, y]) };
}

/**
 * Builders of the LSTM and ViT steps from packages/lstm and packages/vit (sources, as this bench runs
 * @ml/core's), and why any is missing.
 */
export async function packageBuilders(): Promise<{
  builders: Record<string, () => Model>;
  missing: Record<string, string>;
}> {
  const builders: Record<string, () => Model> = {};
  const missing: Record<string, string> = {};
  const load = async (name: string, dir: string, make: (pkg: Record<string, unknown>) => Model) => {
    const path = new URL(`../../${dir}/src/index.ts`, import.meta.url).href;
    try {
      const pkg = (await import(path)) as Record<string, unknown>;
      builders[name] = () => make(pkg);
    } catch (e) {
      missing[name] = `packages/${dir} not loadable: ${(e as Error).message.split('\n')[0]!.slice(0, 80)}`;
    }
  };
  await load('lstm', 'lstm', lstm);
  await load('vit', 'vit', vit);
  return { builders, missing };
}
