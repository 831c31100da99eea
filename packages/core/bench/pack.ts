// Packing a transposed A (rows of adjacent floats) or a row-major B for @ml's GEMM, one block or panel per
// walk down k (packA, packB) against WIDE per walk (packAWide, packBWide), on sources of the shapes
// training emits, alternating in rounds in one process: medians, and which one the GEMM picks
// (`wideWalk`: walks of at least WIDE_MIN_WALK_BYTES).
//   node --conditions=@ml/source --import tsx bench/pack.ts [RxC,...] [rounds]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { useBackend } from '../src/index.js';
import { packedASize, packedBSize, wideWalk } from '../src/internal/gemm/gemm.js';
import { MR, NR, WIDE } from '../src/internal/gemm/gemm-module.js';
import { gemmExports } from '../src/internal/gemm/probe.js';
import { wasmBackend } from '../src/internal/tfjs-seam.js';

await useBackend('wasm', { threads: 1 });
const be = wasmBackend(tf.backend());
const ex = gemmExports(be.memory());
const sources = (process.argv[2] ?? '128x784,256x512,1024x128,2048x128,2080x384,2048x512,3200x512')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number]);
const rounds = Number(process.argv[3] ?? 30);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

console.log(
  '| source X (rows × cols) | walk | Xᵀ as A: narrow | wide | X as B: narrow | wide | GEMM packs |',
);
console.log('|---|---|---|---|---|---|---|');
for (const [rows, cols] of sources) {
  const x = tf.randomNormal([rows, cols]);
  const src = be.ptr(x);
  const dst = be.malloc(4 * Math.max(packedASize(cols, rows), packedBSize(rows, cols)));
  const [blocks, panels] = [Math.floor(cols / MR), Math.floor(cols / NR)];
  // Whole blocks and panels only (the remainder is packed one at a time either way).
  const runs = {
    aNarrow: () => {
      for (let b = 0; b < blocks; b++)
        ex.packA(src + 4 * MR * b, dst + 4 * MR * b * rows, MR, rows, 4, 4 * cols);
    },
    aWide: () => {
      for (let b = 0; b + WIDE <= blocks; b += WIDE)
        ex.packAWide(src + 4 * MR * b, dst + 4 * MR * b * rows, rows, 4 * cols, 4 * MR * rows);
    },
    bNarrow: () => {
      for (let p = 0; p < panels; p++)
        ex.packB(src + 4 * NR * p, dst + 4 * NR * p * rows, NR, rows, 4 * cols, 4);
    },
    bWide: () => {
      for (let p = 0; p + WIDE <= panels; p += WIDE)
        ex.packBWide(src + 4 * NR * p, dst + 4 * NR * p * rows, rows, 4 * cols, 4 * NR * rows);
    },
  };
  const times: Record<string, number[]> = { aNarrow: [], aWide: [], bNarrow: [], bWide: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(runs)) {
      const t0 = performance.now();
      run();
      times[name]!.push(performance.now() - t0);
    }
  }
  const ms = (name: string) => `${median(times[name]!).toFixed(3)} ms`;
  const walk = rows * cols * 4;
  console.log(
    `| ${rows} × ${cols} | ${(walk / 2 ** 20).toFixed(2)} MiB | ${ms('aNarrow')} | ${ms('aWide')} | ${ms('bNarrow')} | ${ms('bWide')} | ${wideWalk(rows, 4 * cols) ? 'wide' : 'narrow'} |`,
  );
  be.free(dst);
  x.dispose();
}
