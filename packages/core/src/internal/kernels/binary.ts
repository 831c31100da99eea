import * as tf from '@tensorflow/tfjs-core';

import { flat, get, vAdd, vLoad, vLoadSplat, vMul, vStore, vSub, type Code } from '../gemm/wasm-encoder.js';
import {
  input,
  runStock,
  size,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';
import { A, at, B, mapFn, OUT, runMap } from './simd-map.js';

// Add, Sub and Multiply of float32 tensors of one shape, or of a tensor and a single value, as SIMD maps
// that large tensors split across the GEMM's threads (./simd-map runMap). One IEEE operation per element,
// as in the stock kernels, so the results are the same bit for bit. Other broadcasts and dtypes go to
// the stock kernels.

type Op = 'Add' | 'Sub' | 'Multiply';
const OPS: Record<Op, { code: Code; js: (x: number, y: number) => number }> = {
  Add: { code: vAdd, js: (x, y) => x + y },
  Sub: { code: vSub, js: (x, y) => x - y },
  Multiply: { code: vMul, js: (x, y) => x * y },
};

/**
 * Per op, three maps: `same` (a[i] op b[i]), `scalarB` (a[i] op b[0]) and `scalarA` (a[0] op b[i]): each
 * (a, b, out, bytes).
 */
const fns = (op: Op) => () => [
  mapFn('same', flat(at(OUT), at(A), vLoad(), at(B), vLoad(), OPS[op].code, vStore())),
  mapFn('scalarB', flat(at(OUT), at(A), vLoad(), get(B), vLoadSplat(), OPS[op].code, vStore())),
  mapFn('scalarA', flat(at(OUT), get(A), vLoadSplat(), at(B), vLoad(), OPS[op].code, vStore())),
];

function binary(op: Op, args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const [na, nb] = [size(a.shape), size(b.shape)];
  const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  const kind = sameShape ? 'same' : nb === 1 && na > 1 ? 'scalarB' : na === 1 && nb > 1 ? 'scalarA' : null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || kind === null || Math.max(na, nb) < 4096)
    return runStock(op, args);
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
