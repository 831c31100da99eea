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
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import type { JsKernel } from './js-kernel.js';
import { expOf } from './lstm-simd-cells.js';
import { A, at, B, mapFloats, mapFn2, OUT, runMap } from './simd-map.js';

// Exact GELU, y = x·Φ(x) = ½x·(1 + erf(x/√2)), as one kernel (wasm and cpu, through ./js-kernel) instead
// of ~5 tfjs ops forward and ~12 backward. The kernel also writes the derivative Φ(x) + x·φ(x) from the
// same erf and exponential, so the gradient is one multiply by it (recomputing erf and exp there took as
// long as the forward pass). erf is Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7, the formula tfjs' own
// Erf kernels use): erf(a) = 1 − t·(a1 + t·(a2 + … + t·a5))·e^{−a²}, t = 1/(1 + p·a), a = |u|, signed
// back; φ(x) = e^{−x²/2}/√(2π) reuses e^{−a²}. On wasm, whole f32x4 groups run as SIMD, two groups at a
// time (their chains of dependent instructions overlap: 1.25–1.6× faster than one at a time, same bits),
// split across threads when large, and the last n mod 4 floats in JS.

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

/** Locals of one lane from v0 on: x, u, t, e, Φ, and the exp's scratch. */
const locals = (v0: number) => ({
  X: v0,
  U: v0 + 1,
  T: v0 + 2,
  E: v0 + 3,
  PHI: v0 + 4,
  EXP: { y: v0 + 5, k: v0 + 6, r: v0 + 7 },
});

/** Leaves Φ(x) of local X on the stack and sets local E = e^{−x²/2}. */
const phiOfX = ({ X, U, T, E, EXP }: ReturnType<typeof locals>): Code =>
  flat(
    flat(get(X), f32x4(Math.SQRT1_2), vMul, set(U)), // u
    flat(f32x4(1), f32x4(1), f32x4(P), get(U), vAbs, vMul, vAdd, vDiv, set(T)), // t = 1/(1 + p|u|)
    flat(get(U), vAbs, get(U), vAbs, vMul, expOf(-1, EXP), set(E)), // e^{−u²}
    // erf(|u|) = 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e
    flat(f32x4(1), get(T), f32x4(A5[4]), vMul, f32x4(A5[3]), vAdd, get(T), vMul, f32x4(A5[2]), vAdd),
    flat(get(T), vMul, f32x4(A5[1]), vAdd, get(T), vMul, f32x4(A5[0]), vAdd),
    flat(get(T), vMul, get(E), vMul, vSub),
    flat(get(U), i32x4(-0x80000000), vAnd, vOr), // the sign of u
    flat(f32x4(1), vAdd, f32x4(0.5), vMul), // Φ = ½(1 + erf)
  );

/** One group of gelu at byte offset `o` from I, locals from v0: y = x·Φ(x), d = Φ(x) + x·φ(x). */
const geluLane = (o: number, v0: number): Code => {
  const l = locals(v0);
  return flat(
    flat(at(A), vLoad(o), set(l.X), phiOfX(l), set(l.PHI)),
    flat(at(OUT), get(l.X), get(l.PHI), vMul, vStore(o)),
    flat(at(B), get(l.PHI), get(l.X), get(l.E), vMul, f32x4(INV_SQRT_2PI), vMul, vAdd, vStore(o)),
  );
};

/** gelu(x, d, y, bytes): y = x·Φ(x) and the derivative d = Φ(x) + x·φ(x), two groups at a time. */
const geluFns = (): FnDef[] => [mapFn2('gelu', geluLane)];

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
