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
const G = 128, T = 64, dk = 32;
const q = tf.randomNormal([G, T, dk]);
const k = tf.randomNormal([G, T, dk]);
const fl = G * T * T * dk * 2;
// S[g,i,j] = sum_d q[g,i,d] k[g,j,d]
function dwQKt(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [g, m, kk] = a.shape as [number, number, number];
    const n = b.shape[1]!;
    const x = tf.reshape(tf.transpose(a, [1, 2, 0]), [1, m, kk, g]) as tf.Tensor4D; // [1, m, k, g]
    const f = tf.reshape(tf.transpose(b, [2, 0, 1]), [1, kk, g, n]) as tf.Tensor4D; // [1, k, g, n]
    const y = tf.depthwiseConv2d(x, f, 1, 'valid'); // [1, m, 1, g*n]
    return tf.transpose(tf.reshape(y, [m, g, n]), [1, 0, 2]);
  });
}
time('batched matmul', fl, () => tf.matMul(q, k, false, true));
time('depthwise trick', fl, () => dwQKt(q, k));
const ref = tf.matMul(q, k, false, true);
const got = dwQKt(q, k);
console.log('max diff', tf.max(tf.abs(tf.sub(ref, got))).dataSync()[0]);
const x = tf.reshape(tf.transpose(q, [1, 2, 0]), [1, T, dk, G]) as tf.Tensor4D;
const f = tf.reshape(tf.transpose(k, [2, 0, 1]), [1, dk, G, T]) as tf.Tensor4D;
time('depthwise conv only', fl, () => tf.depthwiseConv2d(x, f, 1, 'valid'));
time('transpose q', 0, () => tf.transpose(q, [1, 2, 0]));
