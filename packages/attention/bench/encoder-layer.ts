// Benchmark: forward and training step of one Transformer encoder layer (4 heads, d_model 128,
// T 64, batch 32, feed-forward 512, ReLU, post-norm, dropout 0) — @ml/attention on the wasm backend
// vs PyTorch's nn.TransformerEncoderLayer on 1 CPU thread, side by side in one run.
//
//   pnpm --filter @ml/attention bench        (needs /usr/bin/python3 with torch for the PyTorch side)
//
// Both sides run single-threaded, so each reports wall-clock and CPU time per step. The floor is
// checked on CPU time, which other processes on a shared machine do not inflate; on an idle machine
// the two agree.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import { Adam, useBackend } from '@ml/core';

import { TransformerEncoderLayer } from '../src/index.js';

const config = {
  batch: 32,
  seqLen: 64,
  dim: 128,
  heads: 4,
  dimFeedforward: 512,
  dropout: 0,
  activation: 'relu' as const,
  normFirst: false,
  warmup: 3,
  iters: 6,
  rounds: 8,
};
const FLOOR = 4;

/** Per round, the median wall-clock and CPU milliseconds of one step. */
interface Timings {
  wallMs: number[];
  cpuMs: number[];
}

interface Side {
  forward: Timings;
  train: Timings;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function rounds(fn: () => void): Timings {
  const out: Timings = { wallMs: [], cpuMs: [] };
  for (let r = 0; r < config.rounds; r++) {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < config.iters; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    out.wallMs.push(median(wall));
    out.cpuMs.push(median(cpu));
  }
  return out;
}

async function benchMl(): Promise<Side> {
  await useBackend('wasm');
  const { batch: B, seqLen: T, dim: D } = config;
  const layer = new TransformerEncoderLayer({
    dim: D,
    heads: config.heads,
    dimFeedforward: config.dimFeedforward,
    dropout: config.dropout,
    activation: config.activation,
    normFirst: config.normFirst,
    seed: 0,
  });
  const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 1);
  const y = tf.randomNormal([B, T, D], 0, 1, 'float32', 2);
  const opt = new Adam(layer, { lr: 1e-4 });
  const forward = () => tf.dispose(layer.forward(x));
  const trainStep = () =>
    tf.dispose(opt.minimize(() => tf.mean<tf.Scalar>(tf.squaredDifference(layer.forward(x), y))));
  layer.eval();
  for (let i = 0; i < config.warmup; i++) forward();
  const fwd = rounds(forward);
  layer.train();
  for (let i = 0; i < config.warmup; i++) trainStep();
  const before = tf.memory().numTensors;
  const train = rounds(trainStep);
  if (tf.memory().numTensors !== before)
    throw new Error(`bench: tensors leaked during training (${before} → ${tf.memory().numTensors})`);
  tf.dispose([x, y]);
  opt.dispose();
  layer.dispose();
  return { forward: fwd, train };
}

function benchTorch(): Side & { torch: string } {
  const script = fileURLToPath(new URL('./encoder_layer.py', import.meta.url));
  const out = execFileSync('/usr/bin/python3', [script, JSON.stringify(config)], {
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop() as string) as Side & { torch: string };
}

// PyTorch runs before and after @ml so that both see the machine in the same state; each side
// reports its best round (a round's figure is the median of its iterations).
const torchBefore = benchTorch();
const ml = await benchMl();
const torchAfter = benchTorch();
const merge = (a: Timings, b: Timings): Timings => ({
  wallMs: [...a.wallMs, ...b.wallMs],
  cpuMs: [...a.cpuMs, ...b.cpuMs],
});
const torch = {
  forward: merge(torchBefore.forward, torchAfter.forward),
  train: merge(torchBefore.train, torchAfter.train),
};
const best = (xs: number[]) => Math.min(...xs);
const fmt = (xs: number[]) => xs.map((v) => v.toFixed(1)).join(', ');

console.log(
  `Transformer encoder layer: batch ${config.batch}, T ${config.seqLen}, d_model ${config.dim}, ${config.heads} heads, ffn ${config.dimFeedforward}, ${config.activation}, dropout ${config.dropout}`,
);
console.log(
  `@ml/attention on wasm (tfjs ${tf.version_core}) vs PyTorch ${torchBefore.torch} on 1 thread; best of ${config.rounds} rounds (${2 * config.rounds} for PyTorch), each the median of ${config.iters} iterations\n`,
);
console.log(
  '| step | @ml wasm CPU (ms) | PyTorch CPU (ms) | ratio | @ml wall (ms) | PyTorch wall (ms) | wall ratio | floor |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
let ok = true;
for (const [name, key] of [
  ['forward (eval)', 'forward'],
  ['training step (fwd + bwd + Adam)', 'train'],
] as const) {
  const [mc, tc, mw, tw] = [
    best(ml[key].cpuMs),
    best(torch[key].cpuMs),
    best(ml[key].wallMs),
    best(torch[key].wallMs),
  ];
  ok &&= mc / tc <= FLOOR;
  console.log(
    `| ${name} | ${mc.toFixed(1)} | ${tc.toFixed(1)} | ${(mc / tc).toFixed(2)}× | ${mw.toFixed(1)} | ${tw.toFixed(1)} | ${(mw / tw).toFixed(2)}× | ≤ ${FLOOR}× |`,
  );
}
console.log(`\nper-round CPU ms: @ml forward ${fmt(ml.forward.cpuMs)}; train ${fmt(ml.train.cpuMs)}`);
console.log(`                  PyTorch forward ${fmt(torch.forward.cpuMs)}; train ${fmt(torch.train.cpuMs)}`);
if (!ok) {
  console.log(`\nFAIL: a CPU-time ratio is above the ${FLOOR}× floor`);
  process.exitCode = 1;
}
