import { GEMM_FUNCTIONS, MR } from '../gemm/gemm-module.js';
import {
  computeRows,
  kernelCalls,
  packA,
  packB,
  packedASize,
  packedBSize,
  panels,
  rowBlocks,
  type Operand,
  type PackedProduct,
} from '../gemm/gemm.js';
import type { PoolCall } from '../gemm/pool.js';
import { gemmExports } from '../gemm/probe.js';
import { inPlacePool } from '../gemm/threads.js';
import type { JsKernel, WasmHeap } from './js-kernel.js';
import {
  backwardCellJs,
  forwardCellJs,
  jsGemm,
  lstmBackward,
  lstmForward,
  transpose2d,
  type LstmDims,
} from './lstm-sequence-math.js';
import { cellsCall, lstmSimdCells, paddedRow, simdCellsFit } from './lstm-simd-cells.js';
import { callHere } from './simd-map.js';

const PACK_A = GEMM_FUNCTIONS.indexOf('packA');
const KERNEL = GEMM_FUNCTIONS.indexOf('kernel');

// @ml's fused LSTM sequence kernels (wasm and cpu, through ./js-kernel): all T steps of the recurrence
// (MlLstmSequence) and of its backpropagation through time (MlLstmSequenceGrad) in one kernel call each.
// On wasm they work in place on the heap: the recurrent weight is packed once per call for @ml's GEMM
// (../gemm, FMA where the engine has relaxed SIMD), so a step's product packs only its [B, H] or [B, 4H]
// left operand, and a step's elementwise work is one SIMD pass (./lstm-simd-cells). On cpu, and on wasm
// when H is not a multiple of 4, the step loops of ./lstm-sequence-math run with a JS product and JS
// cells. tfjs' per-op dispatch (tens of µs on wasm) would otherwise cost ~20 ops per step.

/** The sizes of a sequence from its input projection [T, B, 4H]. */
export const lstmDims = (xpShape: readonly number[]): LstmDims => ({
  T: xpShape[0]!,
  B: xpShape[1]!,
  H: xpShape[2]! / 4,
});

/** Per-step multiply-adds from which a sequence's steps are split across threads by batch rows. */
export const LSTM_SPLIT_MIN_MACS = 1 << 20;

/** Parts of the batch per thread when a sequence is split (more parts than threads: a late thread takes fewer). */
const LSTM_PARTS_PER_THREAD = 2;

/**
 * Batch rows [r0, r1) of each part when the steps of B rows (k·n multiply-adds each) are split across the
 * pool working in place on `memory`, in whole tiles of rows; null when they are not. Every row of a
 * sequence depends only on the same row of the previous step, so a part runs all the steps of its rows
 * alone: one round of the pool per sequence.
 */
function rowParts(memory: WebAssembly.Memory, B: number, k: number, n: number): [number, number][] | null {
  const pool = inPlacePool(memory);
  if (pool === null || B * k * n < LSTM_SPLIT_MIN_MACS || rowBlocks(B) < pool.threads) return null;
  const parts = Math.min(rowBlocks(B), LSTM_PARTS_PER_THREAD * pool.threads);
  return Array.from({ length: parts }, (_, u) => {
    const [b0, b1] = [u, u + 1].map((v) => Math.floor((rowBlocks(B) * v) / parts) * MR);
    return [b0!, Math.min(b1!, B)];
  });
}

/** Runs the parts of a sequence (`calls(r0, r1)`: all the steps of rows [r0, r1)) at once on the pool. */
function runParts(
  memory: WebAssembly.Memory,
  parts: [number, number][],
  calls: (r0: number, r1: number) => PoolCall[],
) {
  inPlacePool(memory)!.calls(
    parts.map(([r0, r1]) => (r1 > r0 ? calls(r0, r1) : [])),
    (c) => callHere(memory, c),
  );
}

/**
 * The per-step product C [B, n] (row stride paddedRow(n), rows padded to whole tiles) = A·W of a
 * sequence, with W [k, n] packed once into kernel scratch: `run(aPtr, aRowStride)` packs A [B, k] and
 * computes; `calls(…, r0, r1)` are the pool calls doing the same for rows [r0, r1) (r0 a whole tile).
 */
