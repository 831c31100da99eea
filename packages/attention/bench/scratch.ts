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
const B = 32, H = 4, T = 64, dk = 32, D = 128;
const q = tf.randomNormal([B * H, T, dk]);
const k = tf.randomNormal([B * H, T, dk]);
const kt = tf.randomNormal([B * H, dk, T]);
const fl = B * H * T * T * dk * 2;
time('batched flag transposeB', fl, () => tf.matMul(q, k, false, true));
time('batched plain (pre-transposed)', fl, () => tf.matMul(q, kt));
time('batched explicit transpose', fl, () => tf.tidy(() => tf.matMul(q, tf.transpose(k, [0, 2, 1]))));
const qs = tf.unstack(q), kts = tf.unstack(kt);
time('loop 2d (pre-sliced)', fl, () => qs.map((a, i) => tf.matMul(a, kts[i]!)));
time('loop 2d with unstack+stack', fl, () => tf.tidy(() => tf.stack(tf.unstack(q).map((a, i) => tf.matMul(a, tf.unstack(kt)[i]!)))));
const x = tf.randomNormal([B * T, D]);
const w = tf.randomNormal([D, 3 * D]);
time('2d proj [2048,128]x[128,384]', B * T * D * 3 * D * 2, () => tf.matMul(x, w));
const w2 = tf.randomNormal([D, 512]);
time('2d ffn [2048,128]x[128,512]', B * T * D * 512 * 2, () => tf.matMul(x, w2));
const big = tf.randomNormal([B * H * T, T]);
time('softmax', 0, () => tf.softmax(big));
time('transpose 4d', 0, () => tf.transpose(tf.reshape(x, [B, T, H, dk]), [0, 2, 1, 3]));
