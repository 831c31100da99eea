// @ml's GEMM against PyTorch's on the products a training step emits, side by side: each round times
// every product with tf.matMul on wasm (packing included, as in a step) and then with torch.matmul
// (bench/torch_matmul.py, kept running as a server), at the same thread count. Prints medians, GFLOP/s
// and the ratio: how far the one-thread step ratios of bench/train-step.ts are set by the products alone
// (wasm's 128-bit SIMD against the AVX2/AVX-512 kernels of PyTorch's BLAS). At one thread both sides run
// on the same core, a different one each round (./pin.ts).
//   node --conditions=@ml/source --import tsx bench/gemm-vs-torch.ts [--threads 1] [--rounds 6] [--reps 10] [--unpinned]
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { backendInfo, useBackend } from '../src/index.js';

import { startPin } from './pin.js';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '6' },
    reps: { type: 'string', default: '10' },
    unpinned: { type: 'boolean', default: false },
  },
});
const threads = Number(args.threads);
const rounds = Math.max(1, Number(args.rounds));
const reps = Math.max(1, Number(args.reps));

/** batch (0: a plain product), m, k, n, transposeA, transposeB. */
type Shape = [number, number, number, number, boolean, boolean];
const CASES: [string, ...Shape][] = [
  ['Transformer q/k/v/o x·Wᵀ 2048×128→128', 0, 2048, 128, 128, false, true],
  ['Transformer FF x·Wᵀ 2048×128→512', 0, 2048, 128, 512, false, true],
  ['its weight gradient dyᵀ·x 512×2048·128', 0, 512, 2048, 128, true, false],
  ['its input gradient dy·W 2048×512·128', 0, 2048, 512, 128, false, false],
  ['attention scores [128]×64×32·64', 128, 64, 32, 64, false, true],
  ['attention·V [128]×64×64·32', 128, 64, 64, 32, false, false],
  ['MLP layer x·Wᵀ 128×784→256', 0, 128, 784, 256, false, true],
  ['CNN FC x·Wᵀ 50×3136→1024', 0, 50, 3136, 1024, false, true],
];

if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) {
  console.error('gemm-vs-torch: PyTorch is not importable by /usr/bin/python3 (install python3-torch)');
  process.exit(1);
}
const proc = spawn(
  '/usr/bin/python3',
  [fileURLToPath(new URL('./torch_matmul.py', import.meta.url)), '--serve'],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
async function torchTimes(cpu: number, [batch, m, k, n, ta, tb]: Shape) {
  proc.stdin.write(`${threads} ${reps} ${cpu} ${batch} ${m} ${k} ${n} ${Number(ta)} ${Number(tb)}\n`);
  const next = await lines.next();
  if (next.done === true) throw new Error('gemm-vs-torch: the PyTorch server exited');
  return (JSON.parse(next.value) as { ms: number[] }).ms;
}

const pin = startPin(args.unpinned);
await useBackend('wasm', { threads });
const shape = (batch: number, rows: number, cols: number, transposed: boolean): number[] => [
  ...(batch > 0 ? [batch] : []),
  ...(transposed ? [cols, rows] : [rows, cols]),
];
const rows = CASES.map(([name, ...product]) => {
  const [batch, m, k, n, ta, tb] = product;
  const a = tf.randomNormal(shape(batch, m, k, ta), 0, 1, 'float32', 1);
  const b = tf.randomNormal(shape(batch, k, n, tb), 0, 1, 'float32', 2);
  return {
    name,
    flops: 2 * Math.max(1, batch) * m * n * k,
    torch: (cpu: number) => torchTimes(cpu, product),
    ml: () => {
      for (let i = 0; i < 2; i++) tf.matMul(a, b, ta, tb).dispose();
      const ms: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        tf.matMul(a, b, ta, tb).dispose();
        ms.push(performance.now() - t0);
      }
      return ms;
    },
    times: { ml: [] as number[], torch: [] as number[] },
  };
});
for (let r = 0; r < rounds; r++) {
  const cpu = pin.turn(r, threads);
  for (const row of rows) {
    row.times.ml.push(...row.ml());
    row.times.torch.push(...(await row.torch(cpu)));
  }
}
proc.stdin.end();
pin.release();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `GEMM ${backendInfo()?.wasm?.gemm}, ${threads} thread${threads > 1 ? 's' : ''} each side` +
    `${threads === 1 ? `, ${pin.placement}` : ''}` +
    `; medians of ${rounds} rounds × ${reps}\n`,
);
console.log('| product | @ml (wasm) | GFLOP/s | PyTorch | GFLOP/s | ratio |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) {
  const [ml, pt] = [median(row.times.ml), median(row.times.torch)];
  const gf = (ms: number) => (row.flops / ms / 1e6).toFixed(1);
  console.log(
    `| ${row.name} | ${ml.toFixed(3)} ms | ${gf(ml)} | ${pt.toFixed(3)} ms | ${gf(pt)} | ${(ml / pt).toFixed(2)}× |`,
  );
}
process.exit(0);
