// Which wasm kernels dominate one training step? Wraps every registered wasm kernel with a timer and
// prints the top ones (self time: a kernel that calls others is charged without them).
//   THREADS=n node --conditions=@ml/source --import tsx bench/profile-kernels.ts [transformer|cnn|mlp|lstm|vit] [steps]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { Adam, useBackend } from '../src/index.js';

import { BUILDERS, packageBuilders } from './models.js';

const name = process.argv[2] ?? 'transformer';
const steps = Number(process.argv[3] ?? 5);
await useBackend('wasm', { threads: Number(process.env.THREADS ?? 1) });
const builders = { ...BUILDERS, ...(await packageBuilders()).builders };
const build = builders[name];
if (build === undefined) throw new Error(`no model '${name}': one of ${Object.keys(builders).join(', ')}`);
const model = build();
const opt = new Adam(model.module, { lr: 1e-3 });
const step = async () => {
  const loss = opt.minimize(model.loss);
  await loss.data();
  loss.dispose();
};
// One step first: @ml's fused kernels register on first use, and every kernel must be wrapped.
await step();
const self = new Map<string, { ms: number; calls: number }>();
const stack: number[] = [];
for (const k of tf.getKernelsForBackend('wasm')) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: (a) => {
      stack.push(0);
      const t0 = performance.now();
      const out = inner(a);
      const total = performance.now() - t0;
      const children = stack.pop()!;
      if (stack.length > 0) stack[stack.length - 1]! += total;
      const detail =
        process.env.DETAIL === k.kernelName
          ? ` ${Object.values(a.inputs)
              .map((t) => `[${t?.shape.join(',') ?? ''}]`)
              .join('×')} ${JSON.stringify(a.attrs ?? {}).slice(0, 60)}`
          : '';
      const e = self.get(k.kernelName + detail) ?? { ms: 0, calls: 0 };
      e.ms += total - children;
      e.calls++;
      self.set(k.kernelName + detail, e);
      return out;
    },
  });
}

const t0 = performance.now();
for (let i = 0; i < steps; i++) await step();
const wall = (performance.now() - t0) / steps;
const rows = [...self.entries()].sort((a, b) => b[1].ms - a[1].ms);
const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0) / steps;
console.log(`${name}: ${wall.toFixed(1)} ms/step, ${inKernels.toFixed(1)} ms in kernels`);
for (const [k, e] of rows.slice(0, 30))
  console.log(
    `${k.padEnd(70)} ${(e.ms / steps).toFixed(2).padStart(8)} ms ${String(e.calls / steps).padStart(6)} calls`,
  );