function stepProduct(heap: WasmHeap, w: Operand, B: number, k: number, n: number) {
  const ex = gemmExports(heap.memory);
  const pb = heap.scratch(packedBSize(k, n));
  const pa = heap.scratch(packedASize(B, k));
  const ldc = paddedRow(n);
  const pc = heap.scratch(rowBlocks(B) * MR * ldc);
  packB(ex, w, pb, k, n);
  const p: PackedProduct = { pa, pb, pc, ldc, m: B, n, k };
  return {
    c: pc,
    ldc,
    run(aPtr: number, aRowStride: number): void {
      packA(ex, { ptr: aPtr, rowStride: aRowStride, colStride: 1 }, pa, B, k);
      computeRows(ex, p, 0, rowBlocks(B));
    },
    calls(aPtr: number, aRowStride: number, r0: number, r1: number): PoolCall[] {
      const out: PoolCall[] = [];
      for (let i = r0; i < r1; i += MR)
        out.push({
          module: null,
          fn: PACK_A,
          args: [aPtr + 4 * i * aRowStride, pa + 4 * i * k, Math.min(MR, r1 - i), k, 4 * aRowStride, 4],
        });
      kernelCalls(p, r0 / MR, Math.ceil(r1 / MR), 0, panels(n), (...args) =>
        out.push({ module: null, fn: KERNEL, args }),
      );
      return out;
    },
  };
}

/** Forward: xp [T, B, 4H], whh [4H, H], h0 [B, H], c0 [B, H] → hs [T, B, H] (every h_t), cs [T, B, H] (every c_t), gates [T, B, 4H], tanhC [T, B, H]. */
export const lstmSequenceKernel: JsKernel<Record<string, never>> = {
  name: 'MlLstmSequence',
  inputs: ['xp', 'whh', 'h0', 'c0'],
  outputShapes: ([xp]) => {
    const { T, B, H } = lstmDims(xp!.shape);
    return [
      [T, B, H],
      [T, B, H],
      [T, B, 4 * H],
      [T, B, H],
    ];
  },
  compute: ([xp, whh, h0, c0], [hs, cs, gates, tanhC], _a, shapes) => {
    const d = lstmDims(shapes[2]!);
    const { T, B, H } = d;
    const G = 4 * H;
    const whhT = new Float32Array(G * H);
    transpose2d(whh!, whhT, G, H);
    const buf = { xp: xp!, c0: c0!, hs: hs!, cs: cs!, gates: gates!, tanhC: tanhC! };
    const z = new Float32Array(B * G);
    lstmForward(
      T,
      (t) => jsGemm(t === 0 ? h0! : hs!, t === 0 ? 0 : (t - 1) * B * H, whhT, z, 0, B, G, H),
      (t) => forwardCellJs(d, buf, t, z, G),
    );
  },
  wasm: (heap, [xp, whh, h0, c0], [hs, cs, gates, tanhC], _a, shapes) => {
    const { T, B, H } = lstmDims(shapes[2]!);
    if (!simdCellsFit(H)) return false;
    const G = 4 * H;
    // z = h_{t−1}·W_hhᵀ: W_hhᵀ [H, 4H] is whh read with swapped strides.
    const z = stepProduct(heap, { ptr: whh!, rowStride: 1, colStride: H }, B, H, G);
    const cells = lstmSimdCells(heap.memory, H);
    const parts = rowParts(heap.memory, B, H, G);
    if (parts !== null) {
      runParts(heap.memory, parts, (r0, r1) => {
        const calls: PoolCall[] = [];
        for (let t = 0; t < T; t++) {
          const hPrev = t === 0 ? h0! : hs! + 4 * (t - 1) * B * H;
          const cPrev = t === 0 ? c0! : cs! + 4 * (t - 1) * B * H;
          calls.push(...z.calls(hPrev, H, r0, r1));
          calls.push(
            cellsCall(heap.memory, H, 'forward', [
              z.c + 4 * r0 * z.ldc,
              xp! + 4 * (t * B + r0) * G,
              cPrev + 4 * r0 * H,
              gates! + 4 * (t * B + r0) * G,
              cs! + 4 * (t * B + r0) * H,
              tanhC! + 4 * (t * B + r0) * H,
              hs! + 4 * (t * B + r0) * H,
              r1 - r0,
            ]),
          );
        }
        return calls;
      });
      return true;
    }
    lstmForward(
      T,
      (t) => z.run(t === 0 ? h0! : hs! + 4 * (t - 1) * B * H, H),
      (t) =>
        cells.forward(
          z.c,
          xp! + 4 * t * B * G,
          t === 0 ? c0! : cs! + 4 * (t - 1) * B * H,
          gates! + 4 * t * B * G,
          cs! + 4 * t * B * H,
          tanhC! + 4 * t * B * H,
          hs! + 4 * t * B * H,
          B,
        ),
    );
    return true;
  },
};

