import {
  f32x4,
  flat,
  get,
  set,
  vBitselect,
  vGt,
  vLoad,
  vMax,
  vMul,
  vNe,
  vStore,
  type Code,
} from '../gemm/wasm-encoder.js';
import type { JsKernel } from './js-kernel.js';
import {
  input,
  runStock,
  size,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';
import { A, at, B, mapFloats, mapFn, OUT, runMap, V0 } from './simd-map.js';

// Relu and Step (what tfjs' Relu gradient multiplies by) of float32 tensors as SIMD maps that large
// tensors split across the GEMM's threads. The same values as the stock kernels, special ones included:
// relu(−0) = +0, relu(NaN) = NaN (f32x4.max against +0), step(x) = x > 0 ? 1 : α, NaN for NaN. Small
// tensors and other dtypes run the stock kernels. Relu's gradient, dy·step(x), is one kernel of the two
// (MlReluGrad, on wasm and cpu), with the same values: the product's one rounding is the same.

const X = V0;

/** relu(a, _, out, bytes): out = max(a, +0). */
const reluFns = () => [mapFn('relu', flat(at(OUT), at(A), vLoad(), f32x4(0), vMax, vStore()))];

/** step(x) of local X, left on the stack: x > 0 ? 1 : α, or x where x is NaN. */
const stepOfX = (alpha: number): Code =>
  flat(
    flat(get(X), f32x4(1), f32x4(alpha), get(X), f32x4(0), vGt, vBitselect),
    // bitselect(x, t, x ≠ x): NaN lanes keep x
    flat(get(X), get(X), vNe),
    vBitselect,
  );

/** step(a, _, out, bytes): out = a > 0 ? 1 : α, or a where a is NaN. */
const stepFns = (alpha: number) => () => [
  mapFn('step', flat(flat(at(A), vLoad(), set(X)), at(OUT), stepOfX(alpha), vStore())),
];

/** reluGrad(x, dy, out, bytes): out = dy · step(x) (α = 0). */
const reluGradFns = () => [
  mapFn('reluGrad', flat(flat(at(A), vLoad(), set(X)), at(OUT), at(B), vLoad(), stepOfX(0), vMul, vStore())),
];

/** The scalar forms, for the last n mod 4 floats. */
const reluJs = (x: number): number => (Number.isNaN(x) ? x : x > 0 ? x : 0);
const stepJs = (x: number, alpha: number): number => (Number.isNaN(x) ? x : x > 0 ? 1 : alpha);

function unary(args: KernelArgs, kernel: 'Relu' | 'Step'): TensorInfo {
  const x = input(args, 'x');
  const n = size(x.shape);
  if (x.dtype !== 'float32' || n < 4096) return runStock(kernel, args);
  const be = wasmBackend(args.backend);
  const alpha = Math.fround((args.attrs as { alpha?: number } | undefined)?.alpha ?? 0);
  const out = be.makeOutput(x.shape, 'float32');
  const [px, po] = [be.ptr(x), be.ptr(out)];
  const n4 = n & ~3;
  if (kernel === 'Relu') runMap(be.memory(), 'relu', reluFns, 'relu', [px, 0, po], 4 * n4);
  else runMap(be.memory(), `step:${alpha}`, stepFns(alpha), 'step', [px, 0, po], 4 * n4);
  const f = be.heapF32();
  for (let k = n4; k < n; k++) {
    const v = f[(px >> 2) + k]!;
    f[(po >> 2) + k] = kernel === 'Relu' ? reluJs(v) : stepJs(v, alpha);
  }
  return out;
}

/** @ml's wasm `Relu` and `Step` kernels. */
export const unaryConfigs: readonly WasmKernel[] = (['Relu', 'Step'] as const).map((kernel) => ({
  kernelName: kernel,
  kernelFunc: (args: KernelArgs) => unary(args, kernel),
}));

/** MlReluGrad: x, dy → dx = dy · step(x), the value of tfjs' Relu gradient in one pass. */
export const reluGradKernel: JsKernel<Record<string, never>> = {
  name: 'MlReluGrad',
  inputs: ['x', 'dy'],
  outputShapes: ([x]) => [x!.shape],
  compute: ([x, dy], [dx]) => {
    for (let k = 0; k < x!.length; k++) dx![k] = dy![k]! * stepJs(x![k]!, 0);
  },
  wasm: (heap, [x, dy], [dx], _attrs, [shape]) =>
    mapFloats(
      heap,
      size(shape!),
      (bytes) => runMap(heap.memory, 'relu-grad', reluGradFns, 'reluGrad', [x!, dy!, dx!], bytes),
      (k) => {
        const f = heap.f32;
        f[(dx! >> 2) + k] = f[(dy! >> 2) + k]! * stepJs(f[(x! >> 2) + k]!, 0);
      },
    ),
};
