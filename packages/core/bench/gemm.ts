// @ml's GEMM (both paths) against tfjs-wasm's XNNPACK matMul on the products training emits, in the
// same process on the same operands: best of several runs each, GFLOP/s, and the largest error relative
// to the matMul kernel registered on wasm (ours, on the probed path).
//   node --conditions=@ml/source --import tsx bench/gemm.ts [MxKxN,...]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { useBackend } from '../src/index.js';
import { gemm } from '../src/internal/gemm/gemm.js';
import { gemmExports } from '../src/internal/gemm/probe.js';
import { wasmBackend } from '../src/internal/tfjs-seam.js';

await useBackend('wasm', { threads: 1 });
const be = wasmBackend(tf.backend());
const memory = be.memory();
const paths = { fma: gemmExports(memory, 'relaxed-simd-fma'), simd128: gemmExports(memory, 'simd128') };
const mem = {
  malloc: (b: number) => be.malloc(b),
  free: (p: number) => be.free(p),
  f32: () => new Float32Array(be.memory().buffer),
};
const shapes = (process.argv[2] ?? '64x32x64,256x256x256,128x784x256,2048x128x512,2048x512x128,50x3136x1024')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number, number]);
for (const [m, k, n] of shapes) {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  const ref = tf.matMul(a, b);
  const refData = ref.dataSync();
  const c = tf.zeros([m, n]);
  const [pa, pb, pc] = [be.ptr(a), be.ptr(b), be.ptr(c)];
  const best = (f: () => void) => {
    f();
    let t = Infinity;
    for (let i = 0; i < Math.max(5, Math.round(4e8 / (m * n * k))); i++) {
      const t0 = performance.now();
      f();
      t = Math.min(t, performance.now() - t0);
    }
    return t;
  };
  const gf = (ms: number) => ((2 * m * n * k) / ms / 1e6).toFixed(1);
  const tx = best(() => be.xnnMatMul(pa, pb, pc, m, k, n));
  const cells = Object.entries(paths).map(([name, ex]) => {
    const t = best(() =>
      gemm(
        ex,
        mem,
        { ptr: pa, rowStride: k, colStride: 1 },
        { ptr: pb, rowStride: n, colStride: 1 },
        pc,
        m,
        n,
        k,
      ),
    );
    const out = new Float32Array(be.memory().buffer, pc, m * n);
    let err = 0;
    for (let i = 0; i < out.length; i++)
      err = Math.max(err, Math.abs(out[i]! - refData[i]!) / (1 + Math.abs(refData[i]!)));
    return `${name} ${t.toFixed(3)} ms (${gf(t)} GF/s, err ${err.toExponential(1)})`;
  });
  console.log(`${m}x${k}x${n}: XNNPACK ${tx.toFixed(3)} ms (${gf(tx)} GF/s) | ${cells.join(' | ')}`);
  tf.dispose([a, b, ref, c]);
}
