import * as tf from '@tensorflow/tfjs-core';
import { Adam, useBackend } from '@ml/core';
import { TransformerEncoderLayer } from '../src/index.js';
import { uninstallWasmKernels } from '../../core/src/internal/wasm-kernels.js';

await useBackend('wasm');
if (process.argv[2] === 'stock') { uninstallWasmKernels(); await tf.setBackend('cpu'); await tf.setBackend('wasm'); }
const B = 32, T = 64, D = 128;
const layer = new TransformerEncoderLayer({ dim: D, heads: 4, dimFeedforward: 512, dropout: 0 });
const x = tf.randomNormal([B, T, D]);
const opt = new Adam(layer, { lr: 1e-4 });
function time(name: string, fn: () => void, reps = 10) {
  for (let i = 0; i < 3; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  console.log(`${name}: ${((performance.now() - t0) / reps).toFixed(2)} ms`);
}
for (const s of ['matmul', 'grouped-conv'] as const) {
  (globalThis as any).__ATTN = s;
  layer.eval();
  time(`${s} forward`, () => tf.dispose(layer.forward(x)));
  layer.train();
  time(`${s} train step`, () => tf.dispose(opt.minimize(() => tf.mean(tf.square(layer.forward(x))) as tf.Scalar)));
}
console.log(tf.memory().numTensors);
