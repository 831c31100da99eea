import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@ml/core';
await useBackend('wasm');
function time(name: string, flops: number, fn: () => tf.Tensor | tf.Tensor[], reps = 10) {
  for (let i = 0; i < 2; i++) tf.dispose(fn());
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tf.dispose(fn());
  const ms = (performance.now() - t0) / reps;
  console.log(`${name}: ${ms.toFixed(2)} ms  ${(flops / ms / 1e6).toFixed(2)} GFLOP/s`);
}
const at = tf.randomNormal([128, 2048]); const g = tf.randomNormal([2048, 128]);
const a = tf.randomNormal([2048, 128]);
const g512 = tf.randomNormal([2048, 512]);
time('[128,2048]x[2048,128]', 128*2048*128*2, () => tf.matMul(at, g));
time('[128,2048]x[2048,512]', 128*2048*512*2, () => tf.matMul(at, g512));
time('flag tA [2048,128]^T x [2048,128]', 128*2048*128*2, () => tf.matMul(a, g, true, false));
time('[2048,128]x[128,512]', 128*2048*512*2, () => tf.matMul(a, tf.randomNormal([128,512])));
// alternative: reshape K into batch and sum: [16, 128, 128]x... 
const at3 = tf.reshape(tf.transpose(tf.reshape(at, [128, 16, 128]), [1, 0, 2]), [16, 128, 128]);
const g3 = tf.reshape(g, [16, 128, 128]);
time('batched split-K 16x[128,128]x[128,128] + sum', 128*2048*128*2, () => tf.tidy(() => tf.sum(tf.matMul(at3, g3), 0)));
