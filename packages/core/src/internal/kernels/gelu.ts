import { SHARED_MAX_PAGES } from '../gemm/probe.js';
import {
  add,
  encodeModule,
  flat,
  get,
  I32,
  i32,
  inc,
  ltS,
  set,
  V128,
  vAdd,
  vLoad,
  vMul,
  vStore,
  whileLoop,
  type Code,
  type FnDef,
  uleb,
} from '../gemm/wasm-encoder.js';
import type { JsKernel, WasmHeap } from './js-kernel.js';
import { expOf } from './lstm-simd-cells.js';

// Exact GELU, y = x·Φ(x) = ½x·(1 + erf(x/√2)), forward and backward as one kernel each (wasm and cpu,
// through ./js-kernel) instead of ~5 tfjs ops forward and ~12 backward. erf is Abramowitz & Stegun 7.1.26
// (|error| ≤ 1.5e-7, the formula tfjs' own Erf kernels use): erf(a) = 1 − t·(a1 + t·(a2 + … + t·a5))·e^{−a²},
// t = 1/(1 + p·a), a = |u|, signed back. The backward reuses e^{−a²} = e^{−x²/2}:
// dy·(Φ(x) + x·φ(x)), φ(x) = e^{−x²/2}/√(2π). On wasm, whole f32x4 groups run as SIMD and the last n mod 4
// floats in JS.

const P = 0.3275911;
const A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** [Φ(x), φ-term x·φ(x)] of one float, in JS. */
function phi(x: number): [number, number] {
  const u = x * Math.SQRT1_2;
  const a = Math.abs(u);
  const t = 1 / (1 + P * a);
  const poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
  const e = Math.exp(-a * a);
  const erfA = 1 - poly * e;
  return [0.5 * (1 + (u < 0 ? -erfA : erfA)), x * e * INV_SQRT_2PI];
}

// ---- SIMD ----
const simd = (op: number): Code => [0xfd, ...uleb(op)];
const f32x4 = (v: number): Code => [...simd(0x0c), ...new Uint8Array(new Float32Array([v, v, v, v]).buffer)];
const i32x4 = (v: number): Code => [...simd(0x0c), ...new Uint8Array(new Int32Array([v, v, v, v]).buffer)];
const vSub = simd(0xe5);
const vDiv = simd(0xe7);
const vAbs = simd(0xe0);
const vAnd: Code = simd(0x4e);
const vOr: Code = simd(0x50);

/** Locals shared by both functions: params 0 … 3, then i (i32), then v128s. */
const [I, X, U, T, E, PHI] = [4, 5, 6, 7, 8, 9];
const EXP = { y: 10, k: 11, r: 12 };

/** Leaves Φ(x) of local X on the stack and sets local E = e^{−x²/2}. */
const phiOfX = flat(
  flat(get(X), f32x4(Math.SQRT1_2), vMul, set(U)), // u
  flat(f32x4(1), f32x4(1), f32x4(P), get(U), vAbs, vMul, vAdd, vDiv, set(T)), // t = 1/(1 + p|u|)
  flat(get(U), vAbs, get(U), vAbs, vMul, expOf(-1, EXP), set(E)), // e^{−u²}
  // erf(|u|) = 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e
  flat(f32x4(1), get(T), f32x4(A[4]), vMul, f32x4(A[3]), vAdd, get(T), vMul, f32x4(A[2]), vAdd),
  flat(get(T), vMul, f32x4(A[1]), vAdd, get(T), vMul, f32x4(A[0]), vAdd, get(T), vMul, get(E), vMul, vSub),
  flat(get(U), i32x4(-0x80000000), vAnd, vOr), // the sign of u
  flat(f32x4(1), vAdd, f32x4(0.5), vMul), // Φ = ½(1 + erf)
);

/** fn(src, src2, dst, bytes): over `bytes` (a multiple of 16) from each pointer. */
function mapFn(name: string, lane: Code): FnDef {
  return {
    name,
    params: 4,
    locals: [
      [1, I32],
      [8, V128],
    ],
    body: flat(i32(0), set(I), whileLoop(flat(get(I), get(3), ltS), lane, inc(I, i32(16)))),
  };
}

const at = (p: number): Code => flat(get(p), get(I), add);

/** forward(x, _, y, bytes): y = x·Φ(x). */
const forwardFn = mapFn('forward', flat(at(0), vLoad(), set(X), at(2), get(X), phiOfX, vMul, vStore()));

/** backward(x, dy, dx, bytes): dx = dy·(Φ(x) + x·φ(x)). */
const backwardFn = mapFn(
  'backward',
  flat(
    flat(at(0), vLoad(), set(X), phiOfX, set(PHI)),
    at(2),
    flat(at(1), vLoad(), get(PHI), get(X), get(E), vMul, f32x4(INV_SQRT_2PI), vMul, vAdd, vMul),
    vStore(),
  ),
);

interface GeluSimd {
  forward(x: number, unused: number, y: number, bytes: number): void;
  backward(x: number, dy: number, dx: number, bytes: number): void;
}

const instances = new WeakMap<WebAssembly.Memory, GeluSimd>();

function geluSimd(memory: WebAssembly.Memory): GeluSimd {
  let m = instances.get(memory);
  if (m === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = encodeModule([forwardFn, backwardFn], { shared, maxPages: SHARED_MAX_PAGES });
    m = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
      .exports as unknown as GeluSimd;
    instances.set(memory, m);
  }
  return m;
}

/** Runs `simd` over whole f32x4 groups of n floats, `tail` (JS, from float index k) over the rest. */
function split(
  heap: WasmHeap,
  n: number,
  simdPart: (bytes: number) => void,
  tail: (k: number) => void,
): true {
  const n4 = n & ~3;
  if (n4 > 0) simdPart(4 * n4);
  for (let k = n4; k < n; k++) tail(k);
  return true;
}

/** MlGelu: x → y = x·Φ(x). */
export const geluKernel: JsKernel<Record<string, never>> = {
  name: 'MlGelu',
  inputs: ['x'],
  outputShapes: ([x]) => [x!.shape],
  compute: ([x], [y]) => {
    for (let k = 0; k < x!.length; k++) y![k] = x![k]! * phi(x![k]!)[0];
  },
  wasm: (heap, [x], [y], _a, [shape]) =>
    split(
      heap,
      shape!.reduce((a, b) => a * b, 1),
      (bytes) => geluSimd(heap.memory).forward(x!, 0, y!, bytes),
      (k) => {
        const v = heap.f32[(x! >> 2) + k]!;
        heap.f32[(y! >> 2) + k] = v * phi(v)[0];
      },
    ),
};

/** MlGeluGrad: dy, x → dx = dy·(Φ(x) + x·φ(x)). */
export const geluGradKernel: JsKernel<Record<string, never>> = {
  name: 'MlGeluGrad',
  inputs: ['dy', 'x'],
  outputShapes: ([, x]) => [x!.shape],
  compute: ([dy, x], [dx]) => {
    for (let k = 0; k < x!.length; k++) {
      const [cdf, xpdf] = phi(x![k]!);
      dx![k] = dy![k]! * (cdf + xpdf);
    }
  },
  wasm: (heap, [dy, x], [dx], _a, [shape]) =>
    split(
      heap,
      shape!.reduce((a, b) => a * b, 1),
      (bytes) => geluSimd(heap.memory).backward(x!, dy!, dx!, bytes),
      (k) => {
        const [cdf, xpdf] = phi(heap.f32[(x! >> 2) + k]!);
        heap.f32[(dx! >> 2) + k] = heap.f32[(dy! >> 2) + k]! * (cdf + xpdf);
      },
    ),
};
