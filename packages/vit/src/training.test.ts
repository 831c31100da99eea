import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { AdamW, Rng, crossEntropy } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { VisionTransformer } from './vision-transformer.js';

// Four classes of 8×8 gray images: a bright 4×4 quadrant (class = which one) on noise.
function quadrants(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = new Rng(seed);
  const pixels = rng.normalArray(n * 64, 0, 0.3);
  const labels = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const c = s % 4;
    labels[s] = c;
    const [r0, c0] = [c < 2 ? 0 : 4, c % 2 === 0 ? 0 : 4];
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++)
        pixels[s * 64 + (r0 + i) * 8 + (c0 + j)] = (pixels[s * 64 + (r0 + i) * 8 + (c0 + j)] as number) + 1;
  }
  return { x: tf.tensor4d(pixels, [n, 8, 8, 1]), y: tf.tensor1d(labels, 'int32') };
}

describe('VisionTransformer learns', () => {
  beforeAll(() => onBackend('wasm'));

  test('a synthetic 4-class image task: held-out accuracy ≥ 0.9 and the loss falls 5× (seed 0)', async () => {
    const model = new VisionTransformer({
      imageSize: 8,
      patchSize: 4,
      channels: 1,
      numClasses: 4,
      dim: 16,
      depth: 1,
      heads: 2,
      mlpRatio: 2,
      seed: 0,
    });
    const train = quadrants(256, 1);
    const test = quadrants(64, 2);
    const opt = new AdamW(model, { lr: 1e-2, weightDecay: 0.01 });
    const lossOf = () => crossEntropy(model.forward(train.x), train.y);
    const first = (await lossOf().data())[0] as number;
    let last = first;
    for (let i = 0; i < 80; i++) {
      const l = opt.minimize(lossOf);
      last = (await l.data())[0] as number;
      l.dispose();
    }
    model.eval();
    const pred = tf.tidy(() => tf.argMax(model.forward(test.x), 1));
    const acc = tf.tidy(() => tf.mean(tf.cast(tf.equal(pred, test.y), 'float32')).dataSync()[0] as number);
    expect(last).toBeLessThan(first / 5);
    expect(acc).toBeGreaterThanOrEqual(0.9);
    tf.dispose([train.x, train.y, test.x, test.y, pred]);
    opt.dispose();
    model.dispose();
  });
});
