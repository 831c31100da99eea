import { MR } from '../gemm/gemm-module.js';
import {
  computeRows,
  packA,
  packB,
  packedASize,
  packedBSize,
  rowBlocks,
  type Operand,
  type PackedProduct,
} from '../gemm/gemm.js';
import { gemmExports } from '../gemm/probe.js';
import { input, wasmBackend, type KernelArgs, type TensorInfo, type WasmBackend } from './kernel-utils.js';
import {
  backwardCellJs,
  forwardCellJs,
  lstmBackward,
  lstmForward,
  type LstmDims,
} from './lstm-sequence-math.js';
import { lstmSimdCells, paddedRow, simdCellsFit } from './lstm-simd-cells.js';

// @ml's fused LSTM sequence kernels on wasm: all T steps of the recurrence (MlLstmSequence) and of its
// backpropagation through time (MlLstmSequenceGrad) in one kernel call each, reading and writing tensors
// in place on the wasm heap. The recurrent weight is packed once per call for @ml's GEMM (../gemm, FMA
// where the engine has relaxed SIMD), so a step's product packs only its [B, H] or [B, 4H] left operand;
// the elementwise work of a step is one SIMD pass (./lstm-simd-cells; the JS cells of
// ./lstm-sequence-math when H is not a multiple of 4). tfjs' per-op dispatch (tens of µs on wasm) would
// otherwise cost ~20 ops per step.

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

/** A view of `count` floats of the heap from byte address `ptr`. */
const view = (heap: Float32Array, ptr: number, count: number): Float32Array =>
  heap.subarray(ptr >> 2, (ptr >> 2) + count);

/**
 * The per-step product C [B, n] (row stride paddedRow(n), rows padded to whole tiles) = A·W of a
 * sequence, with W [k, n] packed once: `run(aPtr, aRowStride)` packs A [B, k] and computes. Scratch is
 * allocated on the backend's heap; `free` releases it.
 */
function stepProduct(be: WasmBackend, w: Operand, B: number, k: number, n: number) {
  const ex = gemmExports(be.memory());
  const pb = be.malloc(packedBSize(k, n) * 4);
  const pa = be.malloc(packedASize(B, k) * 4);
  const ldc = paddedRow(n);
  const pc = be.malloc(rowBlocks(B) * MR * ldc * 4);
  packB(ex, w, pb, k, n);
  const p: PackedProduct = { pa, pb, pc, ldc, m: B, n, k };
  return {
    c: pc,
    ldc,
    run(aPtr: number, aRowStride: number): void {
      packA(ex, { ptr: aPtr, rowStride: aRowStride, colStride: 1 }, pa, B, k);
      computeRows(ex, p, 0, rowBlocks(B));
    },
    free(): void {
      be.free(pb);
      be.free(pa);
      be.free(pc);
    },
  };
}

function lstmSequenceWasm(args: KernelArgs): TensorInfo[] {
  const be = wasmBackend(args.backend);
  const xp = input(args, 'xp');
  const whh = input(args, 'whh');
  const d = lstmDims(xp.shape);
  const { T, B, H } = d;
  const G = 4 * H;
  const states = be.makeOutput([2, T, B, H], 'float32');
  const gates = be.makeOutput([T, B, G], 'float32');
  const tanhC = be.makeOutput([T, B, H], 'float32');
  // z = h_{t−1}·W_hhᵀ: W_hhᵀ [H, 4H] is whh read with swapped strides.
  const z = stepProduct(be, { ptr: be.ptr(whh), rowStride: 1, colStride: H }, B, H, G);
  try {
    const xpP = be.ptr(xp);
    const h0P = be.ptr(input(args, 'h0'));
    const c0P = be.ptr(input(args, 'c0'));
    const sP = be.ptr(states);
    const gP = be.ptr(gates);
    const tP = be.ptr(tanhC);
    const cBase = 4 * T * B * H; // byte offset of c_1 in states
    const product = (t: number) => z.run(t === 0 ? h0P : sP + 4 * (t - 1) * B * H, H);
    if (simdCellsFit(H)) {
      const cells = lstmSimdCells(be.memory(), H);
      lstmForward(T, product, (t) =>
        cells.forward(
          z.c,
          xpP + 4 * t * B * G,
          t === 0 ? c0P : sP + cBase + 4 * (t - 1) * B * H,
          gP + 4 * t * B * G,
          sP + cBase + 4 * t * B * H,
          tP + 4 * t * B * H,
          sP + 4 * t * B * H,
          B,
        ),
      );
    } else {
      const heap = be.heapF32(); // after every allocation: the heap may have grown
      const buf = {
        xp: view(heap, xpP, T * B * G),
        c0: view(heap, c0P, B * H),
        states: view(heap, sP, 2 * T * B * H),
        gates: view(heap, gP, T * B * G),
        tanhC: view(heap, tP, T * B * H),
      };
      const zv = view(heap, z.c, B * z.ldc);
      lstmForward(T, product, (t) => forwardCellJs(d, buf, t, zv, z.ldc));
    }
  } finally {
    z.free();
  }
  return [states, gates, tanhC];
}

