import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { Adam, useBackend } from '../src/index.js';
import { BUILDERS, packageBuilders } from './models.js';
import { setGemmThreads } from '../src/internal/gemm/threads.js';
import { wasmBackend } from '../src/internal/tfjs-seam.js';
await useBackend('wasm', { threads: 2 });
const be = wasmBackend(tf.backend());
const all = { ...BUILDERS, ...(await packageBuilders()).builders };
const model = all[process.argv[2] ?? 'mlp']!();
const variants = (process.argv[3] ?? '4,8,16').split(',');
const reps = Number(process.argv[4] ?? 20);
const opt = new Adam(model.module, { lr: 1e-3 });
const step = async () => { const l = opt.minimize(model.loss); await l.data(); l.dispose(); };
const med = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1]!;
const res: Record<string, number[]> = {};
for (let r = 0; r < 12; r++) for (const t of [1, 2]) for (const v of variants) {
  if (t === 1 && v !== variants[0]) continue;
  (globalThis as any).__cu = Number(v);
  await setGemmThreads(t, be);
  await step();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await step();
  (res[`${t}t ${t === 1 ? '' : v}`] ??= []).push((performance.now() - t0) / reps);
}
const one = med(res['1t ']!);
console.log(Object.entries(res).map(([k, v]) => `${k}: ${med(v).toFixed(2)} (${(one / med(v)).toFixed(2)}×)`).join(' | '));
process.exit(0);