/**
 * Backward: dyH, dyC [T, B, H] (the gradients reaching every h_t and every c_t; either may be absent:
 * zeros), whh, c0, cs, gates, tanhC → dxp [T, B, 4H], dh0 [B, H], dc0 [B, H].
 */
export const lstmSequenceGradKernel: JsKernel<Record<string, never>> = {
  name: 'MlLstmSequenceGrad',
  inputs: ['dyH', 'dyC', 'whh', 'c0', 'cs', 'gates', 'tanhC'],
  outputShapes: (ins) => {
    const gates = ins[ins.length - 2]!;
    const { B, H } = lstmDims(gates.shape);
    return [gates.shape, [B, H], [B, H]];
  },
  compute: ([dyH, dyC, whh, c0, cs, gates, tanhC], [dxp, dh0, dc0], _a, shapes) => {
    const d = lstmDims(shapes[0]!);
    const { T, B, H } = d;
    const G = 4 * H;
    dc0!.fill(0);
    dh0!.fill(0); // the gradient reaching h_t through step t + 1; dh0 at the end
    const buf = {
      dyH: dyH ?? null,
      dyC: dyC ?? null,
      c0: c0!,
      cs: cs!,
      gates: gates!,
      tanhC: tanhC!,
      dxp: dxp!,
      dc: dc0!,
    };
    lstmBackward(
      T,
      (t) => backwardCellJs(d, buf, t, dh0!, H),
      (t) => jsGemm(dxp!, t * B * G, whh!, dh0!, 0, B, H, G),
    );
  },
  wasm: (heap, [dyHIn, dyCIn, whh, c0, cs, gates, tanhC], [dxp, dh0, dc0], _a, shapes) => {
    const { T, B, H } = lstmDims(shapes[0]!);
    if (!simdCellsFit(H)) return false;
    const G = 4 * H;
    // An absent gradient reads as zeros (one buffer of T·B·H serves both).
    const zeros = dyHIn === null || dyCIn === null ? heap.scratch(T * B * H) : 0;
    // dh = dA_t·W_hh, the gradient reaching h_{t−1} through step t.
    const dh = stepProduct(heap, { ptr: whh!, rowStride: H, colStride: 1 }, B, G, H);
    const f32 = heap.f32; // after the scratch allocations
    if (zeros !== 0) f32.fill(0, zeros >> 2, (zeros >> 2) + T * B * H);
    const [dyH, dyC] = [dyHIn ?? zeros, dyCIn ?? zeros];
    f32.fill(0, dh.c >> 2, (dh.c >> 2) + B * dh.ldc); // nothing reaches h_{T−1} from a step T
    f32.fill(0, dc0! >> 2, (dc0! >> 2) + B * H);
    const cells = lstmSimdCells(heap.memory, H);
    const parts = rowParts(heap.memory, B, G, H);
    if (parts !== null) {
      runParts(heap.memory, parts, (r0, r1) => {
        const calls: PoolCall[] = [];
        for (let t = T - 1; t >= 0; t--) {
          const cPrev = t === 0 ? c0! : cs! + 4 * (t - 1) * B * H;
          calls.push(
            cellsCall(heap.memory, H, 'backward', [
              dyH + 4 * (t * B + r0) * H,
              dyC + 4 * (t * B + r0) * H,
              dh.c + 4 * r0 * dh.ldc,
              dc0! + 4 * r0 * H,
              gates! + 4 * (t * B + r0) * G,
              tanhC! + 4 * (t * B + r0) * H,
              cPrev + 4 * r0 * H,
              dxp! + 4 * (t * B + r0) * G,
              r1 - r0,
            ]),
          );
          calls.push(...dh.calls(dxp! + 4 * t * B * G, G, r0, r1));
        }
        return calls;
      });
    } else
      lstmBackward(
        T,
        (t) =>
          cells.backward(
            dyH + 4 * t * B * H,
            dyC + 4 * t * B * H,
            dh.c,
            dc0!,
            gates! + 4 * t * B * G,
            tanhC! + 4 * t * B * H,
            t === 0 ? c0! : cs! + 4 * (t - 1) * B * H,
            dxp! + 4 * t * B * G,
            B,
          ),
        (t) => dh.run(dxp! + 4 * t * B * G, G),
      );
    const out = heap.f32;
    for (let b = 0; b < B; b++) {
      const src = (dh.c >> 2) + b * dh.ldc;
      out.copyWithin((dh0! >> 2) + b * H, src, src + H);
    }
    return true;
  },
};
