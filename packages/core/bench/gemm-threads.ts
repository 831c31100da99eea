// Times @ml's GEMM on one thread (in the tfjs heap) against the thread pool (copy into shared memory,
// split rows, copy back) on the shapes training emits, and checks the results are bit-identical.
//   node --conditions=@ml/source --import tsx bench/gemm-threads.ts [MxKxN,...] [threads]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { useBackend } from '../src/index.js';
import { batchGemm } from '../src/internal/gemm/batch.js';
import { GemmPool } from '../src/internal/gemm/pool.js';
import { gemmExports, gemmPath } from '../src/internal/gemm/probe.js';
import { wasmBackend } from '../src/internal/tfjs-seam.js';

const path = gemmPath();
await useBackend('wasm');
const be = wasmBackend(tf.backend());
const ex = gemmExports(be.memory(), path);
const mem = {
  malloc: (b: number) => be.malloc(b),
  free: (p: number) => be.free(p),
  f32: () => new Float32Array(be.memory().buffer),
};
const threads = Number(process.argv[3] ?? 2);
const pool = await GemmPool.create(threads, path);
const shapes = (process.argv[2] ?? '64x64x64,128x128x128,256x256x256,128x784x256,2048x128x512,50x3136x1024')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number, number]);
console.log(`path ${path}, threads ${threads}`);
for (const [m, k, n] of shapes) {
  const A = tf.randomNormal([m, k]);
  const B = tf.randomNormal([k, n]);
  const C1 = tf.zeros([m, n]);
  const C2 = tf.zeros([m, n]);
  const prod = (c: number) => ({
    m,
    n,
    k,
    a: { ptr: be.ptr(A), rowStride: k, colStride: 1 },
    b: { ptr: be.ptr(B), rowStride: n, colStride: 1 },
    aOffsets: [0],
    bOffsets: [0],
    c,
  });
  const time = (f: () => void) => {
    f();
    let best = Infinity;
    const reps = Math.max(5, Math.round(2e8 / (m * n * k)));
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      f();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const t1 = time(() => batchGemm(ex, mem, prod(be.ptr(C1))));
  const tn = time(() => pool.run(be, prod(be.ptr(C2)), m * k, k * n));
  const a = C1.dataSync();
  const b = C2.dataSync();
  const same = a.every((v, i) => Object.is(v, b[i]));
  console.log(
    `${m}x${k}x${n}: 1 thread ${t1.toFixed(3)} ms, ${threads} threads ${tn.toFixed(3)} ms, speed-up ${(t1 / tn).toFixed(2)}×, identical ${same}`,
  );
  tf.dispose([A, B, C1, C2]);
}
await pool.dispose();
