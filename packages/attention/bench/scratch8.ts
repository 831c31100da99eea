import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@ml/core';
import { TransformerEncoderLayer } from '../src/index.js';

await useBackend('wasm');
const B = 32, T = 64, D = 128;
const layer = new TransformerEncoderLayer({ dim: D, heads: 4, dimFeedforward: 512, dropout: 0 });
const x = tf.randomNormal([B, T, D]);
(globalThis as any).__ATTN = process.argv[2] ?? 'matmul';
layer.eval();
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) tf.dispose(layer.forward(x));
  console.log('fwd', ((performance.now() - t0) / 10).toFixed(1));
}
const a = tf.randomNormal([2048, 128]); const w = tf.randomNormal([128, 512]);
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) tf.dispose(tf.matMul(a, w));
  console.log('mm', ((performance.now() - t0) / 10).toFixed(1));
}
