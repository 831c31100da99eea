// How well large products scale over threads: the products a training step emits (plain, transposed,
// batched, a convolution's tall-skinny one) run through tf.matMul with 1 thread and with N, alternating
// in rounds (this machine's speed drifts), in place in the shared heap where Node has it. Prints medians,
// the speed-up, and whether the two results are bit-identical.
//   node --conditions=@ml/source --import tsx bench/gemm-threads.ts [threads] [rounds]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { backendInfo, useBackend } from '../src/index.js';
import { setGemmThreads } from '../src/internal/gemm/threads.js';
import { wasmBackend } from '../src/internal/tfjs-seam.js';

const threads = Number(process.argv[2] ?? 2);
const rounds = Number(process.argv[3] ?? 8);
await useBackend('wasm', { threads });
const be = wasmBackend(tf.backend());

/** name, A shape, B shape, transposeA, transposeB */
const CASES: [string, number[], number[], boolean, boolean][] = [
  ['MLP layer x·Wᵀ 128×784→256', [128, 784], [256, 784], false, true],
  ['its weight gradient dyᵀ·x 256×128·784', [128, 256], [128, 784], true, false],
  ['Transformer FF 2048×128→512', [2048, 128], [512, 128], false, true],
  ['its weight gradient 512×2048·128', [2048, 512], [2048, 128], true, false],
  ['attention scores [128]×64×32·64', [128, 64, 32], [128, 64, 32], false, true],
  ['attention·V [128]×64×64·32', [128, 64, 64], [128, 64, 32], false, false],
  ['ViT attention scores [128]×65×32·65', [128, 65, 32], [128, 65, 32], false, true],
  ['ViT qkv weight gradient 384×2080·128', [2080, 384], [2080, 128], true, false],
  ['LSTM recurrent gradient 512×3200·128', [3200, 512], [3200, 128], true, false],
  ['tall-skinny 39200×25·32 (conv1)', [39200, 25], [25, 32], false, false],
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rows = CASES.map(([name, as, bs, ta, tb]) => {
  const a = tf.randomNormal(as, 0, 1, 'float32', 1);
  const b = tf.randomNormal(bs, 0, 1, 'float32', 2);
  return {
    name,
    run: () => tf.matMul(a, b, ta, tb),
    times: { 1: [] as number[], n: [] as number[] },
    same: true,
  };
});
const reps = 10;
for (let r = 0; r < rounds; r++) {
  for (const t of [1, threads]) {
    await setGemmThreads(t, be);
    for (const row of rows) {
      for (let w = 0; w < 2; w++) row.run().dispose();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) row.run().dispose();
      row.times[t === 1 ? 1 : 'n'].push((performance.now() - t0) / reps);
    }
  }
}
for (const row of rows) {
  await setGemmThreads(1, be);
  const one = row.run();
  await setGemmThreads(threads, be);
  const many = row.run();
  const [x, y] = [one.dataSync(), many.dataSync()];
  row.same = x.every((v, i) => Object.is(v, y[i]));
  tf.dispose([one, many]);
}
console.log(
  `GEMM ${backendInfo()?.wasm?.gemm}, shared heap ${backendInfo()?.wasm?.sharedHeap}; median of ${rounds} rounds × ${reps}\n`,
);
console.log(`| product | 1 thread | ${threads} threads | speed-up | identical |`);
console.log('|---|---|---|---|---|');
for (const row of rows) {
  const [t1, tn] = [median(row.times[1]), median(row.times.n)];
  console.log(
    `| ${row.name} | ${t1.toFixed(3)} ms | ${tn.toFixed(3)} ms | ${(t1 / tn).toFixed(2)}× | ${row.same} |`,
  );
}
process.exit(0);
