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
const B = 32, H = 4, T = 64, dk = 32;
const q = tf.randomNormal([B * H, T, dk]);
const kt = tf.randomNormal([B * H, dk, T]);
const fl = B * H * T * T * dk * 2;
time('unstack only', fl, () => tf.unstack(q));
time('unstack both + stack', fl, () => tf.tidy(() => { const a = tf.unstack(q); const b = tf.unstack(kt); return tf.stack(a.map((x, i) => tf.add(x, 0))); }));
time('loop 2d with unstack+stack', fl, () => tf.tidy(() => { const a = tf.unstack(q); const b = tf.unstack(kt); return tf.stack(a.map((x, i) => tf.matMul(x, b[i]!))); }));
time('loop 2d concat', fl, () => tf.tidy(() => { const a = tf.unstack(q); const b = tf.unstack(kt); return tf.concat(a.map((x, i) => tf.matMul(x, b[i]!))); }));
const qs = tf.unstack(q), kts = tf.unstack(kt);
time('loop 2d same b (cached op)', fl, () => qs.map((a) => tf.matMul(a, kts[0]!)));
time('loop add', fl, () => qs.map((a) => tf.add(a, qs[0]!)));
time('loop 2d (pre-sliced)', fl, () => qs.map((a, i) => tf.matMul(a, kts[i]!)));
// mul-sum formulation
time('broadcast mul-sum', fl, () => tf.tidy(() => tf.sum(tf.mul(tf.reshape(q, [B*H, T, 1, dk]), tf.reshape(tf.transpose(kt,[0,2,1]), [B*H, 1, T, dk])), -1)));
// grad through loop
const f = (qq: tf.Tensor, kk: tf.Tensor) => { const a = tf.unstack(qq); const b = tf.unstack(kk); return tf.sum(tf.stack(a.map((x, i) => tf.matMul(x, b[i]!)))); };
time('grad of loop', 3 * fl, () => tf.grads(f)([q, kt]));
time('grad of batched', 3 * fl, () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(a, b)))([q, kt]));
