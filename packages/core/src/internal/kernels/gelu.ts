import {
  f32x4,
  flat,
  get,
  i32x4,
  set,
  vAbs,
  vAdd,
  vAnd,
  vDiv,
  vLoad,
  vMul,
  vOr,
  vStore,
  vSub,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import type { JsKernel } from './js-kernel.js';
import { expOf } from './lstm-simd-cells.js';
import { A, at, B, mapFloats, mapFn, OUT, runMap, V0 } from './simd-map.js';

// Exact GELU, y = x·Φ(x) = ½x·(1 + erf(x/√2)), as one kernel (wasm and cpu, through ./js-kernel) instead
// of ~5 tfjs ops forward and ~12 backward. The kernel also writes the derivative Φ(x) + x·φ(x) from the
// same erf and exponential, so the gradient is one multiply by it (recomputing erf and exp there took as
// long as the forward pass). erf is Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7, the formula tfjs' own
// Erf kernels use): erf(a) = 1 − t·(a1 + t·(a2 + … + t·a5))·e^{−a²}, t = 1/(1 + p·a), a = |u|, signed
// back; φ(x) = e^{−x²/2}/√(2π) reuses e^{−a²}. On wasm, whole f32x4 groups run as SIMD (split across
// threads when large) and the last n mod 4 floats in JS.

const P = 0.3275911;
const A5 = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** [Φ(x), φ-term x·φ(x)] of one float, in JS. */
function phi(x: number): [number, number] {
  const u = x * Math.SQRT1_2;
  const a = Math.abs(u);
  const t = 1 / (1 + P * a);
  const poly = t * (A5[0] + t * (A5[1] + t * (A5[2] + t * (A5[3] + t * A5[4]))));
  const e = Math.exp(-a * a);
  const erfA = 1 - poly * e;
  return [0.5 * (1 + (u < 0 ? -erfA : erfA)), x * e * INV_SQRT_2PI];
}

// ---- SIMD ----

const [X, U, T, E, PHI] = [V0, V0 + 1, V0 + 2, V0 + 3, V0 + 4];
const EXP = { y: V0 + 5, k: V0 + 6, r: V0 + 7 };

/** Leaves Φ(x) of local X on the stack and sets local E = e^{−x²/2}. */
const phiOfX = flat(
  flat(get(X), f32x4(Math.SQRT1_2), vMul, set(U)), // u
  flat(f32x4(1), f32x4(1), f32x4(P), get(U), vAbs, vMul, vAdd, vDiv, set(T)), // t = 1/(1 + p|u|)
  flat(get(U), vAbs, get(U), vAbs, vMul, expOf(-1, EXP), set(E)), // e^{−u²}
  // erf(|u|) = 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e
  flat(f32x4(1), get(T), f32x4(A5[4]), vMul, f32x4(A5[3]), vAdd, get(T), vMul, f32x4(A5[2]), vAdd),
  flat(get(T), vMul, f32x4(A5[1]), vAdd, get(T), vMul, f32x4(A5[0]), vAdd, get(T), vMul, get(E), vMul, vSub),
  flat(get(U), i32x4(-0x80000000), vAnd, vOr), // the sign of u
  flat(f32x4(1), vAdd, f32x4(0.5), vMul), // Φ = ½(1 + erf)
);

/** gelu(x, d, y, bytes): y = x·Φ(x) and the derivative d = Φ(x) + x·φ(x). */
const geluFns = (): FnDef[] => [
  mapFn(
    'gelu',
    flat(
      flat(at(A), vLoad(), set(X), phiOfX, set(PHI)),
      flat(at(OUT), get(X), get(PHI), vMul, vStore()),
      flat(at(B), get(PHI), get(X), get(E), vMul, f32x4(INV_SQRT_2PI), vMul, vAdd, vStore()),
    ),
  ),
];

/** MlGelu: x → y = x·Φ(x), and dy/dx = Φ(x) + x·φ(x). */
export const geluKernel: JsKernel<Record<string, never>> = {
  name: 'MlGelu',
  inputs: ['x'],
  outputShapes: ([x]) => [x!.shape, x!.shape],
  compute: ([x], [y, d]) => {
    for (let k = 0; k < x!.length; k++) {
      const [cdf, xpdf] = phi(x![k]!);
      y![k] = x![k]! * cdf;
      d![k] = cdf + xpdf;
    }
  },
  wasm: (heap, [x], [y, d], _a, [shape]) =>
    mapFloats(
      heap,
      shape!.reduce((a, b) => a * b, 1),
      (bytes) => runMap(heap.memory, 'gelu', geluFns, 'gelu', [x!, d!, y!], bytes),
      (k) => {
        const v = heap.f32[(x! >> 2) + k]!;
        const [cdf, xpdf] = phi(v);
        heap.f32[(y! >> 2) + k] = v * cdf;
        heap.f32[(d! >> 2) + k] = cdf + xpdf;
      },
    ),
};
