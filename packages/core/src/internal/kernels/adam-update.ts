import * as tf from '@tensorflow/tfjs-core';

import { input, wasmBackend, type KernelArgs, type TensorInfo } from './kernel-utils.js';

// MlAdamUpdate: one Adam/AdamW parameter update as one kernel (p, grad, m, v[, vMax] → p', m', v'[, vMax'])
// instead of ~13 tfjs ops, on wasm and cpu. Every operation rounds to float32 in the order the op-level
// update (../../adam.ts) runs them, so the results are bit-identical to it: float32 +, −, ×, ÷ and √
// computed in float64 and rounded once are correctly rounded. Per-op dispatch, not arithmetic, was
// most of an optimizer step on wasm (a small ViT has ~50 parameters: ~650 kernels per step).

/** Kernel name; attrs {@link AdamUpdateAttrs}. */
export const ADAM_UPDATE = 'MlAdamUpdate';

/** The update's hyperparameters, with the step's bias corrections as plain numbers. */
export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: p·(1 − lr·weightDecay) before the update; Adam: weightDecay·p added to the gradient. */
  decoupled: boolean;
  lr: number;
  /** lr / (1 − β1ᵗ). */
  stepSize: number;
  /** √(1 − β2ᵗ). */
  bc2Sqrt: number;
  amsgrad: boolean;
}

const f = Math.fround;

/** The update over n floats; outputs may not alias inputs. */
function adamUpdate(
  a: AdamUpdateAttrs,
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vMax: Float32Array | null,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  vMaxOut: Float32Array | null,
): void {
  const { beta1, beta2, eps, weightDecay, decoupled, stepSize, bc2Sqrt } = a;
  const [b1, b2, c1, c2, e] = [f(beta1), f(beta2), f(1 - beta1), f(1 - beta2), f(eps)];
  const [shrink, wd, ss, bc] = [f(1 - a.lr * weightDecay), f(weightDecay), f(stepSize), f(bc2Sqrt)];
  const decay = weightDecay !== 0;
  for (let i = 0; i < p.length; i++) {
    let pi = p[i]!;
    let gi = g[i]!;
    if (decay) {
      if (decoupled) pi = f(pi * shrink);
      else gi = f(gi + f(pi * wd));
    }
    const mi = f(f(m[i]! * b1) + f(gi * c1));
    const vi = f(f(v[i]! * b2) + f(f(gi * gi) * c2));
    mOut[i] = mi;
    vOut[i] = vi;
    let second = vi;
    if (vMax !== null && vMaxOut !== null) {
      second = Math.max(vMax[i]!, vi);
      vMaxOut[i] = second;
    }
    const denom = f(f(f(Math.sqrt(second)) / bc) + e);
    pOut[i] = f(pi - f(f(mi / denom) * ss));
  }
}

const NAMES = ['p', 'g', 'm', 'v'];

function wasmKernel(args: KernelArgs): TensorInfo[] {
  const be = wasmBackend(args.backend);
  const a = args.attrs as unknown as AdamUpdateAttrs;
  const ins = [...NAMES, ...(a.amsgrad ? ['vMax'] : [])].map((n) => input(args, n));
  const n = tf.util.sizeFromShape(ins[0]!.shape);
  const outs = ins.filter((_, i) => i !== 1).map((t) => be.makeOutput(t.shape, 'float32')); // p, m, v[, vMax]
  const heap = be.heapF32(); // after every allocation: the heap may have grown
  const at = (t: TensorInfo): Float32Array => heap.subarray(be.ptr(t) >> 2, (be.ptr(t) >> 2) + n);
  const [p, g, m, v, vMax] = ins.map(at);
  const [pOut, mOut, vOut, vMaxOut] = outs.map(at);
  adamUpdate(a, p!, g!, m!, v!, vMax ?? null, pOut!, mOut!, vOut!, vMaxOut ?? null);
  return outs;
}

interface CpuBackend {
  readSync(dataId: tf.DataId): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo;
}

function cpuKernel(args: KernelArgs): TensorInfo[] {
  const be = args.backend as CpuBackend;
  const a = args.attrs as unknown as AdamUpdateAttrs;
  const ins = [...NAMES, ...(a.amsgrad ? ['vMax'] : [])].map((n) => input(args, n));
  const [p, g, m, v, vMax] = ins.map((t) => be.readSync(t.dataId) as Float32Array);
  const outs = [p!, m!, v!, ...(vMax ? [vMax] : [])].map((t) => new Float32Array(t.length));
  adamUpdate(a, p!, g!, m!, v!, vMax ?? null, outs[0]!, outs[1]!, outs[2]!, outs[3] ?? null);
  return outs.map((o) => be.makeTensorInfo(ins[0]!.shape, 'float32', o));
}

/** The backends MlAdamUpdate exists for. */
export const ADAM_UPDATE_BACKENDS: readonly string[] = ['wasm', 'cpu'];

let fusedEnabled = true;

/** Whether Adam runs MlAdamUpdate on the active backend (wasm, cpu) rather than tfjs ops. */
export function fusedAdamActive(): boolean {
  return fusedEnabled && ADAM_UPDATE_BACKENDS.includes(tf.getBackend());
}

/** For tests: false makes Adam use the op-level update everywhere (true restores the kernel). */
export function enableFusedAdamForTest(on: boolean): void {
  fusedEnabled = on;
}

/** Registers MlAdamUpdate on wasm and cpu (idempotent: a new kernel name, nothing replaced). */
export function registerAdamUpdate(): void {
  for (const [backendName, kernelFunc] of [
    ['wasm', wasmKernel],
    ['cpu', cpuKernel],
  ] as const) {
    if (tf.getKernel(ADAM_UPDATE, backendName) === undefined)
      tf.registerKernel({ kernelName: ADAM_UPDATE, backendName, kernelFunc });
  }
}
