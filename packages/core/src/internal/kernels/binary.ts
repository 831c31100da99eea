import * as tf from '@tensorflow/tfjs-core';

import {
  add,
  eq,
  flat,
  get,
  I32,
  i32,
  inc,
  ltS,
  select,
  set,
  vAdd,
  vLoad,
  vLoadSplat,
  vMul,
  vStore,
  vSub,
  whileLoop,
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import {
  input,
  runStock,
  size,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';
import { A, at, B, BYTES, mapFn, OUT, runMap, splitCall, splitRange } from './simd-map.js';

// Add, Sub and Multiply of float32 tensors of one shape, of a tensor and a single value, or of a tensor
// and a row repeated along its leading axes (a bias), as SIMD maps that large tensors split across the
// GEMM's threads (./simd-map). One IEEE operation per element, as in the stock kernels, so the results
// are the same bit for bit. Other broadcasts and dtypes go to the stock kernels.

type Op = 'Add' | 'Sub' | 'Multiply';
const OPS: Record<Op, { code: Code; js: (x: number, y: number) => number }> = {
  Add: { code: vAdd, js: (x, y) => x + y },
  Sub: { code: vSub, js: (x, y) => x - y },
  Multiply: { code: vMul, js: (x, y) => x * y },
};

/**
 * rowB(a, b, out, bytes, rowBytes): out[i] = a[i] op b[i mod row] (rowA: a[i mod row] op b[i]), over
 * `bytes` from a whole row on (rowBytes a multiple of 16).
 */
function rowFn(name: 'rowA' | 'rowB', op: Op): FnDef {
  const [ROW_BYTES, K, J] = [4, 5, 6]; // param; locals: byte offset, byte offset within the row
  const addr = (p: number, offset: number): Code => flat(get(p), get(offset), add);
  const [x, y] = name === 'rowA' ? [addr(A, J), addr(B, K)] : [addr(A, K), addr(B, J)];
  return {
    name,
    params: 5,
    locals: [[2, I32]],
    body: flat(
      i32(0),
      set(K),
      i32(0),
      set(J),
      whileLoop(
        flat(get(K), get(BYTES), ltS),
        flat(addr(OUT, K), x, vLoad(), y, vLoad(), OPS[op].code, vStore()),
        inc(K, i32(16)),
        inc(J, i32(16)),
        // J = J == rowBytes ? 0 : J
        flat(i32(0), get(J), get(J), get(ROW_BYTES), eq, select, set(J)),
      ),
    ),
  };
}

/**
 * Per op, five functions: the maps `same` (a[i] op b[i]), `scalarB` (a[i] op b[0]) and `scalarA` (a[0]
 * op b[i]), each (a, b, out, bytes), and `rowA`, `rowB` (./rowFn).
 */
const fns = (op: Op) => () => [
  mapFn('same', flat(at(OUT), at(A), vLoad(), at(B), vLoad(), OPS[op].code, vStore())),
  mapFn('scalarB', flat(at(OUT), at(A), vLoad(), get(B), vLoadSplat(), OPS[op].code, vStore())),
  mapFn('scalarA', flat(at(OUT), get(A), vLoadSplat(), at(B), vLoad(), OPS[op].code, vStore())),
  rowFn('rowA', op),
  rowFn('rowB', op),
];

/** Floats per row when `row` repeats along the leading axes of `full` (its shape is full's last axes); else 0. */
function rowLength(row: readonly number[], full: readonly number[]): number {
  const dims = row.slice(row.findIndex((d) => d !== 1));
  if (dims.length === 0 || dims.length >= full.length) return 0;
  const tail = full.slice(full.length - dims.length);
  return dims.every((d, i) => d === tail[i]) ? size(dims) : 0;
}

/** `op` of a [rows, c] tensor and a row of c (a at rowA or b), c a multiple of 4, split by rows when large. */
function rowBroadcast(args: KernelArgs, op: Op, kind: 'rowA' | 'rowB', c: number): TensorInfo {
  const be = wasmBackend(args.backend);
  const [a, b] = [input(args, 'a'), input(args, 'b')];
  const full = kind === 'rowA' ? b : a;
  const out = be.makeOutput(full.shape, 'float32');
  const [pa, pb, po] = [be.ptr(a), be.ptr(b), be.ptr(out)];
  const rows = size(full.shape) / c;
  const rowBytes = 4 * c;
  const part = (r0: number, r1: number): number[] => {
    const o = r0 * rowBytes;
    return [
      kind === 'rowA' ? pa : pa + o,
      kind === 'rowB' ? pb : pb + o,
      po + o,
      (r1 - r0) * rowBytes,
      rowBytes,
    ];
  };
  splitCall(
    be.memory(),
    `binary:${op}`,
    fns(op),
    kind,
    rows * rowBytes,
    (threads) =>
      Array.from({ length: threads }, (_, t) => {
        const [r0, r1] = splitRange(rows, threads, t, 1);
        return r1 > r0 ? part(r0, r1) : null;
      }),
    part(0, rows),
  );
  return out;
}

function binary(op: Op, args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const [na, nb] = [size(a.shape), size(b.shape)];
  const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  const kind = sameShape ? 'same' : nb === 1 && na > 1 ? 'scalarB' : na === 1 && nb > 1 ? 'scalarA' : null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || Math.max(na, nb) < 4096) return runStock(op, args);
  if (kind === null) {
    const [cb, ca] = [rowLength(b.shape, a.shape), rowLength(a.shape, b.shape)];
    if (cb > 0 && cb % 4 === 0) return rowBroadcast(args, op, 'rowB', cb);
    if (ca > 0 && ca % 4 === 0) return rowBroadcast(args, op, 'rowA', ca);
    return runStock(op, args);
  }
  const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const n = Math.max(na, nb);
  const out = be.makeOutput(shape, 'float32');
  const [pa, pb, po] = [be.ptr(a), be.ptr(b), be.ptr(out)];
  const n4 = n & ~3;
  // A single value stays put while the other operand and the output advance.
  const advance: [boolean, boolean, boolean] = [kind !== 'scalarA', kind !== 'scalarB', true];
  if (n4 > 0) runMap(be.memory(), `binary:${op}`, fns(op), kind, [pa, pb, po], 4 * n4, advance);
  const f = be.heapF32();
  for (let k = n4; k < n; k++)
    f[(po >> 2) + k] = OPS[op].js(
      f[(pa >> 2) + (kind === 'scalarA' ? 0 : k)]!,
      f[(pb >> 2) + (kind === 'scalarB' ? 0 : k)]!,
    );
  return out;
}

/** @ml's wasm `Add`, `Sub` and `Multiply` kernels. */
export const binaryConfigs: readonly WasmKernel[] = (['Add', 'Sub', 'Multiply'] as const).map((op) => ({
  kernelName: op,
  kernelFunc: (args: KernelArgs) => binary(op, args),
}));
