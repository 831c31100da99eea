// One training step (forward, backward, Adam update) of three models, side by side on tfjs-cpu, on
// tfjs-wasm as plain tfjs ships it, on tfjs-wasm with @ml/core's kernels and gradients, and in PyTorch
// with one thread. Prints a table of medians and ratios to PyTorch.
//
//   pnpm --filter @ml/core bench [-- --reps 10 --models mlp,cnn,transformer --configs cpu,wasm-plain,wasm-ml]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import { Adam, useBackend } from '../src/index.js';
import { installGradientFixes, uninstallGradientFixes } from '../src/internal/gradient-fixes.js';
import { installWasmKernels, uninstallWasmKernels } from '../src/internal/wasm-kernels.js';

import { BUILDERS } from './models.js';

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '10' },
    models: { type: 'string', default: 'mlp,cnn,transformer' },
    configs: { type: 'string', default: 'cpu,wasm-plain,wasm-ml' },
    'skip-torch': { type: 'boolean', default: false },
  },
});
const REPS = Number(args.reps);
const MODELS = args.models.split(',');
const CONFIGS = args.configs.split(',');

async function activate(config: string): Promise<void> {
  if (config === 'wasm-plain') {
    uninstallWasmKernels();
    uninstallGradientFixes();
    if (!(await tf.setBackend('wasm'))) throw new Error('wasm failed to start');
    return;
  }
  installGradientFixes();
  if (config === 'wasm-ml') installWasmKernels();
  await useBackend(config === 'cpu' ? 'cpu' : 'wasm');
}

/** Median step time in ms, or the error message of a step that fails. */
async function measure(config: string, name: string): Promise<number | string> {
  const model = BUILDERS[name]!();
  const opt = new Adam(model.module, { lr: 1e-3 });
  const reps = config === 'cpu' ? Math.max(1, Math.round(REPS / 5)) : REPS; // tfjs-cpu takes seconds a step
  try {
    const step = async () => {
      const loss = opt.minimize(model.loss);
      await loss.data();
      loss.dispose();
    };
    await step(); // warm-up: kernel setup, XNNPACK operator caches, JIT
    if (config !== 'cpu') await step();
    const before = tf.memory().numTensors;
    const samples: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await step();
      samples.push(performance.now() - t0);
    }
    if (tf.memory().numTensors !== before) return `leaked ${tf.memory().numTensors - before} tensors`;
    return median(samples);
  } catch (e) {
    return `fails: ${(e as Error).message.split('\n')[0]!.slice(0, 60)}`;
  } finally {
    opt.dispose();
    model.module.dispose();
    model.dispose();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function runTorch(): Record<string, number> | string {
  const script = fileURLToPath(new URL('./torch_train_step.py', import.meta.url));
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return 'PyTorch not importable by /usr/bin/python3 (install python3-torch); skipped';
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const res = spawnSync('/usr/bin/python3', [script, String(REPS), MODELS.join(',')], {
    encoding: 'utf8',
    env,
  });
  if (res.status !== 0) return `PyTorch run failed: ${res.stderr.trim().split('\n').pop() ?? ''}`;
  const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as { results: Record<string, number[]> };
  return Object.fromEntries(Object.entries(out.results).map(([k, v]) => [k, median(v)]));
}

const results: Record<string, Record<string, number | string>> = {};
for (const config of CONFIGS) {
  await activate(config);
  for (const name of MODELS) {
    (results[name] ??= {})[config] = await measure(config, name);
    process.stderr.write(`${config} ${name}: ${fmt(results[name]![config]!)}\n`);
  }
}
installGradientFixes();
installWasmKernels();
const torch = args['skip-torch'] ? 'skipped (--skip-torch)' : runTorch();

function fmt(v: number | string | undefined): string {
  if (v === undefined) return '–';
  return typeof v === 'number' ? `${v.toFixed(1)} ms` : v;
}

const header = ['model', ...CONFIGS, 'pytorch (1 thread)', ...CONFIGS.map((c) => `${c} / pytorch`)];
const rows = MODELS.map((name) => {
  const t = typeof torch === 'string' ? undefined : torch[name];
  const cells = CONFIGS.map((c) => fmt(results[name]![c]));
  const ratios = CONFIGS.map((c) => {
    const v = results[name]![c];
    return typeof v === 'number' && t !== undefined ? `${(v / t).toFixed(1)}×` : '–';
  });
  return [name, ...cells, fmt(t), ...ratios];
});
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
if (typeof torch === 'string') console.log(`\nPyTorch: ${torch}`);
console.log(
  `\nmedian of ${REPS} steps (tfjs-cpu: ${Math.max(1, Math.round(REPS / 5))}) after warm-up; tfjs ${tf.version_core}, node ${process.version}`,
);
