import {
  f32x4,
  flat,
  get,
  set,
  vAnd,
  vBitselect,
  vGt,
  vLoad,
  vMul,
  vStore,
  type Code,
} from '../gemm/wasm-encoder.js';
import type { JsKernel } from './js-kernel.js';
import { A, at, B, mapFloats, mapFn, OUT, runMap, V0 } from './simd-map.js';

// Leaky ReLU, y = x > 0 ? x : α·x, and its gradient dx = x > 0 ? dy : α·dy (PyTorch's, and tfjs': the slope
// at 0 is α), one kernel each on wasm and cpu (./js-kernel). tfjs-backend-wasm's LeakyRelu is a scalar loop
// and its gradient takes three more kernels (Greater, Multiply, Select); here both are one SIMD pass
// (compare, then bit-select), compiled per α. ReLU is α = 0 (x > 0 ? x : 0, gradient 0 at 0, as tfjs and
// PyTorch).

/** Attributes: the negative slope α. */
export interface LeakyReluAttrs {
  alpha: number;
}

const [X, V] = [V0, V0 + 1];

/** bitselect(v, α·v, x > 0) of locals V (value) and X (sign source), left on the stack; α = 0 (ReLU) masks to +0. */
const select = (alpha: number): Code =>
  alpha === 0
    ? flat(get(V), get(X), f32x4(0), vGt, vAnd)
    : flat(get(V), get(V), f32x4(alpha), vMul, get(X), f32x4(0), vGt, vBitselect);

/** The scalar form: v where x > 0, else α·v (0 for ReLU, also for v = ±∞). */
const pick = (x: number, v: number, alpha: number): number => (x > 0 ? v : alpha === 0 ? 0 : alpha * v);

const fns = (alpha: number) => () => [
  mapFn('forward', flat(at(A), vLoad(), set(X), get(X), set(V), at(OUT), select(alpha), vStore())),
  mapFn('backward', flat(at(A), vLoad(), set(X), at(B), vLoad(), set(V), at(OUT), select(alpha), vStore())),
];

/** Runs map `name` (a multiple of 16 bytes) for slope α, split across threads when large. */
const leakyMap = (
  memory: WebAssembly.Memory,
  alpha: number,
  name: 'forward' | 'backward',
  ptrs: [number, number, number],
  bytes: number,
) => runMap(memory, `leaky-relu:${alpha}`, fns(Math.fround(alpha)), name, ptrs, bytes);

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** MlLeakyRelu: x → y. */
export const leakyReluKernel: JsKernel<LeakyReluAttrs> = {
  name: 'MlLeakyRelu',
  inputs: ['x'],
  outputShapes: ([x]) => [x!.shape],
  compute: ([x], [y], attrs) => {
    const alpha = Math.fround(attrs.alpha); // α as a float32, as tfjs' ops use it
    for (let k = 0; k < x!.length; k++) y![k] = pick(x![k]!, x![k]!, alpha);
  },
  wasm: (heap, [x], [y], { alpha }, [shape]) =>
    mapFloats(
      heap,
      size(shape!),
      (bytes) => leakyMap(heap.memory, alpha, 'forward', [x!, 0, y!], bytes),
      (k) => {
        const v = heap.f32[(x! >> 2) + k]!;
        heap.f32[(y! >> 2) + k] = pick(v, v, Math.fround(alpha));
      },
    ),
};

/** MlLeakyReluGrad: x, dy → dx. */
export const leakyReluGradKernel: JsKernel<LeakyReluAttrs> = {
  name: 'MlLeakyReluGrad',
  inputs: ['x', 'dy'],
  outputShapes: ([x]) => [x!.shape],
  compute: ([x, dy], [dx], attrs) => {
    const alpha = Math.fround(attrs.alpha);
    for (let k = 0; k < x!.length; k++) dx![k] = pick(x![k]!, dy![k]!, alpha);
  },
  wasm: (heap, [x, dy], [dx], { alpha }, [shape]) =>
    mapFloats(
      heap,
      size(shape!),
      (bytes) => leakyMap(heap.memory, alpha, 'backward', [x!, dy!, dx!], bytes),
      (k) => {
        const d = heap.f32[(dy! >> 2) + k]!;
        heap.f32[(dx! >> 2) + k] = pick(heap.f32[(x! >> 2) + k]!, d, Math.fround(alpha));
      },
    ),
};
