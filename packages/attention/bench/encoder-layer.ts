// Benchmark: forward and training step of one Transformer encoder layer (4 heads, d_model 128,
// T 64, batch 32, feed-forward 512, ReLU, post-norm, dropout 0) — @ml/attention on the wasm backend
// vs PyTorch's nn.TransformerEncoderLayer on 1 CPU thread, side by side in one run.
//
//   pnpm --filter @ml/attention bench        (needs /usr/bin/python3 with torch for the PyTorch side)
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
  iters: 10,
  rounds: 3,
};
const FLOOR = 4;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function rounds(fn: () => void): number[] {
  const out: number[] = [];
  for (let r = 0; r < config.rounds; r++) {
    const times: number[] = [];
    for (let i = 0; i < config.iters; i++) {
      const t0 = performance.now();
      fn();
      times.push(performance.now() - t0);
    }
    out.push(median(times));
  }
  return out;
}

async function benchMl(): Promise<{ forwardMs: number[]; trainMs: number[] }> {
  await useBackend('wasm');
  const { batch: B, seqLen: T, dim: D } = config;
  const layer = new TransformerEncoderLayer({ dim: D, heads: config.heads, dimFeedforward: config.dimFeedforward, dropout: config.dropout, activation: config.activation, normFirst: config.normFirst, seed: 0 });
  const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 1);
  const y = tf.randomNormal([B, T, D], 0, 1, 'float32', 2);
  const opt = new Adam(layer, { lr: 1e-4 });
  const forward = () => tf.dispose(layer.forward(x));
  const trainStep = () => tf.dispose(opt.minimize(() => tf.mean(tf.squaredDifference(layer.forward(x), y)) as tf.Scalar));
  layer.eval();
  for (let i = 0; i < config.warmup; i++) forward();
  const forwardMs = rounds(forward);
  layer.train();
  for (let i = 0; i < config.warmup; i++) trainStep();
  const before = tf.memory().numTensors;
  const trainMs = rounds(trainStep);
  if (tf.memory().numTensors !== before) throw new Error(`bench: tensors leaked during training (${before} → ${tf.memory().numTensors})`);
  tf.dispose([x, y]);
  opt.dispose();
  layer.dispose();
  return { forwardMs, trainMs };
}

function benchTorch(): { forwardMs: number[]; trainMs: number[]; torch: string } {
  const script = fileURLToPath(new URL('./encoder_layer.py', import.meta.url));
  const out = execFileSync('/usr/bin/python3', [script, JSON.stringify(config)], {
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop() as string) as { forwardMs: number[]; trainMs: number[]; torch: string };
}

const ml = await benchMl();
const torch = benchTorch();
const rows = [
  ['forward (eval)', median(ml.forwardMs), median(torch.forwardMs)],
  ['training step (fwd+bwd+Adam)', median(ml.trainMs), median(torch.trainMs)],
] as const;
console.log(`Transformer encoder layer: batch ${config.batch}, T ${config.seqLen}, d_model ${config.dim}, ${config.heads} heads, ffn ${config.dimFeedforward}, ${config.activation}, dropout ${config.dropout}`);
console.log(`@ml/attention on wasm (tfjs ${tf.version_core}) vs PyTorch ${torch.torch} on 1 thread; medians of ${config.rounds} rounds × ${config.iters} iterations\n`);
console.log('| step | @ml wasm (ms) | PyTorch 1 thread (ms) | ratio | floor |');
console.log('|---|---:|---:|---:|---:|');
let ok = true;
for (const [name, a, b] of rows) {
  const ratio = a / b;
  ok &&= ratio <= FLOOR;
  console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${ratio.toFixed(2)}× | ≤ ${FLOOR}× |`);
}
console.log(`\nper-round medians: @ml forward ${ml.forwardMs.map((v) => v.toFixed(1)).join(', ')}; train ${ml.trainMs.map((v) => v.toFixed(1)).join(', ')}`);
console.log(`                   torch forward ${torch.forwardMs.map((v) => v.toFixed(1)).join(', ')}; train ${torch.trainMs.map((v) => v.toFixed(1)).join(', ')}`);
if (!ok) {
  console.log(`\nFAIL: a ratio is above the ${FLOOR}× floor`);
  process.exitCode = 1;
}
