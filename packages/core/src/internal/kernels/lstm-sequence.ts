import { gemm as simdGemm } from '../wasm-simd.js';
import {
  input,
  simdOf,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmBackend,
} from './kernel-utils.js';
import { simdActivations } from './lstm-simd-activations.js';
import {
  jsActivations,
  lstmBackward,
  lstmForward,
  transpose2d,
  type Activations,
  type Gemm,
  type LstmDims,
} from './lstm-sequence-math.js';

// @ml's fused LSTM sequence kernels on wasm: all T steps of the recurrence (MlLstmSequence) and of its
// backpropagation through time (MlLstmSequenceGrad) in one kernel call each, reading and writing tensors
// in place on the wasm heap. The per-step product runs on @ml's SIMD GEMM (../wasm-simd), the gate
// nonlinearities in JS (./lstm-sequence-math). tfjs' per-op dispatch (tens of µs on wasm) would otherwise
// cost ~20 ops per step.

/** Forward: inputs xp [T, B, 4H], whh [4H, H], h0 [B, H], c0 [B, H] → [states [2, T, B, H], gates [T, B, 4H], tanhC [T, B, H]]. */
export const LSTM_SEQUENCE = 'MlLstmSequence';
/** Backward: inputs dy [2, T, B, H], whh, c0, states, gates, tanhC → [dxp [T, B, 4H], dh0 [B, H], dc0 [B, H]]. */
export const LSTM_SEQUENCE_GRAD = 'MlLstmSequenceGrad';

/** The sizes of a sequence from its input projection [T, B, 4H]. */
export const lstmDims = (xpShape: readonly number[]): LstmDims => ({
  T: xpShape[0]!,
  B: xpShape[1]!,
  H: xpShape[2]! / 4,
});

/** A view of `count` floats of the heap at a tensor (or raw pointer). */
const view = (heap: Float32Array, ptr: number, count: number): Float32Array =>
  heap.subarray(ptr >> 2, (ptr >> 2) + count);

/** The `Gemm` of lstm-sequence-math on @ml's SIMD module: views are of the heap, so byteOffset is the address. */
function heapGemm(be: WasmBackend): Gemm {
  const k = simdOf(be);
  return (a, aOff, b, c, cOff, m, n, kk) =>
    simdGemm(k, a.byteOffset + 4 * aOff, b.byteOffset, c.byteOffset + 4 * cOff, m, n, kk, kk, 1, n, n);
}

/** `Activations` on the SIMD module: whole f32x4 groups there, the few remaining floats in JS. */
function heapActivations(be: WasmBackend): Activations {
  const m = simdActivations(be.memory());
  const on =
    (simd: (ptr: number, bytes: number) => void, js: (a: Float32Array, off: number, n: number) => void) =>
    (a: Float32Array, off: number, n: number) => {
      const n4 = n & ~3;
      if (n4 > 0) simd(a.byteOffset + 4 * off, 4 * n4);
      if (n4 < n) js(a, off + n4, n - n4);
    };
  return { sigmoid: on(m.sigmoid, jsActivations.sigmoid), tanh: on(m.tanh, jsActivations.tanh) };
}

function lstmSequenceWasm(args: KernelArgs): TensorInfo[] {
  const be = wasmBackend(args.backend);
  const xp = input(args, 'xp');
  const whh = input(args, 'whh');
  const h0 = input(args, 'h0');
  const c0 = input(args, 'c0');
  const d = lstmDims(xp.shape);
  const { T, B, H } = d;
  const states = be.makeOutput([2, T, B, H], 'float32');
  const gates = be.makeOutput([T, B, 4 * H], 'float32');
  const tanhC = be.makeOutput([T, B, H], 'float32');
  const whhT = be.malloc(16 * H * H);
  const z = be.malloc(16 * B * H);
  try {
    const heap = be.heapF32(); // after every allocation: the heap may have grown
    const w = view(heap, be.ptr(whh), 4 * H * H);
    const wT = view(heap, whhT, 4 * H * H);
    transpose2d(w, wT, 4 * H, H);
    lstmForward(
      d,
      {
        xp: view(heap, be.ptr(xp), T * B * 4 * H),
        whhT: wT,
        h0: view(heap, be.ptr(h0), B * H),
        c0: view(heap, be.ptr(c0), B * H),
        states: view(heap, be.ptr(states), 2 * T * B * H),
        gates: view(heap, be.ptr(gates), T * B * 4 * H),
        tanhC: view(heap, be.ptr(tanhC), T * B * H),
        z: view(heap, z, 4 * B * H),
      },
      heapGemm(be),
      heapActivations(be),
    );
  } finally {
    be.free(whhT);
    be.free(z);
  }
  return [states, gates, tanhC];
}

function lstmSequenceGradWasm(args: KernelArgs): TensorInfo[] {
  const be = wasmBackend(args.backend);
  const dy = input(args, 'dy');
  const whh = input(args, 'whh');
  const c0 = input(args, 'c0');
  const states = input(args, 'states');
  const gates = input(args, 'gates');
  const tanhC = input(args, 'tanhC');
  const d = lstmDims(gates.shape);
  const { T, B, H } = d;
  const dxp = be.makeOutput([T, B, 4 * H], 'float32');
  const dh0 = be.makeOutput([B, H], 'float32');
  const dc0 = be.makeOutput([B, H], 'float32');
  const heap = be.heapF32(); // after every allocation: the heap may have grown
  lstmBackward(
    d,
    {
      dy: view(heap, be.ptr(dy), 2 * T * B * H),
      whh: view(heap, be.ptr(whh), 4 * H * H),
      c0: view(heap, be.ptr(c0), B * H),
      states: view(heap, be.ptr(states), 2 * T * B * H),
      gates: view(heap, be.ptr(gates), T * B * 4 * H),
      tanhC: view(heap, be.ptr(tanhC), T * B * H),
      dxp: view(heap, be.ptr(dxp), T * B * 4 * H),
      dh0: view(heap, be.ptr(dh0), B * H),
      dc0: view(heap, be.ptr(dc0), B * H),
    },
    heapGemm(be),
  );
  return [dxp, dh0, dc0];
}

/** A kernel with several outputs, as tfjs registers it. */
export interface MultiOutputKernel {
  kernelName: string;
  kernelFunc: (args: KernelArgs) => TensorInfo[];
}

/** @ml's wasm `MlLstmSequence` and `MlLstmSequenceGrad` kernels. */
export const lstmSequenceWasmConfigs: readonly MultiOutputKernel[] = [
  { kernelName: LSTM_SEQUENCE, kernelFunc: lstmSequenceWasm },
  { kernelName: LSTM_SEQUENCE_GRAD, kernelFunc: lstmSequenceGradWasm },
];
