// Benchmark: one LSTM training step (batch 32, T 50, input 8, hidden 64, one layer, MSE of the final
// hidden state against a target, Adam) — @ml/lstm vs PyTorch's nn.LSTM on 1 CPU thread vs
// tfjs-layers' `tf.layers.lstm` (trained with its own Adam through `trainOnBatch`) on the same tfjs
// backend, side by side in one run.
//
//   pnpm --filter @ml/lstm bench            (wasm; needs /usr/bin/python3 with torch for the PyTorch side)
//   pnpm --filter @ml/lstm bench -- cpu     (the pure-JS backend; tfjs-layers and @ml on cpu)
//
// Every side runs single-threaded and reports wall-clock and CPU time per step; the floors are
// checked on CPU time, which other processes on a shared machine do not inflate.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { Adam, useBackend } from '@ml/core';
import type { BackendName } from '@ml/core';

import { LSTM } from '../src/index.js';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
const config = { batch: 32, steps: 50, inputSize: 8, hiddenSize: 64, warmup: 3, iters: 5, rounds: 6 };
const onCpu = backend === 'cpu';
if (onCpu) Object.assign(config, { warmup: 1, iters: 2, rounds: 2 });
const TORCH_FLOOR = 3;
const LAYERS_FLOOR = 7;

/** Per round, the median wall-clock and CPU milliseconds of one step. */
interface Timings {
  wallMs: number[];
  cpuMs: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function rounds(fn: () => unknown, iters = config.iters, count = config.rounds): Promise<Timings> {
  const out: Timings = { wallMs: [], cpuMs: [] };
  for (let r = 0; r < count; r++) {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < iters; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    out.wallMs.push(median(wall));
    out.cpuMs.push(median(cpu));
  }
  return out;
}

const { batch: B, steps: T, inputSize: F, hiddenSize: H } = config;

async function benchMl(): Promise<Timings> {
  const lstm = new LSTM({ inputSize: F, hiddenSize: H, seed: 0 });
  const x = tf.randomNormal([B, T, F], 0, 1, 'float32', 1);
  const y = tf.randomNormal([B, H], 0, 1, 'float32', 2);
  const opt = new Adam(lstm, { lr: 1e-3 });
  const step = () =>
    tf.dispose(
      opt.minimize(() => {
        const h = lstm.forward(x).h; // [1, B, H]
        return tf.mean<tf.Scalar>(tf.squaredDifference(tf.reshape(h, [B, H]), y));
      }),
    );
  for (let i = 0; i < config.warmup; i++) step();
  const before = tf.memory().numTensors;
  const out = await rounds(step);
  if (tf.memory().numTensors !== before)
    throw new Error(`bench: tensors leaked during training (${before} → ${tf.memory().numTensors})`);
  tf.dispose([x, y]);
  opt.dispose();
  lstm.dispose();
  return out;
}

async function benchLayers(): Promise<Timings> {
  // The default orthogonal recurrent initializer fails on wasm ("rMat.flatten is not a function"),
  // so the recurrent kernel starts Glorot-uniform; everything else is tf.layers.lstm's default
  // (hard-sigmoid recurrent activation).
  const model = tfl.sequential({
    layers: [tfl.layers.lstm({ units: H, inputShape: [T, F], recurrentInitializer: 'glorotUniform' })],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  const x = tf.randomNormal([B, T, F], 0, 1, 'float32', 1);
  const y = tf.randomNormal([B, H], 0, 1, 'float32', 2);
  const step = () => model.trainOnBatch(x, y);
  for (let i = 0; i < Math.min(config.warmup, 2); i++) await step();
  const out = await rounds(step, Math.max(1, Math.floor(config.iters / 2)), Math.max(2, config.rounds / 2));
  tf.dispose([x, y]);
  model.dispose();
  return out;
}

function benchTorch(): Timings & { torch: string } {
  const script = fileURLToPath(new URL('./lstm_step.py', import.meta.url));
  const out = execFileSync('/usr/bin/python3', [script, JSON.stringify(config)], {
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  const parsed = JSON.parse(out.trim().split('\n').pop() as string) as { train: Timings; torch: string };
  return { ...parsed.train, torch: parsed.torch };
}

await useBackend(backend, { threads: 1 }); // every side on one thread
// PyTorch runs before and after the tfjs sides so that all see the machine in the same state; each
// side reports its best round (a round's figure is the median of its iterations).
const torchBefore = benchTorch();
const ml = await benchMl();
const layers = await benchLayers();
const torchAfter = benchTorch();
const torch: Timings = {
  wallMs: [...torchBefore.wallMs, ...torchAfter.wallMs],
  cpuMs: [...torchBefore.cpuMs, ...torchAfter.cpuMs],
};
const best = (xs: number[]) => Math.min(...xs);
const fmt = (xs: number[]) => xs.map((v) => v.toFixed(1)).join(', ');

console.log(
  `LSTM training step: batch ${B}, T ${T}, input ${F}, hidden ${H}, 1 layer, MSE on the final hidden state, Adam`,
);
console.log(
  `@ml/lstm and tf.layers.lstm on ${tf.getBackend()} (tfjs ${tf.version_core}) vs PyTorch ${torchBefore.torch} on 1 thread; best round, each the median of its iterations\n`,
);
console.log('| side | CPU (ms) | wall (ms) |');
console.log('|---|---:|---:|');
console.log(`| @ml/lstm | ${best(ml.cpuMs).toFixed(1)} | ${best(ml.wallMs).toFixed(1)} |`);
console.log(`| PyTorch nn.LSTM | ${best(torch.cpuMs).toFixed(1)} | ${best(torch.wallMs).toFixed(1)} |`);
console.log(`| tf.layers.lstm | ${best(layers.cpuMs).toFixed(1)} | ${best(layers.wallMs).toFixed(1)} |`);
const vsTorch = best(ml.cpuMs) / best(torch.cpuMs);
const vsLayers = best(layers.cpuMs) / best(ml.cpuMs);
console.log(`\n@ml / PyTorch (CPU time): ${vsTorch.toFixed(2)}×   (floor ≤ ${TORCH_FLOOR}× on wasm)`);
console.log(
  `tf.layers.lstm / @ml (CPU time): ${vsLayers.toFixed(1)}× faster   (floor ≥ ${LAYERS_FLOOR}× on wasm)`,
);
console.log(
  `\nper-round CPU ms: @ml ${fmt(ml.cpuMs)}; PyTorch ${fmt(torch.cpuMs)}; tf.layers ${fmt(layers.cpuMs)}`,
);
if (!onCpu && (vsTorch > TORCH_FLOOR || vsLayers < LAYERS_FLOOR)) {
  console.log('\nFAIL: a ratio misses its floor');
  process.exitCode = 1;
}
