import {
  input,
  size,
  runStock,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';
import { inPlacePool } from '../gemm/threads.js';
import { SIMD_KERNELS, simdKernelFns } from '../wasm-simd.js';
import { callHere, poolCall, splitRange, SPLIT_MIN_BYTES } from './simd-map.js';

// Transpose: the stock kernel is slow on large 2-D and batched-2-D permutations, and on those that move
// whole rows of the last axis (attention's head split and merge).
/** If `perm` on `shape` is a batch of 2-D transposes, returns [batch, rows, cols]; otherwise null. */
function asBatched2d(shape: number[], perm: number[]): [number, number, number] | null {
  const dims = shape.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  const p = perm.filter((i) => shape[i] !== 1).map((i) => dims.findIndex(([, j]) => j === i));
  // p must be [0, 1, …, r-1 | s+1…, | r…s] — a prefix kept, then two blocks swapped.
  let lead = 0;
  while (lead < p.length && p[lead] === lead) lead++;
  const rest = p.slice(lead);
  if (rest.length < 2) return null;
  const split = rest[0]!;
  const second = rest.findIndex((v) => v === lead);
  if (second <= 0) return null;
  for (let i = 0; i < second; i++) if (rest[i] !== split + i) return null;
  for (let i = second; i < rest.length; i++) if (rest[i] !== lead + i - second) return null;
  if (split + second !== dims.length) return null; // the first block must run to the last axis
  const sizes = dims.map(([d]) => d);
  return [size(sizes.slice(0, lead)), size(sizes.slice(lead, split)), size(sizes.slice(split))];
}

/**
 * If `perm` on `shape` keeps the last axis (of more than one element, a multiple of 4) and is a batch of
 * 2-D transposes on the axes before it, returns [batch, rows, cols, row length]: rows of the last axis move
 * whole (splitting or merging attention heads, [0, 2, 1, 3]). Otherwise null.
 */
function asBatchedRows(shape: number[], perm: number[]): [number, number, number, number] | null {
  const kept = perm.filter((i) => shape[i] !== 1);
  const last = shape.findLastIndex((d) => d !== 1);
  if (last < 0 || kept[kept.length - 1] !== last || shape[last]! % 4 !== 0) return null;
  const lead = asBatched2d(
    shape.slice(0, last),
    perm.filter((i) => i < last),
  );
  return lead === null ? null : [...lead, shape[last]!];
}

function transpose(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const { perm } = args.attrs as unknown as { perm: number[] };
  const typed = x.dtype === 'float32' || x.dtype === 'int32';
  const plan2d = typed ? asBatched2d(x.shape, perm) : null;
  const planRows = typed && plan2d === null ? asBatchedRows(x.shape, perm) : null;
  if ((plan2d === null && planRows === null) || size(x.shape) < 4096) return runStock('Transpose', args);
  const [batch, rows, cols, inner] = planRows ?? [...plan2d!, 1];
  const out = be.makeOutput(
    perm.map((i) => x.shape[i]!),
    x.dtype,
  );
  const src = be.ptr(x);
  const dst = be.ptr(out);
  const name = planRows === null ? 'transpose' : 'transposeRows';
  const matrix = rows * cols * inner * 4;
  const at = (i: number) =>
    planRows === null
      ? [src + i * matrix, dst + i * matrix, rows, cols]
      : [src + i * matrix, dst + i * matrix, rows, cols, inner * 4];
  const memory = be.memory();
  const pool = inPlacePool(memory);
  if (pool !== null && batch >= pool.threads && batch * matrix >= SPLIT_MIN_BYTES) {
    // A batch of transposes: each part transposes its share of the matrices.
    pool.calls(
      Array.from({ length: pool.threads }, (_, t) => {
        const [b0, b1] = splitRange(batch, pool.threads, t, 1);
        return Array.from({ length: b1 - b0 }, (_, i) =>
          poolCall(memory, SIMD_KERNELS, simdKernelFns, name, at(b0 + i)),
        );
      }),
      (c) => callHere(memory, c),
    );
    return out;
  }
  for (let i = 0; i < batch; i++)
    callHere(memory, poolCall(memory, SIMD_KERNELS, simdKernelFns, name, at(i)));
  return out;
}

/** @ml's wasm `Transpose` kernel. */
export const transposeConfig: WasmKernel = { kernelName: 'Transpose', kernelFunc: transpose };
