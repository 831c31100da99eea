import * as tf from '@tensorflow/tfjs-core';

import { runGemm } from '../gemm/threads.js';
import {
  input,
  size,
  runStock,
  wasmBackend,
  type KernelArgs,
  type WasmBackend,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

// BatchMatMul on @ml's own GEMM (../gemm): 2-D, transposed and broadcast-batched products, with FMA where
// the engine has relaxed SIMD and split across threads when large (useBackend's `threads`). The stock
// kernel runs transposes and batches 10–40× slower, and its XNNPACK GEMM re-packs B for every new tensor.

/** Index of each broadcast batch element into an operand with batch shape `shape`. */
function batchOffsets(outBatch: number[], shape: number[]): number[] {
  const total = size(outBatch);
  const lead = outBatch.length - shape.length;
  const strides: number[] = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  const out: number[] = [];
  const idx = new Array<number>(outBatch.length).fill(0);
  for (let t = 0; t < total; t++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) off += idx[lead + d]! * strides[d]!;
    out.push(off);
    for (let d = outBatch.length - 1; d >= 0; d--) {
      if (++idx[d]! < outBatch[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * A·B (with tfjs' transpose flags and broadcast batches) on @ml's GEMM into a new tensor, plus `bias`
 * (n floats, added to every row) when given.
 */
export function gemmMatMul(
  be: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias?: TensorInfo,
): TensorInfo {
  const ar = a.shape.length;
  const br = b.shape.length;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const m = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const k = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const n = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!;
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape.join(',')} and ${b.shape.join(',')} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const out = be.makeOutput([...outBatch, m, n], 'float32');
  const a2 = { ptr: be.ptr(a), rowStride: transposeA ? 1 : k, colStride: transposeA ? m : 1 };
  const b2 = { ptr: be.ptr(b), rowStride: transposeB ? 1 : n, colStride: transposeB ? k : 1 };
  // [B, M, K]·[K, N] (B broadcast, A not transposed) is one product over B·M rows.
  const rows = !transposeA && size(bBatch) === 1 && size(aBatch) === size(outBatch) ? size(outBatch) : 1;
  runGemm(
    be,
    {
      m: m * rows,
      n,
      k,
      a: a2,
      b: b2,
      aOffsets: rows > 1 ? [0] : batchOffsets(outBatch, aBatch).map((o) => o * m * k),
      bOffsets: rows > 1 ? [0] : batchOffsets(outBatch, bBatch).map((o) => o * k * n),
      c: be.ptr(out),
      bias: bias === undefined ? undefined : be.ptr(bias),
    },
    size(a.shape),
    size(b.shape),
  );
  return out;
}

function batchMatMul(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return runStock('BatchMatMul', args); // its dtype error
  return gemmMatMul(be, a, b, transposeA, transposeB);
}

/** @ml's wasm `BatchMatMul` kernel. */
export const batchMatMulConfig: WasmKernel = { kernelName: 'BatchMatMul', kernelFunc: batchMatMul };
