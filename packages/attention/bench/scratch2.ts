import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@ml/core';

await useBackend('wasm');
function time(name: string, fn: () => tf.Tensor | tf.Tensor[], reps = 10) {
  for (let i = 0; i < 2; i++) tf.dispose(fn());
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tf.dispose(fn());
  const ms = (performance.now() - t0) / reps;
  console.log(`${name}: ${ms.toFixed(3)} ms`);
}
const q = tf.randomNormal([128, 64, 32]);
time('unstack', () => tf.unstack(q));
time('128 slices', () => Array.from({ length: 128 }, (_, i) => tf.slice(q, [i, 0, 0], [1, 64, 32])));
time('1 slice', () => tf.slice(q, [5, 0, 0], [1, 64, 32]), 100);
time('split 128', () => tf.split(q, 128, 0));
const q2 = tf.reshape(q, [128, 2048]);
time('unstack 2d', () => tf.unstack(q2));
time('gather', () => tf.gather(q, [3]), 100);
