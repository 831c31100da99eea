// Benchmark: one training step (forward, backward, AdamW) and one forward pass of the demo's ViT —
// 28×28×1 images, patch 7, dim 64, depth 4, 4 heads, MLP 128, dropout 0.1, batch 128 — @ml/vit on
// the wasm backend vs the same model in PyTorch on 1 CPU thread, side by side in one run. It also
// times the two patch-embedding computations ('matmul' and 'conv') on wasm.
//
//   pnpm --filter @ml/vit bench        (needs /usr/bin/python3 with torch for the PyTorch side)
//
// Both sides run single-threaded, so each reports wall-clock and CPU time per step. The floor is
// checked on CPU time, which other processes on a shared machine do not inflate; on an idle machine
// the two agree.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import { AdamW, crossEntropy, useBackend } from '@ml/core';

import { PatchEmbedding, createVit } from '../src/index.js';
import type { PatchEmbeddingMethod } from '../src/index.js';

const config = {
  batch: 128,
  image: 28,
  channels: 1,
  patch: 7,
  dim: 64,
  depth: 4,
  heads: 4,
  mlp: 128,
  classes: 10,
  dropout: 0.1,
  lr: 3e-3,
  weightDecay: 0.01,
  warmup: 3,
  iters: 5,
  rounds: 6,
};
const FLOOR = 3;

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

function rounds(fn: () => void, n = config.rounds): Timings {
  const out: Timings = { wallMs: [], cpuMs: [] };
  for (let r = 0; r < n; r++) {
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

function benchPatchEmbedding(): Record<PatchEmbeddingMethod, Timings> {
  const x = tf.randomUniform([config.batch, config.image, config.image, config.channels], 0, 1, 'float32', 1);
  const out = {} as Record<PatchEmbeddingMethod, Timings>;
  for (const method of ['matmul', 'conv'] as const) {
    const pe = new PatchEmbedding({
      imageSize: config.image,
      patchSize: config.patch,
      channels: config.channels,
      dim: config.dim,
      method,
      seed: 0,
    });
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(tf.square(pe.forward(x))));
      tf.dispose([value, ...Object.values(grads)]);
    };
    for (let i = 0; i < config.warmup; i++) step();
    out[method] = rounds(step);
    pe.dispose();
  }
  x.dispose();
  return out;
}

function benchMl(dropout: number): Side {
  const model = createVit('M28/7', { seed: 0, dropout });
  const x = tf.randomUniform([config.batch, config.image, config.image, config.channels], 0, 1, 'float32', 1);
  const y = tf.randomUniform([config.batch], 0, config.classes, 'int32', 2);
  const opt = new AdamW(model, { lr: config.lr, weightDecay: config.weightDecay });
  const forward = () => tf.dispose(model.forward(x));
  const trainStep = () => tf.dispose(opt.minimize(() => crossEntropy(model.forward(x), y)));
  model.eval();
  for (let i = 0; i < config.warmup; i++) forward();
  const fwd = rounds(forward);
  model.train();
  for (let i = 0; i < config.warmup; i++) trainStep();
  const before = tf.memory().numTensors;
  const train = rounds(trainStep);
  if (tf.memory().numTensors !== before)
    throw new Error(`bench: tensors leaked during training (${before} → ${tf.memory().numTensors})`);
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  return { forward: fwd, train };
}

function benchTorch(dropout: number): Side & { torch: string } {
  const script = fileURLToPath(new URL('./train_step.py', import.meta.url));
  const out = execFileSync('/usr/bin/python3', [script, JSON.stringify({ ...config, dropout })], {
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop() as string) as Side & { torch: string };
}

await useBackend('wasm', { threads: 1 }); // both sides on one thread
// PyTorch runs before and after @ml so that both see the machine in the same state; each side
// reports its best round (a round's figure is the median of its iterations).
// The same without dropout shows what dropout's masks cost each side.
const torchBefore = benchTorch(config.dropout);
const torchBefore0 = benchTorch(0);
const ml = benchMl(config.dropout);
const ml0 = benchMl(0);
const torchAfter = benchTorch(config.dropout);
const torchAfter0 = benchTorch(0);
const patch = benchPatchEmbedding();
const merge = (a: Timings, b: Timings): Timings => ({
  wallMs: [...a.wallMs, ...b.wallMs],
  cpuMs: [...a.cpuMs, ...b.cpuMs],
});
const torch = {
  forward: merge(torchBefore.forward, torchAfter.forward),
  train: merge(torchBefore.train, torchAfter.train),
  train0: merge(torchBefore0.train, torchAfter0.train),
};
const mlAll = { ...ml, train0: ml0.train };
const best = (xs: number[]) => Math.min(...xs);
const fmt = (xs: number[]) => xs.map((v) => v.toFixed(1)).join(', ');

console.log(
  `ViT: batch ${config.batch}, ${config.image}×${config.image}×${config.channels}, patch ${config.patch}, dim ${config.dim}, depth ${config.depth}, ${config.heads} heads, MLP ${config.mlp}, dropout ${config.dropout}, AdamW`,
);
console.log(
  `@ml/vit on wasm (tfjs ${tf.version_core}) vs PyTorch ${torchBefore.torch} on 1 thread; best of ${config.rounds} rounds (${2 * config.rounds} for PyTorch), each the median of ${config.iters} iterations\n`,
);
console.log(
  '| step | @ml wasm CPU (ms) | PyTorch CPU (ms) | ratio | @ml wall (ms) | PyTorch wall (ms) | wall ratio | floor |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
let ok = true;
for (const [name, key] of [
  ['forward (eval)', 'forward'],
  ['training step (fwd + bwd + AdamW)', 'train'],
  ['training step, dropout 0 on both sides', 'train0'],
] as const) {
  const [mc, tc, mw, tw] = [
    best(mlAll[key].cpuMs),
    best(torch[key].cpuMs),
    best(mlAll[key].wallMs),
    best(torch[key].wallMs),
  ];
  if (key === 'train') ok &&= mc / tc <= FLOOR;
  console.log(
    `| ${name} | ${mc.toFixed(1)} | ${tc.toFixed(1)} | ${(mc / tc).toFixed(2)}× | ${mw.toFixed(1)} | ${tw.toFixed(1)} | ${(mw / tw).toFixed(2)}× | ${key === 'train' ? `≤ ${FLOOR}×` : '—'} |`,
  );
}
console.log(
  `\npatch embedding forward + backward on wasm (CPU ms, best round): matmul ${best(patch.matmul.cpuMs).toFixed(2)}, conv ${best(patch.conv.cpuMs).toFixed(2)}`,
);
console.log(`per-round CPU ms: @ml forward ${fmt(ml.forward.cpuMs)}; train ${fmt(ml.train.cpuMs)}`);
console.log(`                  PyTorch forward ${fmt(torch.forward.cpuMs)}; train ${fmt(torch.train.cpuMs)}`);
if (!ok) {
  console.log(`\nFAIL: the training-step CPU-time ratio is above the ${FLOOR}× floor`);
  process.exitCode = 1;
}
