import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@ml/core';
await useBackend('wasm');
const cases: [string, number[], number[]][] = [
  ['fwd  [2048,128]x[128,128]', [2048, 128], [128, 128]],
  ['dW   [128,2048]x[2048,128]', [128, 2048], [2048, 128]],
  ['dW   [128,2048]x[2048,512]', [128, 2048], [2048, 512]],
  ['dW   [512,2048]x[2048,128]', [512, 2048], [2048, 128]],
  ['fwd  [2048,128]x[128,512]', [2048, 128], [128, 512]],
  ['K512 [128,512]x[512,128]', [128, 512], [512, 128]],
];
const ts = cases.map(([, a, b]) => [tf.randomNormal(a), tf.randomNormal(b)] as const);
const best = cases.map(() => Infinity);
for (let r = 0; r < 15; r++) {
  cases.forEach((c, i) => {
    const [a, b] = ts[i]!;
    const bb = tf.add(b, 0); // fresh b → fresh XNNPACK operator, as in training
    const t0 = performance.now();
    const y = tf.matMul(a, bb);
    best[i] = Math.min(best[i]!, performance.now() - t0);
    tf.dispose([y, bb]);
  });
}
cases.forEach(([name, a, b], i) => console.log(name, best[i]!.toFixed(2), 'ms', (2 * a[0]! * a[1]! * b[1]! / best[i]! / 1e6).toFixed(1), 'GFLOP/s'));
