// Augmentation speed: plain typed-array resampling (what augmentImages does) vs tf.image.transform,
// on a batch of 50 28×28×1 images, per backend. Run: pnpm --filter @ml/data-loaders bench
// Note: tfjs-backend-cpu 4.22's Transform kernel returns after the first image of a batch (the others stay
// at the fill value), so its cpu time below covers 1 image of 50 and its output differs.
import * as tf from '@tensorflow/tfjs-core';

import { Rng, useBackend } from '@ml/core';

import { DEFAULT_AUGMENT_OPTIONS, augmentImages } from '../src/augment.js';
import { drawInverseAffine } from '../src/internal/affine.js';

const N = 50;
const REPS = 200;

function augmentWithTf(images: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const [n, h, w] = images.shape;
  const params = new Float32Array(n * 8);
  for (let i = 0; i < n; i++)
    params.set([...drawInverseAffine({ ...DEFAULT_AUGMENT_OPTIONS }, rng, h, w), 0, 0], i * 8);
  return tf.tidy(() => tf.image.transform(images, tf.tensor2d(params, [n, 8]), 'bilinear', 'constant', 0));
}

async function time(label: string, fn: () => tf.Tensor | Promise<tf.Tensor>): Promise<number> {
  for (let i = 0; i < 10; i++) (await fn()).dispose();
  const start = performance.now();
  for (let i = 0; i < REPS; i++) {
    const out = await fn();
    await out.data(); // include the download so asynchronous backends are timed fully
    out.dispose();
  }
  const ms = (performance.now() - start) / REPS;
  console.log(`${label.padEnd(34)} ${ms.toFixed(3)} ms/batch`);
  return ms;
}

for (const backend of ['cpu', 'wasm'] as const) {
  await useBackend(backend);
  const images = tf.tensor4d(new Rng(1).uniformArray(N * 28 * 28), [N, 28, 28, 1]);
  const before = tf.memory().numTensors;
  const rngA = new Rng(2);
  const rngB = new Rng(2);
  const a = await augmentImages(images, rngA);
  const b = augmentWithTf(images, rngB);
  const diff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0] as number;
  tf.dispose([a, b]);
  const loop = await time(`${backend}: typed-array augmentImages`, () => augmentImages(images, rngA));
  const op = await time(`${backend}: tf.image.transform`, () => augmentWithTf(images, rngB));
  console.log(
    `${backend}: max |typed-array − tf| = ${diff.toExponential(2)}; tf/typed-array time ratio ${(op / loop).toFixed(2)}; tensors leaked: ${tf.memory().numTensors - before}`,
  );
  images.dispose();
}