function lstmSequenceGradWasm(args: KernelArgs): TensorInfo[] {
  const be = wasmBackend(args.backend);
  const d = lstmDims(input(args, 'gates').shape);
  const { T, B, H } = d;
  const G = 4 * H;
  const dxp = be.makeOutput([T, B, G], 'float32');
  const dh0 = be.makeOutput([B, H], 'float32');
  const dc0 = be.makeOutput([B, H], 'float32');
  // dh = dA_t·W_hh, the gradient reaching h_{t−1} through step t.
  const dh = stepProduct(be, { ptr: be.ptr(input(args, 'whh')), rowStride: H, colStride: 1 }, B, G, H);
  try {
    const dyP = be.ptr(input(args, 'dy'));
    const c0P = be.ptr(input(args, 'c0'));
    const sP = be.ptr(input(args, 'states'));
    const gP = be.ptr(input(args, 'gates'));
    const tP = be.ptr(input(args, 'tanhC'));
    const dxpP = be.ptr(dxp);
    const dcP = be.ptr(dc0);
    const cBase = 4 * T * B * H;
    let heap = be.heapF32();
    heap.fill(0, dh.c >> 2, (dh.c >> 2) + B * dh.ldc); // nothing reaches h_{T−1} from a step T
    heap.fill(0, dcP >> 2, (dcP >> 2) + B * H);
    const product = (t: number) => dh.run(dxpP + 4 * t * B * G, G);
    if (simdCellsFit(H)) {
      const cells = lstmSimdCells(be.memory(), H);
      lstmBackward(
        T,
        (t) =>
          cells.backward(
            dyP + 4 * t * B * H,
            dyP + cBase + 4 * t * B * H,
            dh.c,
            dcP,
            gP + 4 * t * B * G,
            tP + 4 * t * B * H,
            t === 0 ? c0P : sP + cBase + 4 * (t - 1) * B * H,
            dxpP + 4 * t * B * G,
            B,
          ),
        product,
      );
    } else {
      const buf = {
        dy: view(heap, dyP, 2 * T * B * H),
        c0: view(heap, c0P, B * H),
        states: view(heap, sP, 2 * T * B * H),
        gates: view(heap, gP, T * B * G),
        tanhC: view(heap, tP, T * B * H),
        dxp: view(heap, dxpP, T * B * G),
        dc: view(heap, dcP, B * H),
      };
      const dhv = view(heap, dh.c, B * dh.ldc);
      lstmBackward(T, (t) => backwardCellJs(d, buf, t, dhv, dh.ldc), product);
    }
    heap = be.heapF32();
    const out = be.ptr(dh0) >> 2;
    for (let b = 0; b < B; b++)
      heap.copyWithin(out + b * H, (dh.c >> 2) + b * dh.ldc, (dh.c >> 2) + b * dh.ldc + H);
  } finally {
    dh.free();
  }
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
