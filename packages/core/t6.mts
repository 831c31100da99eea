import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { useBackend } from './src/index.js';
import { lstmSequence } from './src/lstm-sequence.js';
import { setGemmThreads } from './src/internal/gemm/threads.js';
import { wasmBackend } from './src/internal/tfjs-seam.js';
await useBackend('wasm', { threads: 2 });
const be = wasmBackend(tf.backend());
const [T, B, H] = [50, 64, 128];
const xp = tf.randomNormal([T, B, 4 * H]) as tf.Tensor3D; const whh = tf.randomNormal([4 * H, H], 0, 0.1) as tf.Tensor2D; const h0 = tf.zeros([B, H]) as tf.Tensor2D; const c0 = tf.zeros([B, H]) as tf.Tensor2D;
const f = tf.valueAndGrads((x: tf.Tensor, w: tf.Tensor) => tf.sum(lstmSequence(x as tf.Tensor3D, w as tf.Tensor2D, h0, c0).hs));
const step = () => { const { value, grads } = f([xp, whh]); tf.dispose([value, ...grads]); };
const res: Record<number, number[]> = { 1: [], 2: [] };
for (let r = 0; r < 10; r++) for (const t of [1, 2]) {
  await setGemmThreads(t, be);
  for (let i = 0; i < 2; i++) step();
  const t0 = performance.now(); for (let i = 0; i < 4; i++) step(); res[t]!.push((performance.now() - t0) / 4);
}
const med = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1]!;
console.log('fwd+bwd 1t', med(res[1]!).toFixed(2), '2t', med(res[2]!).toFixed(2), 'speed-up', (med(res[1]!) / med(res[2]!)).toFixed(2));
console.log(res[1]!.map((x) => x.toFixed(1)).join(' '), '|', res[2]!.map((x) => x.toFixed(1)).join(' '));
process.exit(0);
